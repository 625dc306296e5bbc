"""check_vat: real zeep over real HTTP to the local VIES responder, per way VIES answers."""

from __future__ import annotations

import datetime
import socket
import time
from typing import Any

import pytest
from django.test import override_settings

from django_payments_sync.testing.vies_responder import VIESResponder
from django_payments_sync.vies import VatStatus, check_vat
from django_payments_sync.vies.client import get_service

#: Test-service number -> (fault code VIES sends, the status we must map it to).
FAULT_TABLE = [
    ("201", "INVALID_INPUT", "error"),
    ("202", "INVALID_REQUESTER_INFO", "error"),
    ("300", "SERVICE_UNAVAILABLE", "unavailable"),
    ("301", "MS_UNAVAILABLE", "unavailable"),
    ("302", "TIMEOUT", "unavailable"),
    ("400", "VAT_BLOCKED", "error"),
    ("401", "IP_BLOCKED", "error"),
    ("500", "GLOBAL_MAX_CONCURRENT_REQ", "unavailable"),
    ("501", "GLOBAL_MAX_CONCURRENT_REQ_TIME", "unavailable"),
    ("600", "MS_MAX_CONCURRENT_REQ", "unavailable"),
    ("601", "MS_MAX_CONCURRENT_REQ_TIME", "unavailable"),
]


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check(responder: VIESResponder, number: str, country: str = "DE", **kwargs: Any) -> Any:
    kwargs.setdefault("timeout", 2.0)
    kwargs.setdefault("requester_vat_number", "")
    return check_vat(country, number, address=responder.url, **kwargs)


def test_valid_number_comes_back_with_trader_name_address_and_date(
    vies_responder: VIESResponder,
) -> None:
    result = check(vies_responder, "100")
    assert result.status is VatStatus.VALID
    assert result.is_valid
    assert result.is_definitive
    assert not result.retryable
    assert (result.country_code, result.vat_number) == ("DE", "100")
    assert result.name == "VIES Test Trader"
    assert result.address == "1 Test Street\n1000 Testville"
    # The responder dates its answers like VIES ("2026-05-06+01:00"): zeep gives a date.
    assert isinstance(result.request_date, datetime.date)
    assert result.fault_code == ""
    assert result.request_identifier == ""
    assert [(r.operation, r.country_code, r.vat_number) for r in vies_responder.requests] == [
        ("checkVat", "DE", "100")
    ]


def test_invalid_number_has_no_name_or_address(vies_responder: VIESResponder) -> None:
    result = check(vies_responder, "200")
    assert result.status is VatStatus.INVALID
    assert result.is_definitive
    assert not result.retryable
    # VIES sends "---" for withheld values: they are empty, not a name.
    assert (result.name, result.address) == ("", "")
    assert result.message


def test_an_unknown_number_is_invalid(vies_responder: VIESResponder) -> None:
    assert check(vies_responder, "812345681").status is VatStatus.INVALID


@pytest.mark.parametrize(("number", "code", "status"), FAULT_TABLE)
def test_each_fault_code_maps_to_its_status(
    vies_responder: VIESResponder, number: str, code: str, status: str
) -> None:
    result = check(vies_responder, number)
    assert result.status == status
    assert result.fault_code == code
    assert result.retryable is (status == "unavailable")
    assert result.message
    assert (result.name, result.request_date) == ("", None)
    assert vies_responder.request_count == 1


def test_every_fault_code_the_responder_knows_is_in_the_table() -> None:
    from django_payments_sync.testing.vies_responder import FAULT_CODES
    from django_payments_sync.vies import FAULTS

    table_codes = {code for _, code, _ in FAULT_TABLE}
    # SERVER_BUSY has no test-service number; it is mapped all the same.
    assert table_codes | {"SERVER_BUSY"} == set(FAULT_CODES) == set(FAULTS)
    assert FAULTS["SERVER_BUSY"].status is VatStatus.UNAVAILABLE


def test_a_fault_code_vies_may_add_later_means_unavailable(vies_responder: VIESResponder) -> None:
    vies_responder.register("DE100", "SERVER_BUSY")
    assert check(vies_responder, "100").status is VatStatus.UNAVAILABLE
    from django_payments_sync.vies import classify_fault

    assert classify_fault("SOMETHING_NEW").status is VatStatus.UNAVAILABLE


def test_html_503_page_is_unavailable_not_invalid(vies_responder: VIESResponder) -> None:
    result = check(vies_responder, "900")
    assert result.status is VatStatus.UNAVAILABLE
    assert result.fault_code == "HTTP_ERROR_PAGE"
    assert result.retryable


def test_non_xml_200_is_unavailable(vies_responder: VIESResponder) -> None:
    result = check(vies_responder, "901")
    assert result.status is VatStatus.UNAVAILABLE
    assert result.retryable
    assert result.fault_code == "NOT_XML"


def test_xml_that_is_not_soap_is_unavailable(vies_responder: VIESResponder) -> None:
    result = check(vies_responder, "902")
    assert result.status is VatStatus.UNAVAILABLE
    assert result.fault_code == "BAD_RESPONSE"


