"""Offline VAT-number checks: normalizing, prefixes (GR is EL, XI), check digits, country."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.eu import vat as eu_vat

from django_payments_sync.vies import (
    InvalidVatNumber,
    VatNumber,
    compact_vat_number,
    iso_country_code,
    normalize_vat_number,
    parse_vat_number,
    vies_country_code,
)


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("DE812345673", None, "DE812345673"),
        ("de 812.345.673", None, "DE812345673"),
        ("DE-812-345-673", "DE", "DE812345673"),
        ("812345673", "DE", "DE812345673"),
        ("fr 40 303 265 045", "FR", "FR40303265045"),
        # Greece: typed GR or EL, always EL for VIES.
        ("GR094512355", None, "EL094512355"),
        ("GR 094 512 355", "GR", "EL094512355"),
        ("EL094512355", "GR", "EL094512355"),
        ("094512355", "GR", "EL094512355"),
        # Northern Ireland: XI numbers, with a GB address (or XI given as the country).
        ("XI123456782", "GB", "XI123456782"),
        ("XI 123 4567 82", None, "XI123456782"),
        ("XI123456782", "XI", "XI123456782"),
        ("atu12345675", "at", "ATU12345675"),
        ("NL123456782B01", "NL", "NL123456782B01"),
    ],
)
def test_valid_numbers_are_normalized(value: str, country: str | None, expected: str) -> None:
    assert normalize_vat_number(value, country) == expected


def test_parse_splits_prefix_and_number() -> None:
    parsed = parse_vat_number("GR094512355")
    assert parsed == VatNumber(country_code="EL", number="094512355")
    assert parsed.full == str(parsed) == "EL094512355"
    assert parsed.iso_country == "GR"
    assert parse_vat_number("XI123456782").iso_country == "GB"


@pytest.mark.parametrize(
    ("value", "country", "code"),
    [
        ("", None, "required"),
        ("  . ", "DE", "required"),
        ("812345673", None, "missing_prefix"),
        ("DE812345674", None, "checksum"),
        ("DE81234567", None, "length"),
        ("DE8123456AB", None, "format"),
        ("FR40303265046", "FR", "checksum"),
        ("US123456789", None, "unknown_prefix"),
        ("GB123456782", None, "unknown_prefix"),
        ("DE812345673", "FR", "country_mismatch"),
        ("EL094512355", "DE", "country_mismatch"),
        ("FR40303265045", "GR", "country_mismatch"),
        ("DE812345673", "US", "not_eu"),
        ("DE812345673", "CH", "not_eu"),
        # A British address: only Northern Ireland's XI numbers are in VIES.
        ("GB123456782", "GB", "missing_prefix"),
        ("123456782", "GB", "missing_prefix"),
        ("DE812345673", "GB", "country_mismatch"),
        ("XI123456783", "GB", "checksum"),
    ],
)
def test_bad_numbers_raise_a_field_error_with_a_message(
    value: str, country: str | None, code: str
) -> None:
    with pytest.raises(InvalidVatNumber) as caught:
        parse_vat_number(value, country)
    assert caught.value.code == code
    message = str(caught.value)
    # Shown to a customer as it is: a sentence, not Django's list repr.
    assert message
    assert not message.startswith("[")
    assert message.endswith(".")


def test_mismatch_message_names_both_countries() -> None:
    with pytest.raises(InvalidVatNumber, match=r"Germany \(DE\).*billing country is FR"):
        parse_vat_number("DE812345673", "FR")


def test_invalid_vat_number_is_a_django_validation_error() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        parse_vat_number("DE812345674")
    assert caught.value.messages == [str(caught.value)]


@pytest.mark.parametrize(
    ("country", "prefix"),
    [("DE", "DE"), ("gr", "EL"), ("EL", "EL"), ("XI", "XI"), ("GB", None), ("US", None)],
)
def test_vies_country_code(country: str, prefix: str | None) -> None:
    assert vies_country_code(country) == prefix


def test_iso_country_code() -> None:
    assert [iso_country_code(p) for p in ("EL", "XI", "DE", "fr")] == ["GR", "GB", "DE", "FR"]


def test_compact_only_strips_separators() -> None:
    assert compact_vat_number(" fr 40/303.265-045 ") == "FR40303265045"


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-", max_size=16))
def test_parse_either_returns_a_number_stdnum_accepts_or_raises_invalid(value: str) -> None:
    try:
        parsed = parse_vat_number(value)
    except InvalidVatNumber:
        # Anything else (a stdnum exception, an IndexError) would fail the test.
        return
    assert eu_vat.is_valid(parsed.full)
    assert parsed.country_code != "GR"
    assert 2 <= len(parsed.number) <= 12


@given(st.sampled_from(["DE812345673", "FR40303265045", "EL094512355", "XI123456782"]))
def test_normalizing_is_idempotent(number: str) -> None:
    once = normalize_vat_number(number)
    assert normalize_vat_number(once) == once
    assert normalize_vat_number(once, parse_vat_number(once).iso_country) == once
