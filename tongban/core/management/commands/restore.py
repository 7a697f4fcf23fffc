"""`tongban restore FILE [--yes]`: put a `tongban backup` archive back.

Checks first, changes after: the manifest must be ours, every member's SHA-256 must match, the
database engine must fit (a portable dump fits any), and a database that already holds data is
overwritten only with --yes. Then the database is replaced, the uploaded files are written back, and
the row count of every table is compared with the manifest (exit status 1 on any difference).
Stop the web and worker processes while restoring.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from .backup import FORMAT, PORTABLE_MEMBER, MANIFEST, PGDUMP_MEMBER, SQLITE_MEMBER, count_rows_live, engine, pg_env, sha256_of, table_names


def read_archive(path: Path, work: Path) -> dict:
    """Unpack into `work` and verify; returns the manifest. Raises CommandError in Chinese."""
    if not path.is_file():
        raise CommandError(f"找不到备份文件：{path}")
    try:
        with tarfile.open(path, "r:*") as tar:
            tar.extractall(work, filter="data")  # refuses absolute paths, "..", links out of the tree
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise CommandError(f"备份文件已损坏或不是 tongban 备份：{exc}") from None
    try:
        manifest = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise CommandError("备份文件缺少有效的清单（manifest.json）。") from None
    if manifest.get("product") != "tongban" or manifest.get("format") != FORMAT:
        raise CommandError(f"不认识的备份格式：{manifest.get('product')} {manifest.get('format')}。")
    checksums = manifest.get("checksums", {})
    if manifest.get("database") not in checksums:
        raise CommandError("清单中没有数据库文件。")
    members = {p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()} - {MANIFEST}
    if members != set(checksums):
        extra, missing = sorted(members - set(checksums)), sorted(set(checksums) - members)
        raise CommandError(f"备份内容与清单不符：多出 {extra or '无'}，缺少 {missing or '无'}。")
    bad = [name for name, digest in checksums.items() if sha256_of(work / name) != digest]
    if bad:
        raise CommandError(f"校验和不符（文件被改动或损坏）：{'、'.join(bad)}")
    return manifest


def holds_data() -> bool:
    """Whether the current database has any case, person or unit (an empty, migrated one has none)."""
    from tongban.cases.models import Case
    from tongban.core.models import Unit, User

    tables = set(table_names())
    return any(m._meta.db_table in tables and m.objects.exists() for m in (Case, User, Unit))


def restore_sqlite(db_file: Path) -> None:
    """Copy the backup into the live database file with SQLite's backup API (replaces every page)."""
    connection.close()
    connection.ensure_connection()
    src = sqlite3.connect(db_file)
    try:
        src.backup(connection.connection)
    finally:
        src.close()
    connection.close()


def restore_postgres(dump: Path) -> None:
    if not shutil.which("pg_restore"):
        raise CommandError("本机没有 pg_restore（PostgreSQL 客户端）：请安装 postgresql-client，或用 --portable 备份。")
    connection.close()
    result = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                             "-d", pg_env()["PGDATABASE"], str(dump)], env=pg_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(f"pg_restore 失败：{result.stderr.strip()[:2000]}")


def restore_portable(dump: Path) -> None:
    call_command("flush", "--noinput", verbosity=0)
    call_command("loaddata", str(dump), verbosity=0)
    if connection.vendor == "postgresql":  # ids were loaded explicitly: move the sequences past them
        from django.apps import apps
        from django.core.management.color import no_style

        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
                cursor.execute(sql)


def restore_media(work: Path) -> int:
    root = Path(settings.MEDIA_ROOT)
    n = 0
    source = work / "media"
    for p in sorted(source.rglob("*")) if source.is_dir() else []:
        if p.is_file():
            target = root / p.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, target)
            n += 1
    return n


def restore(path: Path, *, overwrite: bool) -> tuple[dict, dict[str, int]]:
    """Restore the archive; returns (manifest, counts after). Raises CommandError before changing anything
    when the archive is bad, does not fit this database, or the database holds data and not `overwrite`."""
    kind = engine()
    with tempfile.TemporaryDirectory(prefix="tongban-restore-") as tmp:
        work = Path(tmp)
        manifest = read_archive(path, work)
        member = manifest["database"]
        if member != PORTABLE_MEMBER and manifest["engine"] != kind:
            raise CommandError(f"该备份来自 {manifest['engine']}，当前数据库是 {kind}：请用同类数据库恢复，或用 --portable 重新备份。")
        if holds_data() and not overwrite:
            raise CommandError("当前数据库已有数据，恢复会覆盖全部数据。确认无误后加 --yes 重新执行。")
        {SQLITE_MEMBER: restore_sqlite, PGDUMP_MEMBER: restore_postgres, PORTABLE_MEMBER: restore_portable}[member](work / member)
        restore_media(work)
    return manifest, count_rows_live([t for t in manifest["tables"] if t in set(table_names())])


class Command(BaseCommand):
    help = "从 tongban backup 生成的归档恢复数据库与上传文件；先校验清单与校验和，已有数据时须加 --yes。恢复期间请停止 Web 与后台任务进程。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="备份归档（.tar.gz）")
        parser.add_argument("--yes", action="store_true", help="确认覆盖当前数据库中的全部数据")

    def handle(self, *args, file, yes=False, **options):
        manifest, counts = restore(Path(file), overwrite=yes)
        expected = manifest["tables"]
        differ = {t: (expected[t], counts.get(t)) for t in expected if counts.get(t) != expected[t]}
        self.stdout.write(f"已从 {file} 恢复（备份时间 {manifest['created_at']}，数据库 {manifest['engine']}，"
                          f"上传文件 {len(manifest['checksums']) - 1} 个）。")
        for t in sorted(expected):
            if expected[t] or t in differ:
                mark = "" if t not in differ else f"  ≠ 备份时 {expected[t]}"
                self.stdout.write(f"  {t:<40} {counts.get(t, '缺表')}{mark}")
        if differ:
            raise CommandError(f"{len(differ)} 张表的行数与备份清单不符，请检查。")
        self.stdout.write(f"各表行数与备份清单一致（{len(expected)} 张表，共 {sum(expected.values())} 行）。")
