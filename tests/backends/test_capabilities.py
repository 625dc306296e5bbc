"""A backend claims a capability only when it implements that capability's operations: the
library and host pages ask ``supports()`` before they offer a feature (a refund, a promotion
code, a usage meter), so a claim the backend cannot keep turns into an error in front of the
customer."""

from __future__ import annotations

import pytest

from django_payments_sync.backends import BaseBackend
from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.backends.paddle import PaddleBackend
from django_payments_sync.backends.stripe import StripeBackend
from django_payments_sync.backends.types import Capability

#: The operations of each capability that has its own (the others share what every backend has).
OPERATIONS: dict[Capability, tuple[str, ...]] = {
    Capability.SUBSCRIPTION_PREVIEW: ("preview_subscription_change",),
    Capability.SUBSCRIPTION_PAUSE: ("pause_subscription", "resume_subscription"),
    Capability.REFUNDS: ("create_refund",),
    Capability.PAYMENTS: ("create_payment",),
    Capability.DISCOUNTS: (
        "create_coupon",
        "update_coupon",
        "delete_coupon",
        "create_promotion_code",
        "update_promotion_code",
        "apply_promotion_code",
    ),
    Capability.METERS: ("create_meter", "deactivate_meter", "send_meter_event"),
    Capability.ENTITLEMENTS: (
        "create_entitlement_feature",
        "list_entitlement_features",
        "attach_product_feature",
        "list_product_features",
        "detach_product_feature",
    ),
}


def unimplemented(backend: type[BaseBackend], capability: Capability) -> list[str]:
    """The operations of ``capability`` that ``backend`` leaves to BaseBackend's refusal."""
    return [
        name
        for name in OPERATIONS[capability]
        if getattr(backend, name) is getattr(BaseBackend, name)
    ]


@pytest.mark.parametrize("backend", [StripeBackend, PaddleBackend, LocmemBackend])
@pytest.mark.parametrize("capability", sorted(OPERATIONS))
def test_a_claimed_capability_is_implemented(
    backend: type[BaseBackend], capability: Capability
) -> None:
    if capability in backend.capabilities:
        assert unimplemented(backend, capability) == [], (
            f"{backend.__name__} claims {capability} without implementing it"
        )
    else:
        assert unimplemented(backend, capability), (
            f"{backend.__name__} implements {capability}: claim it"
        )


def test_paddle_claims_no_refunds_charges_discounts_or_meters() -> None:
    for capability in (
        Capability.REFUNDS,
        Capability.PAYMENTS,
        Capability.DISCOUNTS,
        Capability.METERS,
    ):
        assert capability not in PaddleBackend.capabilities
    assert Capability.CHECKOUT in PaddleBackend.capabilities
    assert Capability.SUBSCRIPTION_PAUSE in PaddleBackend.capabilities
