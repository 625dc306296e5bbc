"""Creating and dropping the PostgreSQL databases each benchmark run works in."""

from __future__ import annotations

import os
from contextlib import closing
from urllib.parse import urlsplit, urlunsplit

#: The machine's PostgreSQL server (trust auth); override with BENCH_POSTGRES.
ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432/postgres")
#: Every database run_all.py creates starts with this, so its cleanup never touches others'
#: (BENCH_DB_PREFIX: another prefix, for two runs on one server at once).
PREFIX = os.environ.get("BENCH_DB_PREFIX", "runall_")
#: Databases kept between runs (dj-stripe's migrated template, for --quick): never dropped by
#: :func:`drop_all`.
KEEP = PREFIX + "keep_"


def database_url(name: str, admin_url: str = ADMIN_URL) -> str:
    """The URL of database ``name`` on the same server as ``admin_url``."""
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def _connect(admin_url: str):
    import psycopg

    return psycopg.connect(admin_url, autocommit=True)


def _check(name: str) -> None:
    if not name.startswith(PREFIX) or not name.replace("_", "").isalnum():
        raise ValueError(f"benchmark database names start with {PREFIX!r}: {name!r}")


def create_database(name: str, *, template: str | None = None, admin_url: str = ADMIN_URL) -> str:
    """Create database ``name`` (dropping an old one), optionally as a copy of ``template``."""
    _check(name)
    drop_database(name, admin_url=admin_url)
    sql = f'CREATE DATABASE "{name}"'
    if template:
        _check(template)
        sql += f' TEMPLATE "{template}"'
    with closing(_connect(admin_url)) as conn:
        conn.execute(sql)
    return database_url(name, admin_url)


def drop_database(name: str, *, admin_url: str = ADMIN_URL) -> None:
    """Drop database ``name`` if it exists, closing whatever is still connected to it."""
    _check(name)
    with closing(_connect(admin_url)) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def drop_all(admin_url: str = ADMIN_URL) -> list[str]:
    """Drop every database this harness created (names starting with :data:`PREFIX`)."""
    with closing(_connect(admin_url)) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",)
        ).fetchall()
    names = [row[0] for row in rows if not row[0].startswith(KEEP)]
    for name in names:
        drop_database(name, admin_url=admin_url)
    return names


def exists(name: str, admin_url: str = ADMIN_URL) -> bool:
    """True when database ``name`` is on the server."""
    with closing(_connect(admin_url)) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def count_tables(url: str) -> int:
    """Tables in the public schema of the database at ``url``."""
    with closing(_connect(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        ).fetchone()
    return int(row[0]) if row else 0


def django_database(url: str) -> dict[str, object]:
    """A Django ``DATABASES`` entry for ``postgresql://user@host:port/name``."""
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # Django's default (0): a new connection per request, as a user gets out of the box;
        # BENCH_CONN_MAX_AGE: another value for every site alike (persistent connections).
        "CONN_MAX_AGE": int(os.environ.get("BENCH_CONN_MAX_AGE", "0")),
    }
