"""An agent's reply carries the key of its submission, unique per organization where given.

On PostgreSQL the unique index is built CONCURRENTLY, outside a transaction:
messages are the largest table, and a plain CREATE INDEX would hold up every
mail coming in for the whole build.
"""

from django.db import migrations, models

CONSTRAINT = models.UniqueConstraint(
    condition=~models.Q(idempotency_key=""),
    fields=("organization", "idempotency_key"),
    name="message_idempotency_key",
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_constraint(apps.get_model("threads", "Message"), CONSTRAINT)
        return
    schema_editor.execute(
        f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {CONSTRAINT.name} "
        "ON threads_message (organization_id, idempotency_key) WHERE NOT (idempotency_key = '')"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.remove_constraint(apps.get_model("threads", "Message"), CONSTRAINT)
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {CONSTRAINT.name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("threads", "0013_suppression_organization_required")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddConstraint(model_name="message", constraint=CONSTRAINT)],
            database_operations=[migrations.RunPython(create_index, drop_index, elidable=False)],
        ),
    ]
