"""The full-text index of the search entries: FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL.

The statements are kept in step with ``vefa.platform.search.backends`` (migrations do not
import application code).
"""

from django.db import migrations

TABLE = "platform_searchentry"
FTS = "platform_search_fts"

SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5("
    f"text, access, content='{TABLE}', content_rowid='id', prefix='1 2 3', "
    "tokenize=\"unicode61 remove_diacritics 0 tokenchars '@.+-_~'\", detail=none)",
    f"CREATE TRIGGER IF NOT EXISTS platform_search_ai AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}(rowid, text, access) VALUES (new.id, new.text, new.access); END",
    f"CREATE TRIGGER IF NOT EXISTS platform_search_ad AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text, access) "
    "VALUES ('delete', old.id, old.text, old.access); END",
    f"CREATE TRIGGER IF NOT EXISTS platform_search_au AFTER UPDATE OF text, access ON {TABLE} "
    f"BEGIN INSERT INTO {FTS}({FTS}, rowid, text, access) "
    "VALUES ('delete', old.id, old.text, old.access); "
    f"INSERT INTO {FTS}(rowid, text, access) VALUES (new.id, new.text, new.access); END",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS platform_search_ai",
    "DROP TRIGGER IF EXISTS platform_search_ad",
    "DROP TRIGGER IF EXISTS platform_search_au",
    f"DROP TABLE IF EXISTS {FTS}",
]

PG_FORWARD = [
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS document tsvector GENERATED ALWAYS AS "
    "(array_to_tsvector(array_remove(string_to_array(text || ' ' || access, ' '), ''))) STORED",
    f"CREATE INDEX IF NOT EXISTS platform_search_document ON {TABLE} USING gin (document)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS platform_search_document",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS document",
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
    dependencies = [("platform", "0002_job_resume_and_list_indexes")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
