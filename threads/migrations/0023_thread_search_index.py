"""A GIN index on the folded words of each conversation's search document (PostgreSQL).

The expression is the one threads.search queries with, `to_tsvector('simple', text)`:
'simple' keeps every word as written (no stemming, no stop words), which suits
mail in any language; the text is folded (accents, case) before it is stored.
Built CONCURRENTLY, outside a transaction, as the table grows with every mail.
On SQLite, the embedded default, nothing changes.
"""

from django.db import migrations

INDEX = "thread_search_text_fts"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON threads_threadsearch "
        "USING gin (to_tsvector('simple'::regconfig, text))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("threads", "0022_thread_search")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
