"""VAT numbers through the API and the local VIES responder: real zeep over real HTTP."""

from __future__ import annotations

import datetime as dt
import io
import socket
from typing import Any, cast

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_payments_sync import signals
from django_payments_sync.interactor.billing import recheck_pending_vat
from django_payments_sync.models import BillingInformation, Customer
from tests.billing.conftest import (
    BILLING_URL,
    FRENCH_ADDRESS,
    US_ADDRESS,
    VALIDATE_VAT_URL,
    payments_settings_with,
)

pytestmark = pytest.mark.django_db

#: Numbers that pass python-stdnum's checks and that the responder knows (see its KNOWN_NUMBERS).
FR_VALID = "FR40303265045"
DE_VALID = "DE812345673"
EL_VALID = "EL094512355"
FR_BLOCKED = "FR42812345619"


def vies_checks(responder: Any) -> list[str]:
    """The numbers the responder was asked about, with prefix, in order."""
    return [
        f"{r.country_code}{r.vat_number}"
        for r in responder.requests
        if r.operation in ("checkVat", "checkVatApprox")
    ]


@pytest.fixture
def no_auto_sync(vies_settings: Any) -> Any:
    """No provider push after commit (these tests run on-commit callbacks for the signals)."""
    with override_settings(PAYMENTS_SYNC=payments_settings_with(AUTO_SYNC=False)):
        yield


@pytest.fixture
def tax_events() -> Any:
    received: list[dict[str, Any]] = []

    def on_change(**kwargs: Any) -> None:
        received.append(kwargs)

    signals.tax_status_changed.connect(on_change)
    yield received
    signals.tax_status_changed.disconnect(on_change)


# --- saving with a VAT number -----------------------------------------------------------------


def test_valid_number_in_another_member_state_gets_reverse_charge(
    client_a: Any, vies_settings: Any, vies_responder: Any
) -> None:
    response = client_a.put(
        BILLING_URL, {**FRENCH_ADDRESS, "tax_id": "fr 40 303 265 045"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tax_id"] == FR_VALID
    assert body["vat_validation_status"] == "valid"
    assert body["vat_validated_at"]
    assert body["tax_exemption"] == "reverse"
    assert body["is_from_eu"] is True
    assert body["tax_decision_reason"]
    assert vies_checks(vies_responder) == [FR_VALID]


def test_greek_numbers_are_asked_about_as_el(
    client_a: Any, vies_settings: Any, vies_responder: Any
) -> None:
    response = client_a.put(
        BILLING_URL,
        {**FRENCH_ADDRESS, "country": "GR", "city": "Athina", "tax_id": "GR094512355"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["tax_id"] == EL_VALID
    assert response.json()["tax_exemption"] == "reverse"
    assert vies_checks(vies_responder) == [EL_VALID]


def test_a_valid_number_in_the_sellers_country_still_pays_vat(
    client_a: Any, vies_settings: Any
) -> None:
    response = client_a.put(
        BILLING_URL,
        {**FRENCH_ADDRESS, "country": "DE", "city": "Berlin", "tax_id": DE_VALID},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["vat_validation_status"], body["tax_exemption"]) == ("valid", "none")


def test_a_number_vies_does_not_know_is_saved_and_pays_vat(
    client_a: Any, vies_settings: Any, vies_responder: Any
) -> None:
    vies_responder.register(FR_VALID, "invalid")
    response = client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["vat_validation_status"], body["tax_exemption"]) == ("invalid", "none")
    assert body["vat_next_check_at"] is None


def test_a_number_vies_refuses_to_check_is_an_error_and_not_rechecked(
    client_a: Any, vies_settings: Any, vies_responder: Any
) -> None:
    response = client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_BLOCKED}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["vat_validation_status"], body["tax_exemption"]) == ("error", "none")
    assert recheck_pending_vat(force=True).count == 0


def test_an_unchanged_valid_number_is_not_asked_about_again(
    client_a: Any, vies_settings: Any, vies_responder: Any
) -> None:
    client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    response = client_a.patch(BILLING_URL, {"city": "Lyon"}, format="json")
    assert response.status_code == 200
    assert response.json()["tax_exemption"] == "reverse"
    assert vies_checks(vies_responder) == [FR_VALID]


def test_removing_the_number_goes_back_to_vat(
    client_a: Any,
    vies_settings: Any,
    tax_events: list[dict[str, Any]],
    no_auto_sync: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.patch(BILLING_URL, {"tax_id": ""}, format="json")
    body = response.json()
    assert (body["tax_id"], body["vat_validation_status"]) == ("", "not_required")
    assert body["tax_exemption"] == "none"
    assert body["vat_consultation_number"] == ""
    assert [(e["previous_tax_exemption"], e["tax_exemption"]) for e in tax_events] == [
        ("none", "reverse"),
        ("reverse", "none"),
    ]


# --- numbers refused before VIES --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({**FRENCH_ADDRESS, "tax_id": "FR40303265046"}, "check digits"),
        ({**FRENCH_ADDRESS, "tax_id": DE_VALID}, "billing country"),
        ({**FRENCH_ADDRESS, "tax_id": "FR123"}, "length"),
        ({**US_ADDRESS, "tax_id": "US123456789"}, "not an EU member state"),
        ({**FRENCH_ADDRESS, "country": "GB", "tax_id": "GB123456789"}, "Northern Ireland"),
    ],
)
def test_bad_vat_numbers_get_a_field_error_store_nothing_and_never_reach_vies(
    client_a: Any, vies_settings: Any, vies_responder: Any, data: dict[str, Any], reason: str
) -> None:
    response = client_a.put(BILLING_URL, data, format="json")
    assert response.status_code == 400
    assert reason in response.json()["tax_id"][0]
    assert not BillingInformation.objects.exists()
    assert not Customer.objects.exists()
    assert vies_checks(vies_responder) == []