def test_an_element_vies_adds_one_day_does_not_break_the_check(
    vies_responder: VIESResponder,
) -> None:
    result = check(vies_responder, "904")
    assert result.status is VatStatus.VALID
    assert result.name == "VIES Test Trader"


def test_a_reply_slower_than_the_timeout_is_unavailable_and_does_not_wait(
    vies_responder: VIESResponder,
) -> None:
    vies_responder.slow_delay = 2.0
    started = time.monotonic()
    result = check(vies_responder, "903", timeout=0.3)
    elapsed = time.monotonic() - started
    assert result.status is VatStatus.UNAVAILABLE
    assert result.fault_code == "NETWORK_TIMEOUT"
    assert elapsed < 1.5
    assert vies_responder.request_count == 1


def test_a_slow_reply_within_the_timeout_is_answered(vies_responder: VIESResponder) -> None:
    vies_responder.delay = 0.2
    result = check(vies_responder, "100", timeout=2.0)
    assert result.status is VatStatus.VALID


def test_nothing_listening_is_unavailable() -> None:
    started = time.monotonic()
    result = check_vat(
        "DE",
        "100",
        address=f"http://127.0.0.1:{closed_port()}/",
        timeout=2.0,
        requester_vat_number="",
    )
    assert result.status is VatStatus.UNAVAILABLE
    assert result.fault_code == "CONNECTION_FAILED"
    assert time.monotonic() - started < 2.0


def test_check_vat_approx_keeps_the_consultation_number(vies_responder: VIESResponder) -> None:
    result = check(
        vies_responder, "40303265045", country="FR", requester_vat_number="DE 812 345 673"
    )
    assert result.status is VatStatus.VALID
    assert result.name == "Exemple Conseil SAS"
    assert result.address == "12 rue de la Paix\n75002 Paris"
    assert result.request_identifier.startswith("LOCAL")
    (request,) = vies_responder.requests
    assert request.operation == "checkVatApprox"
    assert (request.requester_country_code, request.requester_vat_number) == ("DE", "812345673")
    # Each consultation gets its own number.
    again = check(vies_responder, "40303265045", country="FR", requester_vat_number="DE812345673")
    assert again.request_identifier
    assert again.request_identifier != result.request_identifier


def test_a_greek_requester_number_is_sent_as_el(vies_responder: VIESResponder) -> None:
    check(vies_responder, "100", requester_vat_number="GR094512355")
    (request,) = vies_responder.requests
    assert (request.requester_country_code, request.requester_vat_number) == ("EL", "094512355")


def test_faults_of_check_vat_approx_map_the_same_way(vies_responder: VIESResponder) -> None:
    result = check(vies_responder, "202", requester_vat_number="DE812345673")
    assert (result.status, result.fault_code) == (VatStatus.ERROR, "INVALID_REQUESTER_INFO")
    result = check(vies_responder, "200", requester_vat_number="DE812345673")
    assert result.status is VatStatus.INVALID
    assert result.name == ""


def test_a_requester_number_without_prefix_is_a_configuration_error(
    vies_responder: VIESResponder,
) -> None:
    result = check(vies_responder, "100", requester_vat_number="812345673")
    assert result.status is VatStatus.ERROR
    assert "REQUESTER_VAT_NUMBER" in result.message
    assert vies_responder.request_count == 0


def test_check_vat_reads_address_timeout_and_requester_from_settings(
    vies_settings: dict[str, Any], vies_responder: VIESResponder
) -> None:
    assert check_vat("DE", "100").status is VatStatus.VALID
    assert vies_responder.requests[-1].operation == "checkVat"
    from django.conf import settings

    with override_settings(
        PAYMENTS_SYNC={
            **settings.PAYMENTS_SYNC,
            "VIES": {**vies_settings, "REQUESTER_VAT_NUMBER": "DE812345673"},
        }
    ):
        result = check_vat("DE", "100")
    assert result.request_identifier
    assert vies_responder.requests[-1].operation == "checkVatApprox"


def test_overridden_address_is_used(vies_settings: dict[str, Any]) -> None:
    from django.conf import settings

    dead = f"http://127.0.0.1:{closed_port()}/"
    with override_settings(
        PAYMENTS_SYNC={**settings.PAYMENTS_SYNC, "VIES": {**vies_settings, "ADDRESS": dead}}
    ):
        assert check_vat("DE", "100").fault_code == "CONNECTION_FAILED"


def test_the_service_is_built_once_per_address_and_timeout(vies_responder: VIESResponder) -> None:
    first = get_service(vies_responder.url, 2.0)
    assert get_service(vies_responder.url, 2.0) is first
    assert get_service(vies_responder.url, 3.0) is not first
    # Both share the one client built from the shipped WSDL when the timeout is the same.
    assert get_service("http://127.0.0.1:1/", 2.0)._client is first._client


def test_a_forced_outage_answers_every_number(vies_responder: VIESResponder) -> None:
    with vies_responder.forced("MS_UNAVAILABLE"):
        assert check(vies_responder, "100").fault_code == "MS_UNAVAILABLE"
    assert check(vies_responder, "100").status is VatStatus.VALID
