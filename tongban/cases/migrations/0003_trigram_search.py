"""PostgreSQL only: trigram indexes so that a free-text search (`q`) on title and address does not
read the whole case table (measured at 1 M cases for a 4-character term that matches nothing:
637 ms → 5 ms; terms of 1–2 characters form no trigram and still scan — docs/benchmarks.md).

SQLite has no such index; the migration does nothing there. Where the database role may not
create the pg_trgm extension, the indexes are skipped with a notice and searches stay correct.
"""
from django.db import migrations, transaction

INDEXES = {
    "case_title_trgm": "CREATE INDEX IF NOT EXISTS case_title_trgm ON cases_case USING gin (title gin_trgm_ops)",
    "case_address_trgm": "CREATE INDEX IF NOT EXISTS case_address_trgm ON cases_case USING gin (address gin_trgm_ops)",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - permission: searching still works, only slower
        print(f"\n  提示：无法启用 pg_trgm 扩展（{exc.__class__.__name__}），跳过工单全文检索索引。")
        return
    for sql in INDEXES.values():
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
