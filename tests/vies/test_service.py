"""validate_vat: offline first, then the database cache, then VIES through the local responder."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from django_payments_sync.models import VatCheck
from django_payments_sync.testing.vies_responder import VIESResponder
from django_payments_sync.vies import InvalidVatNumber, VatStatus, validate_vat
from django_payments_sync.vies.service import UNAVAILABLE_CACHE_TTL

pytestmark = pytest.mark.django_db

DE_VALID = "DE812345673"
FR_VALID = "FR40303265045"
DE_INVALID = "DE812345681"
DE_MS_DOWN = "DE812345690"
FR_BLOCKED = "FR42812345619"


def vies_overrides(vies: dict[str, Any], **changes: Any) -> Any:
    return override_settings(PAYMENTS_SYNC={**settings.PAYMENTS_SYNC, "VIES": {**vies, **changes}})


def test_valid_number_is_checked_then_answered_from_the_cache(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    first = validate_vat("de 812 345 673", "DE")
    assert first.status is VatStatus.VALID
    assert first.cached is False
    assert first.name == "Musterhandel GmbH"
    assert vies_responder.request_count == 1

    second = validate_vat(DE_VALID, "DE")
    assert vies_responder.request_count == 1
    assert second.cached is True
    assert (second.status, second.name, second.address, second.request_date) == (
        first.status,
        first.name,
        first.address,
        first.request_date,
    )
    row = VatCheck.objects.get(country_code="DE", vat_number="812345673")
    assert row.status == "valid"


def test_the_cache_lasts_cache_ttl(vies_settings: dict[str, Any]) -> None:
    with vies_overrides(vies_settings, CACHE_TTL=3600):
        before = timezone.now()
        validate_vat(DE_VALID)
        after = timezone.now()
    row = VatCheck.objects.get()
    hour = datetime.timedelta(hours=1)
    assert before + hour <= row.expires_at <= after + hour
    assert before <= row.checked_at <= after


def test_an_expired_answer_is_asked_again(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    validate_vat(DE_VALID)
    VatCheck.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    vies_responder.register(DE_VALID, "invalid")
    result = validate_vat(DE_VALID)
    assert result.status is VatStatus.INVALID
    assert result.cached is False
    assert vies_responder.request_count == 2
    assert VatCheck.objects.get().status == "invalid"


def test_invalid_answers_are_cached_too(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    assert validate_vat(DE_INVALID).status is VatStatus.INVALID
    again = validate_vat(DE_INVALID)
    assert (again.status, again.cached, again.message) == (
        VatStatus.INVALID,
        True,
        "VIES: this VAT number is not registered.",
    )
    assert vies_responder.request_count == 1


def test_use_cache_false_always_asks_vies(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    validate_vat(DE_VALID)
    result = validate_vat(DE_VALID, use_cache=False)
    assert result.cached is False
    assert vies_responder.request_count == 2


def test_unavailable_is_cached_only_briefly(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    before = timezone.now()
    result = validate_vat(DE_MS_DOWN)
    assert (result.status, result.fault_code) == (VatStatus.UNAVAILABLE, "MS_UNAVAILABLE")
    assert result.retryable
    row = VatCheck.objects.get()
    assert row.status == "unavailable"
    assert row.expires_at <= timezone.now() + UNAVAILABLE_CACHE_TTL
    assert row.expires_at >= before + UNAVAILABLE_CACHE_TTL
    # Within that short while, a second form submission does not wait for VIES again...
    assert validate_vat(DE_MS_DOWN).cached is True
    assert vies_responder.request_count == 1
    # ...and once it has passed, VIES is asked again.
    VatCheck.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    vies_responder.register(DE_MS_DOWN, "valid", name="Back Again GmbH")
    result = validate_vat(DE_MS_DOWN)
    assert (result.status, result.name) == (VatStatus.VALID, "Back Again GmbH")
    assert vies_responder.request_count == 2


def test_an_outage_does_not_replace_a_fresh_valid_answer(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    validate_vat(DE_VALID)
    with vies_responder.forced("SERVICE_UNAVAILABLE"):
        result = validate_vat(DE_VALID, use_cache=False)
    assert result.status is VatStatus.UNAVAILABLE
    assert VatCheck.objects.get().status == "valid"
    assert validate_vat(DE_VALID).status is VatStatus.VALID


def test_errors_are_not_retryable_and_keep_their_fault_code(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    result = validate_vat(FR_BLOCKED, "FR")
    assert (result.status, result.fault_code, result.retryable) == (
        VatStatus.ERROR,
        "VAT_BLOCKED",
        False,
    )
    cached = validate_vat(FR_BLOCKED, "FR")
    assert (cached.cached, cached.fault_code) == (True, "VAT_BLOCKED")
    assert "manual review" in cached.message


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("DE812345674", None),  # check digit
        ("DE8123456", "DE"),  # length
        ("812345673", None),  # no prefix, no country
        ("DE812345673", "FR"),  # another country than the address
        ("GB123456782", "GB"),  # Great Britain is not in VIES
        ("", "DE"),
    ],
)
def test_malformed_numbers_never_reach_vies(
    vies_settings: dict[str, Any], vies_responder: VIESResponder, number: str, country: str | None
) -> None:
    with pytest.raises(InvalidVatNumber):
        validate_vat(number, country)
    assert vies_responder.request_count == 0
    assert not VatCheck.objects.exists()


def test_greek_numbers_are_asked_about_as_el(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    result = validate_vat("GR094512355", "GR")
    assert (result.status, result.country_code, result.full_number) == (
        VatStatus.VALID,
        "EL",
        "EL094512355",
    )
    (request,) = vies_responder.requests
    assert (request.country_code, request.vat_number) == ("EL", "094512355")
    assert VatCheck.objects.filter(country_code="EL", vat_number="094512355").exists()


def test_northern_ireland_numbers_are_asked_about_as_xi(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    result = validate_vat("XI 123 4567 82", "GB")
    assert (result.status, result.name) == (VatStatus.VALID, "Demo Traders Ltd")
    (request,) = vies_responder.requests
    assert (request.country_code, request.vat_number) == ("XI", "123456782")


def test_the_consultation_number_is_kept_and_cached(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    with vies_overrides(vies_settings, REQUESTER_VAT_NUMBER="DE812345673"):
        result = validate_vat(FR_VALID, "FR")
        cached = validate_vat(FR_VALID, "FR")
    assert result.request_identifier
    assert cached.request_identifier == result.request_identifier
    assert cached.cached is True
    assert VatCheck.objects.get().request_identifier == result.request_identifier
    assert vies_responder.requests[0].operation == "checkVatApprox"


def test_a_slow_vies_is_unavailable_within_the_timeout(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    vies_responder.delay = 2.0
    with vies_overrides(vies_settings, TIMEOUT=0.3):
        result = validate_vat(DE_VALID)
    assert (result.status, result.fault_code) == (VatStatus.UNAVAILABLE, "NETWORK_TIMEOUT")


def test_disabled_vies_answers_unavailable_without_a_request(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    with vies_overrides(vies_settings, ENABLED=False):
        result = validate_vat(DE_VALID)
    assert (result.status, result.fault_code) == (VatStatus.UNAVAILABLE, "VIES_DISABLED")
    assert vies_responder.request_count == 0
    assert not VatCheck.objects.exists()


def test_offline_checks_still_apply_when_vies_is_disabled(vies_settings: dict[str, Any]) -> None:
    with vies_overrides(vies_settings, ENABLED=False), pytest.raises(InvalidVatNumber):
        validate_vat("DE812345674")
