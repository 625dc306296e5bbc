"""The background entry points run through Django's tasks framework (immediate backend)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from django_payments_sync import tasks
from django_payments_sync.backends import get_backend
from django_payments_sync.models import ExternalPricing, ExternalProduct
from django_payments_sync.webhooks.tasks import TASKS_FRAMEWORK
from tests.factories import PricingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    if TASKS_FRAMEWORK is None:
        pytest.skip("no tasks framework installed")
    settings.TASKS = {
        "default": {"BACKEND": f"{TASKS_FRAMEWORK}.backends.immediate.ImmediateBackend"}
    }


def test_every_entry_point_is_a_task(immediate_tasks: None) -> None:
    for name in tasks.__all__:
        if name != "enqueue_webhook_event":
            assert hasattr(getattr(tasks, name), "enqueue"), name


def test_push_task_retries_what_the_provider_lacks(settings: Any, immediate_tasks: None) -> None:
    settings.PAYMENTS_SYNC = {
        "BACKEND": "django_payments_sync.backends.locmem.LocmemBackend",
        "AUTO_SYNC": False,
    }
    pricing = PricingFactory()
    assert not ExternalProduct.objects.exists()
    result = tasks.push_pending_changes.enqueue()
    assert result.return_value["created"] == 2
    assert ExternalProduct.objects.filter(product=pricing.product).exists()
    assert ExternalPricing.objects.filter(pricing=pricing).exists()
    assert get_backend().write_calls  # type: ignore[attr-defined]
    # Unchanged: the second run writes nothing.
    assert tasks.push_pending_changes.enqueue().return_value["created"] == 0


def test_vat_recheck_task_confirms_a_number_once_vies_answers(
    settings: Any, immediate_tasks: None, vies_settings: Any, vies_responder: Any
) -> None:
    from tests.factories import BillingInformationFactory

    settings.PAYMENTS_SYNC = {
        **settings.PAYMENTS_SYNC,
        "AUTO_SYNC": False,
        "VIES": vies_settings,
    }
    info = BillingInformationFactory(
        country="FR",
        tax_id="FR40303265045",
        vat_validation_status="unavailable",
        vat_next_check_at=timezone.now() - dt.timedelta(minutes=1),
    )
    result = tasks.recheck_vat_numbers.enqueue()
    assert result.return_value == {"checked": 1, "changed": 1, "still_pending": 0}
    info.refresh_from_db()
    assert (info.vat_validation_status, info.tax_exemption) == ("valid", "reverse")
