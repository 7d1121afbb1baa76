"""Trigram indexes on the senders and the recipients of each conversation's search document
(PostgreSQL): `from:` and `to:` ask `LIKE '%…%'` of them, any part of a name or an address,
which no B-tree serves; without them a rare sender read every document.

Built CONCURRENTLY, outside a transaction, as the table grows with every mail. On SQLite,
the embedded default, nothing changes.
"""

from django.db import migrations

INDEXES = {
    "thread_search_senders_trgm": "senders",
    "thread_search_recipients_trgm": "recipients",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON threads_threadsearch "
            f"USING gin ({column} gin_trgm_ops)"
        )
    schema_editor.execute("ANALYZE threads_threadsearch")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("threads", "0024_thread_search_people")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
