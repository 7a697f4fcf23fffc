"""Database guards for the audit trail, beside the hash chain.

PostgreSQL: UPDATE of an entry or an anchor is refused; DELETE of an entry only inside a purge (a
PurgePermit row exists and the entry is older than its cut-off); anchors are never deleted.
SQLite: UPDATE is refused (DELETE is not guarded there, because Django's test flush deletes row by row;
the chain still reveals it). TRUNCATE and dropping the triggers need database owner rights: revoke them
from the application's role in production (docs/security.md).
"""
from django.db import migrations

PG_UP = ["""
CREATE OR REPLACE FUNCTION tongban_audit_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_auditentry' AND EXISTS (
      SELECT 1 FROM audit_purgepermit p WHERE OLD.at < p.before) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '审计记录只能追加，不允许修改或删除';
END;
$$ LANGUAGE plpgsql""",
         "CREATE TRIGGER audit_entry_guard BEFORE UPDATE OR DELETE ON audit_auditentry "
         "FOR EACH ROW EXECUTE FUNCTION tongban_audit_guard()",
         "CREATE TRIGGER audit_anchor_guard BEFORE UPDATE OR DELETE ON audit_auditanchor "
         "FOR EACH ROW EXECUTE FUNCTION tongban_audit_guard()"]
PG_DOWN = ["DROP TRIGGER IF EXISTS audit_entry_guard ON audit_auditentry",
           "DROP TRIGGER IF EXISTS audit_anchor_guard ON audit_auditanchor",
           "DROP FUNCTION IF EXISTS tongban_audit_guard()"]
SQLITE_UP = [
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, '审计记录只能追加：不允许修改'); END;",
    "CREATE TRIGGER audit_anchor_no_update BEFORE UPDATE ON audit_auditanchor "
    "BEGIN SELECT RAISE(ABORT, '审计记录只能追加：不允许修改'); END;",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_entry_no_update;", "DROP TRIGGER IF EXISTS audit_anchor_no_update;"]


def install(apps, schema_editor):
    for sql in {"postgresql": PG_UP, "sqlite": SQLITE_UP}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def remove(apps, schema_editor):
    for sql in {"postgresql": PG_DOWN, "sqlite": SQLITE_DOWN}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
