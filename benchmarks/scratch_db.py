"""A scratch database for a benchmark, never the development one: a SQLite file or a PostgreSQL
database recreated on every run, set as DATABASE_URL before django.setup()."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    path = Path(os.environ.get("TONGBAN_VAR_DIR", ROOT / "var"))
    path.mkdir(exist_ok=True)
    return path


def pg_admin(pg_url: str, sql: str) -> None:
    """Run `sql` (CREATE/DROP DATABASE) on the server's maintenance database."""
    import psycopg

    with psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def fresh_database(db: str, *, sqlite_name: str, pg_name: str, pg_url: str,
                   settings_module: str = "tongban.settings") -> Path | None:
    """Empty the scratch database, point Django at it and set Django up. Returns the SQLite path
    (None on PostgreSQL). Refuses to go on if Django ended up on another database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    path = None
    if db == "sqlite":
        path = var_dir() / sqlite_name
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        pg_admin(pg_url, f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
        pg_admin(pg_url, f"CREATE DATABASE {pg_name}")
        os.environ["DATABASE_URL"] = f"{pg_url.rstrip('/')}/{pg_name}"
    import django

    django.setup()
    from django.conf import settings

    name = str(settings.DATABASES["default"]["NAME"])
    assert name == (str(path) if path else pg_name), f"refusing to run against {name}"
    return path
