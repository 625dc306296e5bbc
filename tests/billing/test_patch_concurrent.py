"""Two PATCHes of one customer's billing information at once, on a real database server: the
second reads the row under its lock only after the first has committed, so neither change is
lost (the save writes the whole row)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from django_payments_sync.backends import get_backend
from django_payments_sync.interactor.billing import change_billing_info, create_user_billing_info
from django_payments_sync.interactor.customers import get_or_create_customer
from django_payments_sync.models import BillingInformation
from tests.checkout.conftest import LOCMEM_SETTINGS

pytestmark = [pytest.mark.server_db, pytest.mark.django_db(transaction=True)]


def test_two_patches_at_once_lose_neither_change(django_user_model: Any) -> None:
    settings = {**LOCMEM_SETTINGS, "VIES": {"ENABLED": False}, "AUTO_SYNC": False}
    with override_settings(PAYMENTS_SYNC=settings):
        get_backend().reset()  # type: ignore[attr-defined]
        user = django_user_model.objects.create_user(username="racer", password="pw")
        customer = get_or_create_customer(user)
        create_user_billing_info(
            customer, {"name": "Racer", "country": "US", "city": "Austin", "address_line1": "1 A"}
        )
        first_read = threading.Event()
        errors: list[BaseException] = []

        def patch(changes: Mapping[str, Any], hold: bool) -> None:
            def validate(current: Any) -> Mapping[str, Any]:
                if hold:
                    first_read.set()
                    # Keep the row (and, without its lock, the stale copy) while the other
                    # PATCH reads.
                    time.sleep(0.6)
                return changes

            try:
                change_billing_info(user, validate)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        slow = threading.Thread(target=patch, args=({"city": "Boston"}, True))
        slow.start()
        assert first_read.wait(5)
        fast = threading.Thread(target=patch, args=({"address_line2": "Floor 3"}, False))
        fast.start()
        slow.join(10)
        fast.join(10)
        assert not errors, errors
        stored = BillingInformation.objects.get(customer=customer)
        assert (stored.city, stored.address_line2, stored.address_line1) == (
            "Boston",
            "Floor 3",
            "1 A",
        )
