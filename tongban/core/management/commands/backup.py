"""`tongban backup [--output FILE]`: one archive with the database, the uploaded files and a manifest.

The archive (tar.gz) holds
  manifest.json   format, engine, time, row count of every table, SHA-256 of every other member
  database.*      SQLite: a copy made with SQLite's online backup API (consistent while the app writes);
                  PostgreSQL: `pg_dump -Fc` of an exported snapshot, the row counts read in that same
                  snapshot; without pg_dump: a portable dump (Django's XML serialisation,
                  exact to the microsecond, which the audit chain's hashes need)
  media/…         uploaded files (attachments), copied after the database snapshot, so every file a
                  backed-up row refers to is there (files are written before their rows commit)

`tongban restore` (restore.py) checks the manifest and puts everything back.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PGDUMP_MEMBER = "database.pgdump"
PORTABLE_MEMBER = "database.xml"  # XML keeps microseconds (Django's JSON cuts them to milliseconds)


def engine() -> str:
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise CommandError(f"不支持的数据库类型：{vendor}。")
    return vendor


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def table_names() -> list[str]:
    """The project's tables (every installed model's, plus django_migrations), sorted."""
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
    wanted = set(connection.introspection.django_table_names(only_existing=True)) | {"django_migrations"}
    return sorted(wanted & existing)


def count_rows(cursor, tables: list[str], quote=connection.ops.quote_name) -> dict[str, int]:
    counts = {}
    for t in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(t)}")
        counts[t] = cursor.fetchone()[0]
    return counts


def pg_env() -> dict[str, str]:
    """libpq environment for pg_dump / pg_restore, from Django's database settings."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def dump_sqlite(work: Path) -> tuple[str, dict[str, int]]:
    connection.ensure_connection()
    target = work / SQLITE_MEMBER
    dst = sqlite3.connect(target)
    try:
        connection.connection.backup(dst)  # page-by-page online copy; a consistent snapshot
    finally:
        dst.close()
    copy = sqlite3.connect(target)
    try:
        counts = count_rows(copy.cursor(), table_names())
    finally:
        copy.close()
    return SQLITE_MEMBER, counts


def dump_postgres(work: Path) -> tuple[str, dict[str, int]]:
    """pg_dump of a snapshot exported from our own transaction; the counts come from the same snapshot."""
    tables = table_names()
    connection.ensure_connection()
    raw = connection.connection
    with raw.transaction():
        with raw.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            counts = count_rows(cur, tables)
        if shutil.which("pg_dump"):
            target = work / PGDUMP_MEMBER
            result = subprocess.run(["pg_dump", "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", "-f", str(target)],
                                    env=pg_env(), capture_output=True, text=True)
            if result.returncode != 0:
                raise CommandError(f"pg_dump 失败：{result.stderr.strip()}")
            return PGDUMP_MEMBER, counts
    # no client tools on this machine: a portable dump (not snapshot-consistent with a busy app: stop writers first)
    return dump_portable(work), count_rows_live(tables)


def count_rows_live(tables: list[str]) -> dict[str, int]:
    with connection.cursor() as cursor:
        return count_rows(cursor, tables)


def dump_portable(work: Path) -> str:
    target = work / PORTABLE_MEMBER
    with open(target, "w", encoding="utf-8") as f:
        call_command("dumpdata", "--all", "--natural-foreign", "--format=xml", "--exclude=contenttypes", "--exclude=auth.permission",
                     "--exclude=sessions", indent=None, stdout=f)
    return PORTABLE_MEMBER


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def create(output: Path, *, portable: bool = False) -> dict:
    """Write the archive to `output`; returns the manifest."""
    kind = engine()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tongban-backup-") as tmp:
        work = Path(tmp)
        if portable:
            member, counts = dump_portable(work), count_rows_live(table_names())
        else:
            member, counts = dump_sqlite(work) if kind == "sqlite" else dump_postgres(work)
        root = Path(settings.MEDIA_ROOT)
        files = {f"media/{p.relative_to(root).as_posix()}": p for p in media_files()}
        manifest = {
            "format": FORMAT, "product": "tongban", "engine": kind, "database": member,
            "created_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "tables": counts,
            "checksums": {member: sha256_of(work / member), **{name: sha256_of(p) for name, p in files.items()}},
        }
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(work / member, arcname=member)
            for name, p in files.items():
                tar.add(p, arcname=name)
        partial.replace(output)  # never leave a half-written archive under the final name
    return manifest


def default_output() -> Path:
    return Path(settings.VAR_DIR) / "backups" / f"tongban-{engine()}-{datetime.now():%Y%m%d-%H%M%S}.tar.gz"


class Command(BaseCommand):
    help = "备份数据库（SQLite 在线备份 / PostgreSQL pg_dump）与上传文件到一个归档，附清单（各表行数与校验和）。运行中可执行。"

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="归档文件路径，默认 var/backups/tongban-<数据库>-<时间>.tar.gz")
        parser.add_argument("--portable", action="store_true", help="用可移植格式（Django XML 序列化）导出数据库：可跨数据库类型恢复，较慢")

    def handle(self, *args, output=None, portable=False, **options):
        path = Path(output) if output else default_output()
        manifest = create(path, portable=portable)
        rows = sum(manifest["tables"].values())
        files = len(manifest["checksums"]) - 1
        self.stdout.write(f"已备份到 {path}（{path.stat().st_size / 1e6:.1f} MB）：数据库 {manifest['engine']}，"
                          f"{len(manifest['tables'])} 张表共 {rows} 行，上传文件 {files} 个。")
