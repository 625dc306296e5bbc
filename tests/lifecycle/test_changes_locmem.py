"""Previews of a change, seats, per-call proration and paused collection with the in-memory
provider, through the API and the interactor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from django_payments_sync import signals
from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.backends.types import Capability
from django_payments_sync.exceptions import PolicyViolation
from django_payments_sync.interactor import payments
from django_payments_sync.models import Subscription
from tests.checkout.conftest import deliver, subscription_url
from tests.lifecycle.helpers import Received, remote_id, subscribe

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paused() -> Iterator[tuple[Received, Received]]:
    pauses, resumes = Received(signals.subscription_paused), Received(signals.subscription_resumed)
    yield pauses, resumes
    pauses.disconnect()
    resumes.disconnect()


def test_the_preview_changes_nothing(
    api: Any, locmem: LocmemBackend, monthly: Any, yearly: Any, django_assert_num_queries: Any
) -> None:
    sub = subscribe(api, locmem, monthly, quantity=2)
    before = dict(locmem.subscriptions)
    url = f"{subscription_url(sub.pk)}preview/"

    seats = api.get(url, {"quantity": 5})
    assert seats.status_code == 200, seats.content
    body = seats.json()
    assert body["currency"] == "eur"
    prorations = [line for line in body["lines"] if line["proration"]]
    # A credit for the unused time of 2 seats, a charge for 5: about the whole period, as
    # the change comes right at its start.
    assert prorations[0]["amount"] < 0 < prorations[1]["amount"]
    assert abs(prorations[0]["amount"] + 3000) <= 2
    assert abs(prorations[1]["amount"] - 7500) <= 2
    assert body["lines"][-1] == {**body["lines"][-1], "amount": 7500, "proration": False}
    assert body["total"] == sum(line["amount"] for line in body["lines"])
    assert body["date"] is not None
    assert locmem.subscriptions == before
    assert Subscription.objects.get().quantity == 2

    at_once = api.get(url, {"pricing": yearly.pk, "proration_behavior": "always_invoice"}).json()
    assert all(line["proration"] for line in at_once["lines"])
    none = api.get(url, {"quantity": 3, "proration_behavior": "none"}).json()
    assert [line["amount"] for line in none["lines"]] == [4500]
    call = locmem.calls_to("preview_subscription_change")[-1]
    assert call.kwargs == {"price_id": None, "quantity": 3, "proration_behavior": "none"}

    # Session, user, customer, subscription with its open invoices, the pricing's link.
    with django_assert_num_queries(6):
        assert api.get(url, {"quantity": 4}).status_code == 200


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"quantity": 11}, 400, "quantity_out_of_range"),
        ({"quantity": 0}, 400, None),
        ({"proration_behavior": "sometimes"}, 400, None),
        ({"pricing": 999_999}, 400, None),
    ],
)
def test_a_preview_of_a_change_that_would_be_refused_is_refused(
    api: Any, locmem: LocmemBackend, monthly: Any, query: dict[str, Any], status: int, code: Any
) -> None:
    sub = subscribe(api, locmem, monthly)
    response = api.get(f"{subscription_url(sub.pk)}preview/", query)
    assert response.status_code == status, response.content
    if code:
        assert response.json()["code"] == code
    assert locmem.calls_to("preview_subscription_change") == []


def test_seats_go_up_and_down_within_the_price_and_patch_takes_its_proration(
    api: Any, locmem: LocmemBackend, monthly: Any
) -> None:
    sub = subscribe(api, locmem, monthly, quantity=9)
    sub = payments.increment_quantity(sub)
    assert locmem.subscriptions[remote_id(sub)].quantity == 10
    deliver(locmem)
    sub.refresh_from_db()
    with pytest.raises(PolicyViolation) as too_many:
        payments.increment_quantity(sub)
    assert too_many.value.code == "quantity_out_of_range"
    sub = payments.decrement_quantity(sub, 9, proration_behavior="none")
    assert locmem.calls_to("update_subscription")[-1].kwargs["proration_behavior"] == "none"
    deliver(locmem)
    sub.refresh_from_db()
    with pytest.raises(PolicyViolation):
        payments.decrement_quantity(sub)
    assert sub.quantity == 1

    patched = api.patch(
        subscription_url(sub.pk), {"quantity": 3, "proration_behavior": "always_invoice"}
    )
    assert patched.status_code == 200, patched.content
    assert locmem.calls_to("update_subscription")[-1].kwargs["proration_behavior"] == (
        "always_invoice"
    )
    bad = api.patch(subscription_url(sub.pk), {"quantity": 4, "proration_behavior": "maybe"})
    assert bad.status_code == 400
    only = api.patch(subscription_url(sub.pk), {"proration_behavior": "none"})
    assert only.status_code == 400


def test_pause_and_resume(
    api: Any, locmem: LocmemBackend, monthly: Any, paused: tuple[Received, Received]
) -> None:
    pauses, resumes = paused
    sub = subscribe(api, locmem, monthly)
    assert payments.has_active_subscription(sub.customer.owner)

    response = api.post(
        f"{subscription_url(sub.pk)}pause/", {"behavior": "mark_uncollectible"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["pause_behavior"] == "mark_uncollectible"
    assert locmem.subscriptions[remote_id(sub)].pause_behavior == "mark_uncollectible"
    deliver(locmem)
    sub.refresh_from_db()
    assert (sub.status, sub.pause_behavior, sub.is_entitled()) == (
        "active",
        "mark_uncollectible",
        False,
    )
    assert not payments.has_active_subscription(sub.customer.owner)
    assert [c["behavior"] for c in pauses.calls] == ["mark_uncollectible"]
    assert api.get(subscription_url(sub.pk)).json()["is_entitled"] is False

    resumed = api.post(f"{subscription_url(sub.pk)}resume/")
    assert resumed.status_code == 200, resumed.content
    deliver(locmem)
    sub.refresh_from_db()
    assert (sub.pause_behavior, sub.is_entitled()) == ("", True)
    assert len(resumes.calls) == 1
    again = api.post(f"{subscription_url(sub.pk)}resume/")
    assert (again.status_code, again.json()["code"]) == (409, "subscription_not_paused")


@pytest.mark.parametrize(
    "body",
    [{"behavior": "forever"}, {"resumes_at": "2001-01-01T00:00:00Z"}, {"resumes_at": "soon"}],
)
def test_a_bad_pause_is_refused_and_changes_nothing(
    api: Any, locmem: LocmemBackend, monthly: Any, body: dict[str, Any]
) -> None:
    sub = subscribe(api, locmem, monthly)
    response = api.post(f"{subscription_url(sub.pk)}pause/", body, format="json")
    assert response.status_code == 400, response.content
    assert locmem.calls_to("pause_subscription") == []


def test_a_backend_without_the_capability_refuses_clearly(
    api: Any, locmem: LocmemBackend, monthly: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = subscribe(api, locmem, monthly)
    from django_payments_sync.backends.base import BaseBackend

    for name in ("preview_subscription_change", "pause_subscription"):
        monkeypatch.setattr(LocmemBackend, name, getattr(BaseBackend, name))
    monkeypatch.setattr(
        LocmemBackend,
        "capabilities",
        frozenset(Capability) - {Capability.SUBSCRIPTION_PREVIEW, Capability.SUBSCRIPTION_PAUSE},
    )
    preview = api.get(f"{subscription_url(sub.pk)}preview/", {"quantity": 2})
    assert (preview.status_code, preview.json()["code"]) == (501, "unsupported")
    pause = api.post(f"{subscription_url(sub.pk)}pause/")
    assert (pause.status_code, pause.json()["code"]) == (501, "unsupported")


def test_queries_per_request(
    api: Any, locmem: LocmemBackend, monthly: Any, django_assert_num_queries: Any
) -> None:
    """The subscription list reads its open invoices in one query, however many there are;
    pause and resume read the subscription, its link and the price of the provider's answer,
    and write nothing (the events do)."""
    sub = subscribe(api, locmem, monthly)
    invoice = locmem.renew(remote_id(sub), outcome="failed")
    locmem.retry(invoice.id, outcome="failed")
    deliver(locmem)
    from tests.checkout.conftest import SUBSCRIPTIONS_URL

    # Session, user, customer, subscriptions with product and pricing, their open invoices.
    with django_assert_num_queries(5):
        listed = api.get(SUBSCRIPTIONS_URL).json()
    assert listed[0]["hosted_invoice_url"] == invoice.hosted_invoice_url
    # ... and the subscription's provider link, then the answer's price (its link, product),
    # as every change's answer (show_provider_state).
    with django_assert_num_queries(8):
        assert api.post(f"{subscription_url(sub.pk)}pause/").status_code == 200
    deliver(locmem)
    with django_assert_num_queries(8):
        assert api.post(f"{subscription_url(sub.pk)}resume/").status_code == 200
