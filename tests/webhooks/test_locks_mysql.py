"""The webhook lock on MySQL/MariaDB: a named lock (``GET_LOCK``) held around the transaction.

Checked from a second connection to the same server, as another process or host would see it.
The multi-process proof, gunicorn workers applying a shuffled duplicated stream, is
tests/webhooks/test_concurrency.py; these tests say which part of the lock's contract broke.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction

from django_payments_sync.webhooks import locks

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]

KEY = "webhooks:stripe:customer:cus_lock"


@pytest.fixture
def other() -> Iterator[Any]:
    """A second connection to the test database: another process's view of the locks."""
    wrapper = connections.create_connection("default")
    try:
        yield wrapper
    finally:
        wrapper.close()


def is_free(other: Any, key: str = KEY) -> bool:
    with other.cursor() as cursor:
        cursor.execute("SELECT IS_FREE_LOCK(%s)", [locks._mysql_name(key)])
        return cursor.fetchone()[0] == 1


def test_the_named_lock_is_held_from_before_the_transaction_until_after_it(other):
    assert is_free(other)
    with locks.locked(KEY):
        assert connection.in_atomic_block
        assert not is_free(other)
        with other.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(%s, 0)", [locks._mysql_name(KEY)])
            assert cursor.fetchone()[0] == 0, "another session took the lock we hold"
        # Inside it, acquire() confirms the lock instead of failing.
        locks.acquire(KEY)
    assert not connection.in_atomic_block
    assert is_free(other)


def test_other_keys_are_not_locked(other):
    with locks.locked(KEY):
        assert is_free(other, "webhooks:stripe:customer:cus_other")


def test_the_lock_is_released_when_the_transaction_rolls_back(other):
    def fail_while_locked() -> None:
        with locks.locked(KEY):
            assert not is_free(other)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fail_while_locked()
    assert is_free(other)


def test_acquire_without_the_named_lock_fails_unless_optional(other):
    with transaction.atomic():
        with pytest.raises(RuntimeError, match=r"locks\.locked\(\)"):
            locks.acquire(KEY)
        locks.acquire(KEY, required=False)
    assert is_free(other)


def test_the_lock_cannot_be_taken_inside_a_transaction_it_would_not_cover(other):
    """Released after the inner block, the named lock would not cover the outer commit:
    another process could apply the same event before that commit. (Nesting locked() in
    itself is that case too.)"""
    with transaction.atomic():
        with pytest.raises(RuntimeError, match="durable"), locks.locked(KEY):
            pass
        assert is_free(other)
