"""Database full-text for candidate retrieval: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

Both index the pre-tokenised `knowledge_articleindex.tokens` (space-joined rjieba tokens), so no
server extension or custom parser is needed.
"""
from django.db import migrations

SQLITE_UP = [
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(tokens, content='knowledge_articleindex', content_rowid='article_id')",
    """CREATE TRIGGER knowledge_fts_ai AFTER INSERT ON knowledge_articleindex BEGIN
         INSERT INTO knowledge_fts(rowid, tokens) VALUES (new.article_id, new.tokens); END""",
    """CREATE TRIGGER knowledge_fts_ad AFTER DELETE ON knowledge_articleindex BEGIN
         INSERT INTO knowledge_fts(knowledge_fts, rowid, tokens) VALUES ('delete', old.article_id, old.tokens); END""",
    """CREATE TRIGGER knowledge_fts_au AFTER UPDATE ON knowledge_articleindex BEGIN
         INSERT INTO knowledge_fts(knowledge_fts, rowid, tokens) VALUES ('delete', old.article_id, old.tokens);
         INSERT INTO knowledge_fts(rowid, tokens) VALUES (new.article_id, new.tokens); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS knowledge_fts_au", "DROP TRIGGER IF EXISTS knowledge_fts_ad",
    "DROP TRIGGER IF EXISTS knowledge_fts_ai", "DROP TABLE IF EXISTS knowledge_fts",
]
PG_UP = [
    "ALTER TABLE knowledge_articleindex ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', tokens)) STORED",
    "CREATE INDEX knowledge_articleindex_tsv ON knowledge_articleindex USING gin (tsv)",
]
PG_DOWN = ["DROP INDEX IF EXISTS knowledge_articleindex_tsv", "ALTER TABLE knowledge_articleindex DROP COLUMN IF EXISTS tsv"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_UP if vendor == "sqlite" else PG_UP if vendor == "postgresql" else []:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_DOWN if vendor == "sqlite" else PG_DOWN if vendor == "postgresql" else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
