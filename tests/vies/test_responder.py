"""The local VIES responder itself: lifecycle, steering, WSDL, and its command line."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest

from django_payments_sync.testing.vies_responder import KNOWN_NUMBERS, VIESResponder
from django_payments_sync.vies import VatStatus, check_vat, parse_vat_number


def test_known_numbers_pass_the_offline_checks() -> None:
    # Otherwise validate_vat would refuse them before they reach the responder.
    for number in KNOWN_NUMBERS:
        assert parse_vat_number(number).full == number


def test_context_manager_starts_and_stops() -> None:
    with VIESResponder() as responder:
        url = responder.url
        assert check_vat("DE", "100", address=url, timeout=2, requester_vat_number="").is_valid
    with pytest.raises(RuntimeError):
        _ = responder.url
    result = check_vat("DE", "100", address=url, timeout=2, requester_vat_number="")
    assert result.status is VatStatus.UNAVAILABLE


def test_get_serves_the_wsdl_naming_the_responder(vies_responder: VIESResponder) -> None:
    with urllib.request.urlopen(vies_responder.url + "?wsdl", timeout=2) as response:
        body = response.read().decode()
    assert f'location="{vies_responder.url}"' in body
    assert "checkVatApprox" in body
    assert [r.operation for r in vies_responder.requests] == ["GET"]


def test_register_refuses_an_unknown_behaviour(vies_responder: VIESResponder) -> None:
    with pytest.raises(ValueError, match="Unknown behaviour"):
        vies_responder.register("DE812345673", "sometimes")
    with pytest.raises(ValueError, match="Unknown behaviour"):
        vies_responder.force("down")


def test_reset_forgets_requests_and_steering(vies_responder: VIESResponder) -> None:
    vies_responder.register("DE100", "invalid")
    vies_responder.force("TIMEOUT")
    vies_responder.delay = 0.05
    check_vat("DE", "100", address=vies_responder.url, timeout=2, requester_vat_number="")
    assert vies_responder.request_count == 1
    vies_responder.reset()
    assert (vies_responder.request_count, vies_responder.delay) == (0, 0.0)
    assert vies_responder.answer_for("DE", "100").behaviour == "valid"


def test_command_line_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "django_payments_sync.testing.vies_responder", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("VIES responder listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[-1].strip()
        result = check_vat("FR", "40303265045", address=url, timeout=5, requester_vat_number="")
        assert (result.status, result.name) == (VatStatus.VALID, "Exemple Conseil SAS")
    finally:
        process.terminate()
        process.wait(timeout=10)