def test_a_country_change_must_agree_with_the_stored_number(
    client_a: Any, vies_settings: Any
) -> None:
    client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    response = client_a.patch(BILLING_URL, {"country": "BE"}, format="json")
    assert response.status_code == 400
    assert "tax_id" in response.json()
    assert BillingInformation.objects.get().country == "FR"


# --- VIES down: saved, VAT charged, rechecked until it answers --------------------------------


@pytest.mark.parametrize("outage", ["SERVICE_UNAVAILABLE", "MS_MAX_CONCURRENT_REQ", "html_503"])
def test_vies_unavailable_saves_with_validation_pending_and_charges_vat(
    client_a: Any, vies_settings: Any, vies_responder: Any, outage: str
) -> None:
    vies_responder.force(outage)
    before = timezone.now()
    response = client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["vat_validation_status"] == "unavailable"
    assert body["tax_exemption"] == "none"
    info = BillingInformation.objects.get()
    assert info.vat_check_attempts == 1
    assert info.vat_next_check_at is not None
    assert info.vat_next_check_at >= before + dt.timedelta(minutes=15)


def test_nothing_listening_at_the_vies_address_is_unavailable_too(
    client_a: Any, vies_settings: Any
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with override_settings(
        PAYMENTS_SYNC=payments_settings_with(VIES={"ADDRESS": f"http://127.0.0.1:{closed_port}/"})
    ):
        response = client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    assert response.status_code == 201
    assert response.json()["vat_validation_status"] == "unavailable"


def test_recheck_backs_off_then_converges_when_vies_returns(
    client_a: Any,
    vies_settings: Any,
    vies_responder: Any,
    no_auto_sync: Any,
    tax_events: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    vies_responder.force("MS_UNAVAILABLE")
    with django_capture_on_commit_callbacks(execute=True):
        client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")
    info = BillingInformation.objects.get()
    first_due = info.vat_next_check_at
    assert first_due is not None
    asked = len(vies_checks(vies_responder))

    # Not due yet: VIES is left alone.
    assert recheck_pending_vat().count == 0
    assert len(vies_checks(vies_responder)) == asked

    # Due, VIES still down: tried again, next try later than the first delay.
    report = recheck_pending_vat(now=first_due + dt.timedelta(seconds=1))
    assert (report.count, report.changed, report.still_pending) == (1, [], [info.pk])
    assert report.counts == {"checked": 1, "changed": 0, "still_pending": 1}
    info.refresh_from_db()
    assert info.vat_check_attempts == 2
    assert info.vat_next_check_at is not None
    assert info.vat_next_check_at - timezone.now() >= dt.timedelta(minutes=29)
    assert info.tax_exemption == "none"

    # VIES is back: the next due recheck confirms the number and switches to reverse charge.
    vies_responder.force(None)
    with django_capture_on_commit_callbacks(execute=True):
        report = recheck_pending_vat(now=info.vat_next_check_at + dt.timedelta(seconds=1))
    assert (report.count, report.changed, report.still_pending) == (1, [info.pk], [])
    info.refresh_from_db()
    assert (info.vat_validation_status, info.tax_exemption) == ("valid", "reverse")
    assert (info.vat_check_attempts, info.vat_next_check_at) == (0, None)
    assert info.vat_validated_at is not None
    assert tax_events[-1]["previous_tax_exemption"] == "none"
    assert tax_events[-1]["tax_exemption"] == "reverse"
    assert tax_events[-1]["previous_vat_validation_status"] == "unavailable"
    assert tax_events[-1]["customer"] == info.customer

    # Nothing is left to recheck.
    assert recheck_pending_vat(force=True).count == 0


def test_the_recheck_command(client_a: Any, vies_settings: Any, vies_responder: Any) -> None:
    with vies_responder.forced("SERVICE_UNAVAILABLE"):
        client_a.put(BILLING_URL, {**FRENCH_ADDRESS, "tax_id": FR_VALID}, format="json")

    out = io.StringIO()
    call_command("payments_sync", "vat", "recheck", stdout=out)
    assert "Rechecked 0 VAT number(s)" in out.getvalue()

    out = io.StringIO()
    call_command("payments_sync", "vat", "recheck", "--force", stdout=out)
    assert "Rechecked 1 VAT number(s): 1 changed status, 0 still waiting" in out.getvalue()
    info = BillingInformation.objects.get()
    assert (info.vat_validation_status, info.tax_exemption) == ("valid", "reverse")


# --- POST billing/validate-vat/ ---------------------------------------------------------------


def test_validate_vat_answers_the_trader_and_saves_nothing(
    client_a: Any, vies_settings: Any, vies_responder: Any
) -> None:
    response = client_a.post(
        VALIDATE_VAT_URL, {"vat_number": "gr 094 512 355", "country": "GR"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["vat_number"] == EL_VALID
    assert body["country_code"] == "EL"
    assert (body["status"], body["valid"]) == ("valid", True)
    assert body["name"] == "Demo Emporiki AE"
    assert "Athina" in body["address"]
    assert body["request_date"]
    assert not BillingInformation.objects.exists()
    assert not Customer.objects.exists()


def test_validate_vat_says_when_vies_cannot_answer(
    client_a: Any, vies_settings: Any, vies_responder: Any
) -> None:
    vies_responder.force("SERVICE_UNAVAILABLE")
    response = client_a.post(VALIDATE_VAT_URL, {"vat_number": FR_VALID}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["valid"]) == ("unavailable", False)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"vat_number": "FR40303265046"}, "vat_number"),
        ({"vat_number": "40303265045"}, "vat_number"),
        ({"vat_number": FR_VALID, "country": "DE"}, "vat_number"),
        ({"vat_number": FR_VALID, "country": "XX"}, "country"),
        ({}, "vat_number"),
    ],
)
def test_validate_vat_refuses_bad_numbers_without_asking_vies(
    client_a: Any, vies_settings: Any, vies_responder: Any, data: dict[str, Any], field: str
) -> None:
    response = client_a.post(VALIDATE_VAT_URL, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert vies_checks(vies_responder) == []


def test_validate_vat_is_throttled_per_user(
    client_a: Any, client_b: Any, vies_settings: Any, settings: Any
) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"payments_sync_vat": "2/minute"},
    }
    answers = [
        client_a.post(VALIDATE_VAT_URL, {"vat_number": FR_VALID}, format="json").status_code
        for _ in range(3)
    ]
    assert answers == [200, 200, 429]
    # Another user has their own allowance.
    assert client_b.post(VALIDATE_VAT_URL, {"vat_number": FR_VALID}).status_code == 200


