"""The VIES stand-in's SOAP: its namespaces, the numbers it knows, parsing requests, answers."""

from __future__ import annotations

import dataclasses
import datetime
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from xml.sax.saxutils import escape

TYPES_NS = "urn:ec.europa.eu:taxud:vies:services:checkVat:types"
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_PATH = Path(__file__).resolve().parents[2] / "vies" / "checkVatService.wsdl"
WSDL_ADDRESS = "http://ec.europa.eu/taxation_customs/vies/services/checkVatService"

#: Every fault code VIES documents.
FAULT_CODES = frozenset(
    {
        "INVALID_INPUT",
        "INVALID_REQUESTER_INFO",
        "SERVICE_UNAVAILABLE",
        "MS_UNAVAILABLE",
        "TIMEOUT",
        "SERVER_BUSY",
        "VAT_BLOCKED",
        "IP_BLOCKED",
        "GLOBAL_MAX_CONCURRENT_REQ",
        "GLOBAL_MAX_CONCURRENT_REQ_TIME",
        "MS_MAX_CONCURRENT_REQ",
        "MS_MAX_CONCURRENT_REQ_TIME",
    }
)
#: Answers no real VIES gives on purpose, but that reach clients all the same.
MISBEHAVIOURS = frozenset({"html_503", "not_xml", "garbage", "slow", "extra_element"})
BEHAVIOURS = FAULT_CODES | MISBEHAVIOURS | {"valid", "invalid"}

#: Number (without prefix, any country) -> behaviour, following the EU test service.
TEST_NUMBERS: Mapping[str, str] = MappingProxyType(
    {
        "100": "valid",
        "200": "invalid",
        "201": "INVALID_INPUT",
        "202": "INVALID_REQUESTER_INFO",
        "300": "SERVICE_UNAVAILABLE",
        "301": "MS_UNAVAILABLE",
        "302": "TIMEOUT",
        "400": "VAT_BLOCKED",
        "401": "IP_BLOCKED",
        "500": "GLOBAL_MAX_CONCURRENT_REQ",
        "501": "GLOBAL_MAX_CONCURRENT_REQ_TIME",
        "600": "MS_MAX_CONCURRENT_REQ",
        "601": "MS_MAX_CONCURRENT_REQ_TIME",
        "900": "html_503",
        "901": "not_xml",
        "902": "garbage",
        "903": "slow",
        "904": "extra_element",
    }
)


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """How the responder answers for one number: a behaviour, and a trader when valid."""

    behaviour: str
    name: str = ""
    address: str = ""


TEST_TRADER = Answer("valid", "VIES Test Trader", "1 Test Street\n1000 Testville")

#: Full numbers (with VIES prefix) that pass python-stdnum's checks, and what VIES says here.
KNOWN_NUMBERS: Mapping[str, Answer] = MappingProxyType(
    {
        "DE812345673": Answer("valid", "Musterhandel GmbH", "Musterstraße 1\n10115 Berlin"),
        "FR40303265045": Answer("valid", "Exemple Conseil SAS", "12 rue de la Paix\n75002 Paris"),
        "FR85812345601": Answer(
            "valid", "Boulangerie Démo SARL", "3 quai du Port\n13002 Marseille"
        ),
        "EL094512355": Answer("valid", "Demo Emporiki AE", "Odos Ermou 10\n10563 Athina"),
        "XI123456782": Answer("valid", "Demo Traders Ltd", "1 Donegall Square\nBelfast BT1 5GS"),
        "NL123456782B01": Answer("valid", "Voorbeeld Handel B.V.", "Damrak 1\n1012 LG Amsterdam"),
        "ATU12345675": Answer("valid", "Beispiel Handels GmbH", "Ring 1\n1010 Wien"),
        "IT12345679992": Answer("valid", "Esempio Commercio S.r.l.", "Via Roma 1\n00184 Roma"),
        "DE812345681": Answer("invalid"),
        "DE812345690": Answer("MS_UNAVAILABLE"),
        "FR42812345619": Answer("VAT_BLOCKED"),
    }
)


@dataclasses.dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the responder saw it (``operation`` is ``GET`` for a WSDL request)."""

    operation: str
    country_code: str = ""
    vat_number: str = ""
    requester_country_code: str = ""
    requester_vat_number: str = ""


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_request(body: bytes) -> ReceivedRequest:
    root = ET.fromstring(body)
    soap_body = next((el for el in root if _local_name(el.tag) == "Body"), None)
    if soap_body is None or len(soap_body) == 0:
        raise ValueError("no SOAP body")
    operation = soap_body[0]
    values = {_local_name(el.tag): (el.text or "").strip() for el in operation}
    return ReceivedRequest(
        operation=_local_name(operation.tag),
        country_code=values.get("countryCode", ""),
        vat_number=values.get("vatNumber", ""),
        requester_country_code=values.get("requesterCountryCode", ""),
        requester_vat_number=values.get("requesterVatNumber", ""),
    )


def soap_envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<env:Envelope xmlns:env="{SOAP_ENV_NS}"><env:Body>{body}</env:Body></env:Envelope>'
    ).encode()


def soap_fault(code: str) -> bytes:
    return soap_envelope(
        f"<env:Fault><faultcode>env:Server</faultcode><faultstring>{code}</faultstring></env:Fault>"
    )


def request_date() -> str:
    # VIES dates its answers in Brussels time and writes the offset after the date.
    brussels = datetime.timezone(datetime.timedelta(hours=1))
    return f"{datetime.datetime.now(brussels).date().isoformat()}+01:00"


def xml_text(tag: str, value: str) -> str:
    return f"<{tag}>{escape(value or '---')}</{tag}>"
