"""PostgreSQL full text for articles: unaccent and trigram extensions, a weighted tsvector.

The column lives outside the Django model (SQLite has no tsvector): kb.search writes and
reads it with SQL on PostgreSQL only. unaccent() is not IMMUTABLE, so an immutable wrapper
bound to the dictionary lets it appear in indexes and generated values.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """
    CREATE OR REPLACE FUNCTION tisket_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
    """,
    "ALTER TABLE kb_article ADD COLUMN search_vector tsvector",
    "CREATE INDEX kb_article_search_vector ON kb_article USING gin (search_vector)",
    "CREATE INDEX kb_article_title_trgm ON kb_article USING gin (title gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS kb_article_title_trgm",
    "DROP INDEX IF EXISTS kb_article_search_vector",
    "ALTER TABLE kb_article DROP COLUMN IF EXISTS search_vector",
    "DROP FUNCTION IF EXISTS tisket_unaccent(text)",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARD:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_knowledge_base")]

    operations = [migrations.RunPython(forward, backward)]
