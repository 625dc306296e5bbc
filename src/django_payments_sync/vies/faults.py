"""How each way a VIES call can fail maps to a status: retry later, or not retryable."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

import requests
from zeep import exceptions as zeep_exceptions

from .result import VatCheckResult, VatStatus

__all__ = [
    "FAULTS",
    "LOCAL_FAILURES",
    "FaultInfo",
    "classify_fault",
    "result_for_exception",
]

logger = logging.getLogger(__name__)


class FaultInfo(NamedTuple):
    status: VatStatus
    message: str


_U = VatStatus.UNAVAILABLE
_E = VatStatus.ERROR

#: Every fault code VIES documents, by the ``faultstring`` it sends.
FAULTS: Mapping[str, FaultInfo] = MappingProxyType(
    {
        "INVALID_INPUT": FaultInfo(
            _E, "VIES rejected the request: bad country code or malformed number."
        ),
        "INVALID_REQUESTER_INFO": FaultInfo(
            _E,
            "VIES rejected the requester's VAT number: check "
            'PAYMENTS_SYNC["VIES"]["REQUESTER_VAT_NUMBER"].',
        ),
        "VAT_BLOCKED": FaultInfo(
            _E, "VIES excludes this number from checks; it needs a manual review."
        ),
        "IP_BLOCKED": FaultInfo(
            _E, "VIES blocked this server's IP address; checks are refused until it is lifted."
        ),
        "SERVICE_UNAVAILABLE": FaultInfo(_U, "VIES is unavailable; the check will be retried."),
        "MS_UNAVAILABLE": FaultInfo(
            _U, "The member state's VAT service is unavailable; the check will be retried."
        ),
        "TIMEOUT": FaultInfo(
            _U, "The member state's VAT service did not answer in time; the check will be retried."
        ),
        "SERVER_BUSY": FaultInfo(_U, "VIES is busy; the check will be retried."),
        "GLOBAL_MAX_CONCURRENT_REQ": FaultInfo(
            _U, "VIES is receiving too many requests; the check will be retried."
        ),
        "GLOBAL_MAX_CONCURRENT_REQ_TIME": FaultInfo(
            _U, "VIES is receiving too many requests; the check will be retried."
        ),
        "MS_MAX_CONCURRENT_REQ": FaultInfo(
            _U, "The member state's VAT service is rate limited; the check will be retried."
        ),
        "MS_MAX_CONCURRENT_REQ_TIME": FaultInfo(
            _U, "The member state's VAT service is rate limited; the check will be retried."
        ),
    }
)

#: Our own codes for failures that never got a SOAP fault from VIES. They are all
#: "unavailable": none of them says anything about the number.
LOCAL_FAILURES: Mapping[str, str] = MappingProxyType(
    {
        "HTTP_ERROR_PAGE": "VIES answered with an error page instead of SOAP; "
        "the check will be retried.",
        "NOT_XML": "VIES answered with something that is not XML; the check will be retried.",
        "BAD_RESPONSE": "VIES answered with an unexpected response; the check will be retried.",
        "NETWORK_TIMEOUT": "VIES did not answer in time; the check will be retried.",
        "CONNECTION_FAILED": "VIES could not be reached; the check will be retried.",
        "UNKNOWN_FAULT": "VIES answered with an unknown fault; the check will be retried.",
        "VIES_DISABLED": 'VIES checks are disabled (PAYMENTS_SYNC["VIES"]["ENABLED"]).',
    }
)

# zeep's message for a Fault it had to make up because the body was not a SOAP envelope
# (its spelling).
_ZEEP_UNKNOWN_FAULT = "Unknown fault occured"


def classify_fault(code: str) -> FaultInfo:
    """Return the status and message for a VIES fault code.

    Codes VIES may add later are treated as "unavailable": a code we do not know says
    nothing about the number, and a customer must never be refused because of it.
    """
    info = FAULTS.get(code.strip().upper())
    if info is not None:
        return info
    return FaultInfo(_U, LOCAL_FAILURES["UNKNOWN_FAULT"])


def _local_failure(code: str) -> tuple[VatStatus, str, str]:
    return _U, code, LOCAL_FAILURES[code]


def _classify_exception(exc: BaseException) -> tuple[VatStatus, str, str]:
    if isinstance(exc, zeep_exceptions.Fault):
        faultstring = (exc.message or "").strip()
        if faultstring == _ZEEP_UNKNOWN_FAULT or not faultstring:
            return _local_failure("HTTP_ERROR_PAGE")
        code = faultstring.upper()
        info = classify_fault(code)
        return info.status, code, info.message
    if isinstance(exc, zeep_exceptions.TransportError):
        return _local_failure("NOT_XML")
    # requests' Timeout covers ConnectTimeout too, which is also a ConnectionError: test first.
    if isinstance(exc, requests.exceptions.Timeout):
        return _local_failure("NETWORK_TIMEOUT")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return _local_failure("CONNECTION_FAILED")
    return _local_failure("BAD_RESPONSE")


def result_for_exception(exc: BaseException, country_code: str, vat_number: str) -> VatCheckResult:
    """Turn whatever a VIES call raised into a result; never raises."""
    status, code, message = _classify_exception(exc)
    if status is VatStatus.ERROR:
        logger.warning("VIES refused to check %s%s: %s", country_code, vat_number, code)
    else:
        logger.info("VIES could not check %s%s (%s): %r", country_code, vat_number, code, exc)
    return VatCheckResult(
        status=status,
        country_code=country_code,
        vat_number=vat_number,
        fault_code=code,
        message=message,
        checked_at=datetime.datetime.now(datetime.UTC),
    )
