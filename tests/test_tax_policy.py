"""The default tax policy as a table: seller and customer countries by VAT-number state."""

from __future__ import annotations

import pytest

from django_payments_sync.interactor.tax import (
    EU_COUNTRIES,
    TaxDecision,
    decide_tax,
    is_eu_country,
    is_eu_member_state,
)

STATES = ["not_required", "pending", "valid", "invalid", "unavailable", "error"]

# (seller, customer, vat_status, has_vat_number) -> exemption
TABLE = [
    # The seller's own country: VAT, whatever the number says.
    *[("DE", "DE", status, True, "none") for status in STATES],
    ("DE", "DE", "not_required", False, "none"),
    ("FR", "fr", "valid", True, "none"),
    # Another member state: reverse charge only with a number VIES confirmed.
    ("DE", "FR", "valid", True, "reverse"),
    ("DE", "FR", "invalid", True, "none"),
    ("DE", "FR", "pending", True, "none"),
    ("DE", "FR", "unavailable", True, "none"),
    ("DE", "FR", "error", True, "none"),
    ("DE", "FR", "not_required", False, "none"),
    # A "valid" status without a number (stale state) is not enough.
    ("DE", "FR", "valid", False, "none"),
    # Greece is GR as a country and EL to VIES: either way it is in the EU.
    ("DE", "GR", "valid", True, "reverse"),
    ("DE", "EL", "valid", True, "reverse"),
    ("GR", "EL", "valid", True, "none"),
    ("EL", "GR", "valid", True, "none"),
    # Northern Ireland trades goods in the EU VAT area under XI; Great Britain is outside.
    ("DE", "XI", "valid", True, "reverse"),
    ("DE", "XI", "unavailable", True, "none"),
    ("DE", "GB", "valid", True, "exempt"),
    ("DE", "GB", "not_required", False, "exempt"),
    # Outside the EU: exempt, number or not.
    ("DE", "US", "not_required", False, "exempt"),
    ("DE", "CH", "invalid", True, "exempt"),
    ("DE", "NO", "pending", True, "exempt"),
    ("FR", "JP", "valid", True, "exempt"),
    # A seller outside the EU selling to its own country still charges its tax.
    ("US", "US", "not_required", False, "none"),
    # Unknown customer country: charge VAT.
    ("DE", "", "valid", True, "none"),
    ("DE", None, "not_required", False, "none"),
    # No seller country configured: reverse charge cannot be decided, so VAT.
    (None, "FR", "valid", True, "none"),
    (None, "US", "not_required", False, "exempt"),
]


@pytest.mark.parametrize(("seller", "customer", "status", "has_number", "exemption"), TABLE)
def test_default_policy(
    seller: str | None, customer: str | None, status: str, has_number: bool, exemption: str
) -> None:
    decision = decide_tax(
        seller_country=seller,
        customer_country=customer,
        vat_status=status,
        has_vat_number=has_number,
    )
    assert isinstance(decision, TaxDecision)
    assert decision.exemption == exemption
    # A short sentence a person can read on the billing page or in the admin.
    assert decision.reason.endswith(".")
    assert 10 < len(decision.reason) <= 255


def test_every_eu_state_to_another_with_a_valid_number_is_reverse_charge() -> None:
    for seller in EU_COUNTRIES:
        for customer in EU_COUNTRIES - {seller}:
            decision = decide_tax(
                seller_country=seller,
                customer_country=customer,
                vat_status="valid",
                has_vat_number=True,
            )
            assert decision.exemption == "reverse", (seller, customer)


def test_reasons_say_why_vat_is_charged() -> None:
    def reason(status: str, has_number: bool = True) -> str:
        return decide_tax(
            seller_country="DE",
            customer_country="FR",
            vat_status=status,
            has_vat_number=has_number,
        ).reason

    assert "until VIES confirms" in reason("pending")
    assert "retried" in reason("unavailable")
    assert "does not know" in reason("invalid")
    assert "without a VAT number" in reason("not_required", has_number=False)
    assert "Reverse charge" in reason("valid")


def test_eu_countries_are_the_27_member_states() -> None:
    assert len(EU_COUNTRIES) == 27
    assert {"DE", "FR", "GR", "HR", "CY", "MT"} <= EU_COUNTRIES
    assert not {"GB", "CH", "NO", "EL", "XI"} & EU_COUNTRIES


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("DE", True),
        ("de", True),
        (" FR ", True),
        ("GR", True),
        ("EL", True),
        ("XI", True),
        ("GB", False),
        ("CH", False),
        ("", False),
        (None, False),
    ],
)
def test_is_eu_country(code: str | None, expected: bool) -> None:
    assert is_eu_country(code) is expected
    assert is_eu_member_state(code) is expected
