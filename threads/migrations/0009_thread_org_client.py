"""A client's conversations, found by their address: (organization, client_email).

On PostgreSQL the index is built CONCURRENTLY, outside a transaction, so that
new mail keeps flowing during the build on a large table.
"""

from django.db import migrations, models

INDEX = models.Index(fields=["organization", "client_email"], name="thread_org_client")


def create_index(apps, schema_editor):
    model = apps.get_model("threads", "Thread")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX.name} "
            'ON threads_thread ("organization_id", "client_email")'
        )
    else:
        schema_editor.add_index(model, INDEX)


def drop_index(apps, schema_editor):
    model = apps.get_model("threads", "Thread")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX.name}")
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("inboxes", "0003_imap"),
        ("threads", "0008_thread_search_trigram"),
        ("tisket", "0003_invitations"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(create_index, drop_index)],
            state_operations=[migrations.AddIndex(model_name="thread", index=INDEX)],
        )
    ]