def test_validate_vat_has_a_default_rate(client_a: Any, vies_settings: Any) -> None:
    from django_payments_sync.api.billing_views import VatCheckThrottle

    answers = {
        client_a.post(VALIDATE_VAT_URL, {"vat_number": FR_VALID}, format="json").status_code
        for _ in range(int(VatCheckThrottle.default_rate.split("/")[0]) + 1)
    }
    assert answers == {200, 429}


def test_a_stored_number_the_offline_rules_refuse_does_not_stop_the_recheck(
    vies_settings: Any, vies_responder: Any
) -> None:
    from tests.factories import BillingInformationFactory

    # Rows written outside the API (an import, the admin): one of them cannot be a VAT number.
    pending = {"country": "FR", "vat_validation_status": "pending"}
    broken = cast(BillingInformation, BillingInformationFactory(tax_id="FR40303265046", **pending))
    fine = cast(BillingInformation, BillingInformationFactory(tax_id=FR_VALID, **pending))

    report = recheck_pending_vat()
    assert sorted(report.changed) == sorted([broken.pk, fine.pk])
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (broken.vat_validation_status, broken.tax_exemption) == ("invalid", "none")
    assert (fine.vat_validation_status, fine.tax_exemption) == ("valid", "reverse")
    assert vies_checks(vies_responder) == [FR_VALID]


def test_the_recheck_command_takes_a_limit(vies_settings: Any, vies_responder: Any) -> None:
    from tests.factories import BillingInformationFactory

    for _ in range(2):
        BillingInformationFactory(country="FR", tax_id=FR_VALID, vat_validation_status="pending")
    out = io.StringIO()
    call_command("payments_sync", "vat", "recheck", "--limit", "1", stdout=out)
    assert "Rechecked 1 VAT number(s): 1 changed status" in out.getvalue()
    assert BillingInformation.objects.filter(vat_validation_status="pending").count() == 1
