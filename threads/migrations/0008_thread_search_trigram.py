"""Text search over a conversation's subject and client, served by a trigram index.

The queue and the API search with `icontains`, which Django writes as
UPPER(col::text) LIKE UPPER('%…%') and no B-tree can serve: at a million
conversations a rare word read every row (0.7 s). A pg_trgm GIN index on those
very expressions answers it from the index. PostgreSQL only (pg_trgm is a
trusted extension); on SQLite, the embedded default, nothing changes. The index
is not in the model's Meta, which would ask SQLite for it too.

Built CONCURRENTLY, outside a transaction: a plain CREATE INDEX would hold up
every new mail's thread for the whole build on a large table.
"""

from django.db import migrations

INDEX = "thread_search_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON threads_thread USING gin "
        "((upper(subject::text)) gin_trgm_ops, (upper(client_email::text)) gin_trgm_ops,"
        " (upper(client_name::text)) gin_trgm_ops)"
    )
    # Statistics on the indexed expressions, or the planner guesses how many
    # rows a word matches until autovacuum's next analyze. ANALYZE samples a
    # bounded number of rows and blocks no reads or writes.
    schema_editor.execute("ANALYZE threads_thread")


def drop_index(apps, schema_editor):
    # The extension stays: something else may use it, and it costs nothing idle.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("threads", "0007_queue_unresolved_index")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
