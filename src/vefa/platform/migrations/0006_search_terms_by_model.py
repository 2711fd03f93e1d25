"""Search terms partitioned by model (model code before every indexed term) and the
``(model, id)`` index for the newest entries of a model; replaces the index of 0003.

The statements are kept in step with ``vefa.platform.search.backends`` (migrations do not
import application code).
"""

from django.db import migrations

SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS platform_search_ai",
    "DROP TRIGGER IF EXISTS platform_search_ad",
    "DROP TRIGGER IF EXISTS platform_search_au",
    "DROP TABLE IF EXISTS platform_search_fts",
    "CREATE VIEW IF NOT EXISTS platform_search_fts_source AS SELECT id, CASE WHEN text = '' THEN '' ELSE substr(model, 1, 3) || ':' || replace(text, ' ', ' ' || substr(model, 1, 3) || ':') END AS text, CASE WHEN access = '' THEN '' ELSE substr(model, 1, 3) || ':' || replace(access, ' ', ' ' || substr(model, 1, 3) || ':') END AS access FROM platform_searchentry",
    'CREATE VIRTUAL TABLE IF NOT EXISTS platform_search_fts USING fts5(text, access, content=\'platform_search_fts_source\', content_rowid=\'id\', prefix=\'5 6 7\', tokenize="unicode61 remove_diacritics 0 tokenchars \'@.+-_~:\'", detail=none)',
    "CREATE TRIGGER IF NOT EXISTS platform_search_ai AFTER INSERT ON platform_searchentry BEGIN INSERT INTO platform_search_fts(rowid, text, access) VALUES (new.id, CASE WHEN new.text = '' THEN '' ELSE substr(new.model, 1, 3) || ':' || replace(new.text, ' ', ' ' || substr(new.model, 1, 3) || ':') END, CASE WHEN new.access = '' THEN '' ELSE substr(new.model, 1, 3) || ':' || replace(new.access, ' ', ' ' || substr(new.model, 1, 3) || ':') END); END",
    "CREATE TRIGGER IF NOT EXISTS platform_search_ad AFTER DELETE ON platform_searchentry BEGIN INSERT INTO platform_search_fts(platform_search_fts, rowid, text, access) VALUES ('delete', old.id, CASE WHEN old.text = '' THEN '' ELSE substr(old.model, 1, 3) || ':' || replace(old.text, ' ', ' ' || substr(old.model, 1, 3) || ':') END, CASE WHEN old.access = '' THEN '' ELSE substr(old.model, 1, 3) || ':' || replace(old.access, ' ', ' ' || substr(old.model, 1, 3) || ':') END); END",
    "CREATE TRIGGER IF NOT EXISTS platform_search_au AFTER UPDATE OF model, text, access ON platform_searchentry BEGIN INSERT INTO platform_search_fts(platform_search_fts, rowid, text, access) VALUES ('delete', old.id, CASE WHEN old.text = '' THEN '' ELSE substr(old.model, 1, 3) || ':' || replace(old.text, ' ', ' ' || substr(old.model, 1, 3) || ':') END, CASE WHEN old.access = '' THEN '' ELSE substr(old.model, 1, 3) || ':' || replace(old.access, ' ', ' ' || substr(old.model, 1, 3) || ':') END); INSERT INTO platform_search_fts(rowid, text, access) VALUES (new.id, CASE WHEN new.text = '' THEN '' ELSE substr(new.model, 1, 3) || ':' || replace(new.text, ' ', ' ' || substr(new.model, 1, 3) || ':') END, CASE WHEN new.access = '' THEN '' ELSE substr(new.model, 1, 3) || ':' || replace(new.access, ' ', ' ' || substr(new.model, 1, 3) || ':') END); END",
    "INSERT INTO platform_search_fts(platform_search_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS platform_search_ai",
    "DROP TRIGGER IF EXISTS platform_search_ad",
    "DROP TRIGGER IF EXISTS platform_search_au",
    "DROP TABLE IF EXISTS platform_search_fts",
    "DROP VIEW IF EXISTS platform_search_fts_source",
]

PG_FORWARD = [
    "DROP INDEX IF EXISTS platform_search_document",
    "ALTER TABLE platform_searchentry DROP COLUMN IF EXISTS document",
    "ALTER TABLE platform_searchentry ADD COLUMN IF NOT EXISTS document tsvector GENERATED ALWAYS AS (array_to_tsvector(array_remove(string_to_array(CASE WHEN text = '' THEN '' ELSE left(model, 3) || ':' || replace(text, ' ', ' ' || left(model, 3) || ':') END || ' ' || CASE WHEN access = '' THEN '' ELSE left(model, 3) || ':' || replace(access, ' ', ' ' || left(model, 3) || ':') END, ' '), ''))) STORED",
    'CREATE INDEX IF NOT EXISTS platform_search_document ON platform_searchentry USING gin (document)',
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS platform_search_document",
    "ALTER TABLE platform_searchentry DROP COLUMN IF EXISTS document",
]


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}.get(
        schema_editor.connection.vendor, []
    )
    for statement in statements:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}.get(
        schema_editor.connection.vendor, []
    )
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("platform", "0005_search_model_id_index")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
