"""The zeep client of VIES, built once per process from the WSDL shipped with the package."""

from __future__ import annotations

import datetime
import functools
import logging
from pathlib import Path
from typing import Any

import zeep
from zeep.exceptions import TransportError
from zeep.proxy import ServiceProxy

from .faults import result_for_exception
from .numbers import compact_vat_number
from .result import VatCheckResult, VatStatus, clean_text

__all__ = [
    "BINDING_QNAME",
    "WSDL_PATH",
    "ViesResponseError",
    "check_vat",
    "get_service",
]

logger = logging.getLogger(__name__)

#: Our own description of the service (see the file's header); no network to build a client.
WSDL_PATH = Path(__file__).with_name("checkVatService.wsdl")
BINDING_QNAME = "{urn:ec.europa.eu:taxud:vies:services:checkVat}checkVatBinding"


class ViesResponseError(Exception):
    """VIES answered with a well-formed message that lacks what every answer must carry."""


class _ViesTransport(zeep.Transport):
    """zeep's transport, refusing bodies that cannot be SOAP before zeep parses them."""

    def post_xml(self, address: str, envelope: Any, headers: Any) -> Any:
        response = super().post_xml(address, envelope, headers)
        # In non-strict mode zeep's parser "recovers" from plain text and then fails somewhere
        # unrelated; say what happened instead.
        if not response.content.lstrip().startswith(b"<"):
            raise TransportError(
                f"VIES answered HTTP {response.status_code} with a body that is not XML",
                status_code=response.status_code,
                content=response.content[:1000],
            )
        return response


@functools.lru_cache(maxsize=4)
def _get_client(timeout: float) -> zeep.Client:
    # zeep re-parses the WSDL for each Client: one per process (per timeout) is enough.
    # operation_timeout bounds the SOAP call; zeep's default for it is to wait forever.
    transport = _ViesTransport(cache=None, timeout=timeout, operation_timeout=timeout)
    # Not strict: this WSDL is written from the public facts, and an element VIES adds to
    # its answers one day must not turn every check into "could not parse".
    settings = zeep.Settings(strict=False)
    return zeep.Client(str(WSDL_PATH), transport=transport, settings=settings)


@functools.lru_cache(maxsize=16)
def get_service(address: str, timeout: float) -> ServiceProxy:
    """The VIES service at ``address``; cached per (address, timeout), so that settings
    changed at run time (``override_settings`` in tests) get their own."""
    return _get_client(float(timeout)).create_service(BINDING_QNAME, address)


def _vies_settings() -> dict[str, Any]:
    from django_payments_sync.conf import payments_settings

    return dict(payments_settings.VIES)


def _field(response: Any, name: str) -> Any:
    try:
        return response[name]
    except (KeyError, AttributeError, TypeError, IndexError):
        return None


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return None


def _approx_address(response: Any) -> str:
    address = clean_text(_field(response, "traderAddress"))
    if address:
        return address
    # Some member states answer with the parts only.
    parts = (
        clean_text(_field(response, "traderStreet")),
        " ".join(
            p
            for p in (
                clean_text(_field(response, "traderPostcode")),
                clean_text(_field(response, "traderCity")),
            )
            if p
        ),
    )
    return "\n".join(p for p in parts if p)


def _split_requester(requester_vat_number: str) -> tuple[str, str]:
    compact = compact_vat_number(requester_vat_number)
    prefix, number = compact[:2], compact[2:]
    if not (prefix.isalpha() and number):
        raise ValueError(
            'PAYMENTS_SYNC["VIES"]["REQUESTER_VAT_NUMBER"] must start with its country '
            f"prefix, such as DE123456789; got {requester_vat_number!r}."
        )
    return ("EL" if prefix == "GR" else prefix), number


def _result_from_response(
    response: Any, country_code: str, vat_number: str, *, approx: bool
) -> VatCheckResult:
    valid = _field(response, "valid")
    if not isinstance(valid, bool):
        raise ViesResponseError(f"no 'valid' flag in VIES's answer: {response!r}")
    if approx:
        name = clean_text(_field(response, "traderName"))
        address = _approx_address(response)
        request_identifier = clean_text(_field(response, "requestIdentifier"))
    else:
        name = clean_text(_field(response, "name"))
        address = clean_text(_field(response, "address"))
        request_identifier = ""
    return VatCheckResult(
        status=VatStatus.VALID if valid else VatStatus.INVALID,
        country_code=country_code,
        vat_number=vat_number,
        name=name if valid else "",
        address=address if valid else "",
        request_identifier=request_identifier,
        request_date=_as_date(_field(response, "requestDate")),
        message="" if valid else "VIES: this VAT number is not registered.",
        checked_at=datetime.datetime.now(datetime.UTC),
    )


def check_vat(
    country_code: str,
    vat_number: str,
    *,
    address: str | None = None,
    timeout: float | None = None,
    requester_vat_number: str | None = None,
) -> VatCheckResult:
    """Ask VIES whether ``vat_number`` is registered in ``country_code`` (VIES's code: ``EL``
    for Greece, ``XI`` for Northern Ireland). Never raises: a failure is a result whose
    status is ``unavailable`` (ask again later) or ``error`` (with the fault code).

    No offline check happens here and nothing is cached: call
    :func:`django_payments_sync.vies.validate_vat` for that. ``address``, ``timeout`` and
    ``requester_vat_number`` default to ``PAYMENTS_SYNC["VIES"]``; pass
    ``requester_vat_number=""`` to check without one. With a requester number the check goes
    through ``checkVatApprox`` and the result keeps VIES's consultation number.
    """
    country_code = country_code.strip().upper()
    vat_number = vat_number.strip()
    config = (
        _vies_settings()
        if address is None or timeout is None or requester_vat_number is None
        else {}
    )
    service_address: str = config["ADDRESS"] if address is None else address
    seconds = float(config["TIMEOUT"] if timeout is None else timeout)
    if requester_vat_number is None:
        requester_vat_number = config.get("REQUESTER_VAT_NUMBER") or ""

    requester: tuple[str, str] | None = None
    if requester_vat_number:
        try:
            requester = _split_requester(requester_vat_number)
        except ValueError as exc:
            logger.error("%s", exc)
            return VatCheckResult(
                status=VatStatus.ERROR,
                country_code=country_code,
                vat_number=vat_number,
                fault_code="INVALID_REQUESTER_INFO",
                message=str(exc),
                checked_at=datetime.datetime.now(datetime.UTC),
            )

    try:
        service = get_service(service_address, seconds)
        if requester is not None:
            response = service.checkVatApprox(
                countryCode=country_code,
                vatNumber=vat_number,
                requesterCountryCode=requester[0],
                requesterVatNumber=requester[1],
            )
        else:
            response = service.checkVat(countryCode=country_code, vatNumber=vat_number)
        return _result_from_response(
            response, country_code, vat_number, approx=requester is not None
        )
    except Exception as exc:
        # Whatever VIES, a proxy or the network did, the caller gets a status, never a crash:
        # a billing form must not fail because VIES misbehaved (faults.py decides which).
        return result_for_exception(exc, country_code, vat_number)
