"""A lock that holds across processes and hosts sharing the database, held until commit."""

from __future__ import annotations

import contextlib
import hashlib
import zlib
from collections.abc import Iterator

from django.db import connections, transaction

from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import PaymentsSyncImproperlyConfigured

#: First key of PostgreSQL's two-key advisory locks, so ours never collide with the host's
#: one-key locks (a crc32 of "django_payments_sync", as a signed 32-bit integer).
PG_LOCK_NAMESPACE = zlib.crc32(b"django_payments_sync") - 2**31

#: Seconds MySQL/MariaDB wait for a named lock before failing (the provider then retries).
MYSQL_LOCK_TIMEOUT = 60

GLOBAL_LOCK_KEY = "*"


def lock_key(provider: str, ordering_key: str) -> str:
    """The name of the lock that serialises ``ordering_key``'s events, after the lock scope."""
    scope = payments_settings.WEBHOOK_LOCK_SCOPE
    if scope == "global":
        return f"webhooks:{GLOBAL_LOCK_KEY}"
    if scope != "customer":
        raise PaymentsSyncImproperlyConfigured(
            f"PAYMENTS_SYNC['WEBHOOK_LOCK_SCOPE'] must be 'customer' or 'global', not {scope!r}."
        )
    return f"webhooks:{provider}:{ordering_key}"


def acquire(key: str, using: str = "default", *, required: bool = True) -> None:
    """Take the lock ``key`` inside the current transaction; it is released at commit/rollback.

    With ``required=False`` a backend that cannot lock inside a transaction (MySQL) skips it:
    for locks that only add safety to code that is already race-safe.

    - PostgreSQL: ``pg_advisory_xact_lock`` on a hash of the key (a collision only makes two
      keys wait for each other, never lets two holders in).
    - SQLite: a write, which takes the database's single write lock at once (a deferred
      transaction would only take it at its first write and could then fail with
      "database is locked" instead of waiting).
    - MySQL/MariaDB: not here, see :func:`locked`: their named locks outlive transactions.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("locks.acquire() needs a transaction (transaction.atomic()).")
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [PG_LOCK_NAMESPACE, key]
            )
        elif vendor == "sqlite":
            from django_payments_sync.models import WebhookEvent

            table = connection.ops.quote_name(WebhookEvent._meta.db_table)
            cursor.execute(f"UPDATE {table} SET id = id WHERE id = -1")
        elif vendor == "mysql":
            if required and not _mysql_held(cursor, key):
                raise RuntimeError(
                    "On MySQL/MariaDB webhook locks are taken with locks.locked(), around the "
                    "transaction."
                )
        else:
            raise PaymentsSyncImproperlyConfigured(
                f"django-payments-sync has no webhook lock for the {vendor!r} database backend; "
                "use PostgreSQL, MySQL/MariaDB or SQLite."
            )


def _mysql_name(key: str) -> str:
    # GET_LOCK names are limited to 64 characters.
    return "dps:" + hashlib.sha256(key.encode()).hexdigest()[:56]


def _mysql_held(cursor: object, key: str) -> bool:
    cursor.execute("SELECT IS_USED_LOCK(%s) = CONNECTION_ID()", [_mysql_name(key)])  # type: ignore[attr-defined]
    row = cursor.fetchone()  # type: ignore[attr-defined]
    return bool(row and row[0])


@contextlib.contextmanager
def locked(key: str, using: str = "default") -> Iterator[None]:
    """A transaction that holds the lock ``key`` from its start to its end, on any backend.

    On MySQL/MariaDB ``GET_LOCK`` belongs to the session, not the transaction, so it is
    taken before the transaction starts and released after it ends. That transaction must be
    the outermost one (durable): inside another, the lock would be released before the outer
    commit, and another process could apply the same event meanwhile; RuntimeError then.
    """
    connection = connections[using]
    if connection.vendor != "mysql":
        with transaction.atomic(using=using):
            acquire(key, using)
            yield
        return
    name = _mysql_name(key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, %s)", [name, MYSQL_LOCK_TIMEOUT])
        row = cursor.fetchone()
    if not row or row[0] != 1:
        raise TimeoutError(f"Could not take the webhook lock {key!r} within {MYSQL_LOCK_TIMEOUT}s.")
    try:
        with transaction.atomic(using=using, durable=True):
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [name])
