"""A ticket records when its deadlines were computed, for the SLA sweep's catch-up.

After a policy or calendar change, the sweep recomputes the open tickets whose
deadlines predate it, found per policy through this index. Existing tickets
start with none recorded, so the first sweep recomputes them once.

On PostgreSQL the index is built CONCURRENTLY, outside a transaction: a plain
CREATE INDEX would hold up every ticket write for the whole build.
"""

from django.db import migrations, models

INDEX = models.Index(fields=["sla_policy", "sla_computed_at"], name="ticket_sla_computed")


def create_index(apps, schema_editor):
    model = apps.get_model("tickets", "Ticket")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(model, INDEX, concurrently=True)
    else:
        schema_editor.add_index(model, INDEX)


def drop_index(apps, schema_editor):
    model = apps.get_model("tickets", "Ticket")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(model, INDEX, concurrently=True)
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("sla", "0002_sla_recomputed_by_sweep"),
        ("tickets", "0006_sla_state_instants"),
        ("tisket", "0004_login_throttle"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="sla_computed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When these deadlines were computed from the policy.",
                null=True,
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="ticket", index=INDEX)],
            database_operations=[migrations.RunPython(create_index, drop_index, elidable=False)],
        ),
    ]
