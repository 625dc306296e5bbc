"""VIES down, slow or rate-limited while customers save billing information: every save
succeeds with the validation pending and VAT charged; once VIES answers again the recheck
command converges, locally and at the provider."""

from __future__ import annotations

import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_payments_sync.models import BillingInformation, ExternalCustomer
from django_payments_sync.testing.stripe_emulator import StripeEmulator
from django_payments_sync.testing.vies_fixtures import TEST_TIMEOUT
from tests.billing.conftest import BILLING_URL, FRENCH_ADDRESS
from tests.factories import UserFactory
from tests.reliability.conftest import payments_sync, remote

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

#: Numbers that pass the offline checks and that the responder knows as valid traders.
VALID = {
    "FR": "FR40303265045",
    "NL": "NL123456782B01",
    "AT": "ATU12345675",
    "IT": "IT12345679992",
}
OUTAGES = ("SERVICE_UNAVAILABLE", "slow", "MS_MAX_CONCURRENT_REQ", "GLOBAL_MAX_CONCURRENT_REQ")


def outage(responder: Any, kind: str) -> None:
    if kind == "slow":
        responder.delay = 2 * TEST_TIMEOUT  # every answer comes after the client gave up
    else:
        responder.force(kind)


@pytest.mark.parametrize("kind", OUTAGES)
def test_saves_go_through_an_outage_and_the_recheck_converges(
    faulty_stripe: StripeEmulator, vies_settings: Any, vies_responder: Any, kind: str
) -> None:
    em = faulty_stripe
    clients = {}
    for country in VALID:
        client = APIClient()
        client.force_login(UserFactory(username=country, email=f"{country}@example.com"))
        clients[country] = client
    outage(vies_responder, kind)

    for country, client in clients.items():
        started = time.monotonic()
        response = client.put(
            BILLING_URL,
            {**FRENCH_ADDRESS, "country": country, "tax_id": VALID[country]},
            format="json",
        )
        # Saved, in bounded time, VAT charged until VIES confirms the number.
        assert time.monotonic() - started < TEST_TIMEOUT + 5
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["vat_validation_status"], body["tax_exemption"]) == ("unavailable", "none")
        assert body["vat_next_check_at"]
        assert body["sync_status"] == "synced"
    assert {c["tax_exempt"] for c in remote(em, "customer")} == {"none"}

    # Still down: the recheck keeps them pending, each scheduled later.
    status, out, _err = payments_sync("vat", "recheck", "--force")
    assert status == 0
    assert f"Rechecked {len(VALID)} VAT number(s): 0 changed status" in out
    assert {i.vat_validation_status for i in BillingInformation.objects.all()} == {"unavailable"}
    assert {i.vat_check_attempts for i in BillingInformation.objects.all()} == {2}

    vies_responder.reset()  # VIES is back
    status, out, _err = payments_sync("vat", "recheck", "--force")
    assert status == 0
    assert f"Rechecked {len(VALID)} VAT number(s): {len(VALID)} changed status" in out
    infos = list(BillingInformation.objects.select_related("customer"))
    assert {(i.vat_validation_status, i.tax_exemption) for i in infos} == {("valid", "reverse")}
    assert {i.vat_next_check_at for i in infos} == {None}
    # The provider follows: one customer each, reverse charge, its VAT number attached.
    customers = remote(em, "customer")
    assert len(customers) == ExternalCustomer.objects.count() == len(VALID)
    assert {c["tax_exempt"] for c in customers} == {"reverse"}
    assert {i.customer.sync_status for i in infos} == {"synced"}
    assert sorted(t["value"] for t in remote(em, "tax_id")) == sorted(VALID.values())
    # Nothing is left to recheck.
    assert "Rechecked 0 VAT number(s)" in payments_sync("vat", "recheck")[1]
