"""The provider contract: the base class every payment-provider backend implements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from typing import Any, ClassVar

from django.core.checks import CheckMessage
from django.core.checks import Error as CheckError

from django_payments_sync.backends.entitlements import EntitlementOperations
from django_payments_sync.backends.types import (
    Capability,
    CheckoutData,
    CheckoutSession,
    CouponData,
    CustomerData,
    EventKind,
    InvoicePreview,
    MeterData,
    MeterEventData,
    PaymentData,
    PortalSession,
    PriceData,
    ProductData,
    PromotionCodeData,
    ProviderCoupon,
    ProviderCustomer,
    ProviderEvent,
    ProviderInvoice,
    ProviderMeter,
    ProviderPayment,
    ProviderPrice,
    ProviderProduct,
    ProviderPromotionCode,
    ProviderRefund,
    ProviderSubscription,
    ProviderTaxId,
    RefundData,
    SubscriptionData,
    TaxIdData,
    WebhookEndpoint,
    event_kind,
)
from django_payments_sync.exceptions import (
    PaymentsSyncImproperlyConfigured,
    UnsupportedOperation,
)


class BaseBackend(EntitlementOperations):
    """A payment provider. Subclasses set the class attributes and implement what they support.

    Operations take and return the provider-neutral types of :mod:`.types`. An operation the
    backend does not support raises :class:`~django_payments_sync.exceptions.UnsupportedOperation`.
    Provider errors are raised as :class:`~django_payments_sync.exceptions.ProviderError`
    subclasses, transient ones as ``TransientProviderError``.
    """

    #: Short name stored in the ``provider`` column of External rows, e.g. ``"stripe"``.
    provider_name: ClassVar[str] = ""
    #: Human name.
    display_name: ClassVar[str] = ""
    #: What the backend can do.
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: Every option the backend accepts, with its default (``REQUIRED`` for none).
    option_defaults: ClassVar[Mapping[str, Any]] = {}
    REQUIRED: ClassVar[object] = object()

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.option_defaults))
        if unknown:
            raise PaymentsSyncImproperlyConfigured(
                f"Unknown option(s) for {type(self).__name__} in PAYMENTS_SYNC['OPTIONS']: "
                f"{', '.join(unknown)}. Known options: {', '.join(sorted(self.option_defaults))}."
            )
        merged = {**self.option_defaults, **options}
        missing = sorted(k for k, v in merged.items() if v is self.REQUIRED)
        if missing:
            raise PaymentsSyncImproperlyConfigured(
                f"{type(self).__name__} needs PAYMENTS_SYNC['OPTIONS'][{missing[0]!r}]."
            )
        self.options: dict[str, Any] = merged

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[CheckMessage]:
        """System-check messages about unknown or missing ``options``; subclasses add more."""
        messages: list[CheckMessage] = []
        unknown = sorted(set(options) - set(cls.option_defaults))
        if unknown:
            messages.append(
                CheckError(
                    f"Unknown option(s) for {cls.__name__}: {', '.join(unknown)}.",
                    hint=f"Known options: {', '.join(sorted(cls.option_defaults))}.",
                    id="payments_sync.E002",
                )
            )
        return messages

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    # --- the account ----------------------------------------------------------------------
    def account_id(self) -> str:
        """The identity of the provider account the configured credentials reach.

        Links record it, and the library refuses to push to, diff or check out against another
        account than the one the installation is bound to (see ``payments_sync relink``). It
        must tell test and live data apart (Stripe: ``"acct_123:test"``). Implementations
        cache it per instance: it is asked before every push and checkout. The default, the
        provider name, suits a backend that can reach only one account.
        """
        return self.provider_name or type(self).__name__

    def default_rate_limit(self) -> float | None:
        """Provider operations a second ``payments_sync push`` may spend when no setting says
        otherwise: the provider's limit for these credentials, or None for no limit. The
        default, 25, is Stripe's test-mode limit (a cautious figure for a provider that
        documents none)."""
        return 25.0

    def _unsupported(self, operation: str) -> UnsupportedOperation:
        return UnsupportedOperation(
            f"The {self.display_name or type(self).__name__} backend does not support {operation}."
        )

    # --- customers ------------------------------------------------------------------------
    def create_customer(self, data: CustomerData, *, idempotency_key: str) -> ProviderCustomer:
        raise self._unsupported("creating customers")

    def update_customer(
        self,
        customer_id: str,
        data: CustomerData,
        *,
        idempotency_key: str | None = None,
        fields: Collection[str] | None = None,
    ) -> ProviderCustomer:
        """Update the provider customer; with ``fields`` (names of :class:`CustomerData`'s
        fields), only those, leaving the others as the provider holds them."""
        raise self._unsupported("updating customers")

    def delete_customer(self, customer_id: str) -> None:
        raise self._unsupported("deleting customers")

    def set_tax_exemption(self, customer_id: str, exemption: str) -> ProviderCustomer:
        raise self._unsupported("setting tax exemption")

    def add_tax_id(
        self, customer_id: str, data: TaxIdData, *, idempotency_key: str | None = None
    ) -> ProviderTaxId:
        raise self._unsupported("adding tax ids")

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        raise self._unsupported("removing tax ids")

    def list_tax_ids(self, customer_id: str) -> list[ProviderTaxId]:
        raise self._unsupported("listing tax ids")

    def list_customers(self, *, with_tax_ids: bool = False) -> Iterator[ProviderCustomer]:
        """Every customer, read in pages; ``with_tax_ids`` fills ``ProviderCustomer.tax_ids``
        in the same pages (no call per customer)."""
        raise self._unsupported("listing customers")

    # --- catalog --------------------------------------------------------------------------
    def create_product(self, data: ProductData, *, idempotency_key: str) -> ProviderProduct:
        raise self._unsupported("creating products")

    def update_product(
        self, product_id: str, data: ProductData, *, idempotency_key: str | None = None
    ) -> ProviderProduct:
        raise self._unsupported("updating products")

    def archive_product(self, product_id: str) -> ProviderProduct:
        raise self._unsupported("archiving products")

    def list_products(self) -> Iterator[ProviderProduct]:
        """Every product (active and archived), read in pages."""
        raise self._unsupported("listing products")

    def create_price(self, data: PriceData, *, idempotency_key: str) -> ProviderPrice:
        """Create a price; one with ``data.meter_id`` is metered (``Capability.METERS``: a
        backend without meters raises ``UnsupportedOperation`` for it)."""
        raise self._unsupported("creating prices")

    def archive_price(self, price_id: str) -> ProviderPrice:
        raise self._unsupported("archiving prices")

    def update_price_metadata(self, price_id: str, data: PriceData) -> ProviderPrice:
        raise self._unsupported("updating prices")

    def list_prices(
        self, *, product_id: str | None = None, active: bool | None = None
    ) -> Iterator[ProviderPrice]:
        """Every price (active and archived), optionally of one product or one state, in pages."""
        raise self._unsupported("listing prices")

    # --- subscriptions --------------------------------------------------------------------
    def create_subscription(
        self, data: SubscriptionData, *, idempotency_key: str
    ) -> ProviderSubscription:
        raise self._unsupported("creating subscriptions")

    def update_subscription(
        self,
        subscription_id: str,
        *,
        price_id: str | None = None,
        quantity: int | None = None,
        proration_behavior: str | None = None,
        cancel_at_period_end: bool | None = None,
        idempotency_key: str | None = None,
    ) -> ProviderSubscription:
        raise self._unsupported("updating subscriptions")

    def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool = True
    ) -> ProviderSubscription:
        raise self._unsupported("canceling subscriptions")

    def list_subscriptions(self, customer_id: str | None = None) -> Iterator[ProviderSubscription]:
        raise self._unsupported("listing subscriptions")

    # --- the subscription lifecycle (issue 16) ----------------------------------------------
    def preview_subscription_change(
        self,
        subscription_id: str,
        *,
        price_id: str | None = None,
        quantity: int | None = None,
        proration_behavior: str = "create_prorations",
    ) -> InvoicePreview:
        """What the next invoice would be if the subscription's one item moved to ``price_id``
        and/or ``quantity`` with ``proration_behavior``, changing nothing at the provider
        (``Capability.SUBSCRIPTION_PREVIEW``; Stripe: ``POST /v1/invoices/create_preview``).
        With ``always_invoice`` the preview is the invoice the change bills at once."""
        raise self._unsupported("previewing subscription changes")

    def pause_subscription(
        self, subscription_id: str, *, behavior: str, resumes_at: dt.datetime | None = None
    ) -> ProviderSubscription:
        """Pause the subscription's payment collection (``Capability.SUBSCRIPTION_PAUSE``):
        its invoices are kept as drafts, marked uncollectible or voided (``behavior``) until
        :meth:`resume_subscription`, or ``resumes_at``. Its status does not change."""
        raise self._unsupported("pausing subscriptions")

    def resume_subscription(self, subscription_id: str) -> ProviderSubscription:
        """Collect the subscription's payments again (``Capability.SUBSCRIPTION_PAUSE``)."""
        raise self._unsupported("resuming subscriptions")

    # --- checkout, portal, invoices -------------------------------------------------------
    def create_checkout_session(
        self, data: CheckoutData, *, idempotency_key: str
    ) -> CheckoutSession:
        raise self._unsupported("checkout sessions")

    def create_portal_session(self, customer_id: str, return_url: str) -> PortalSession:
        raise self._unsupported("customer portal sessions")

    def list_invoices(self, customer_id: str) -> Iterator[ProviderInvoice]:
        raise self._unsupported("listing invoices")

    # --- usage meters (Capability.METERS) -------------------------------------------------
    def create_meter(self, data: MeterData, *, idempotency_key: str) -> ProviderMeter:
        raise self._unsupported("usage meters")

    def deactivate_meter(self, meter_id: str) -> None:
        """Stop a meter from taking events (a replaced or deactivated local meter)."""
        raise self._unsupported("usage meters")

    def send_meter_event(self, data: MeterEventData) -> None:
        """Report one usage event. An identifier the provider has counted already is success
        (nothing is counted twice); a transient failure is a ``TransientProviderError``, after
        which the same event is sent again with the same identifier."""
        raise self._unsupported("usage meters")

    # --- discounts (Capability.DISCOUNTS) --------------------------------------------------
    def create_coupon(self, data: CouponData, *, idempotency_key: str) -> ProviderCoupon:
        """Create a coupon with ``data``'s terms (the library replaces it for new terms)."""
        raise self._unsupported("coupons")

    def update_coupon(self, coupon_id: str, data: CouponData) -> ProviderCoupon:
        """Change what may change of a coupon: its name and metadata."""
        raise self._unsupported("coupons")

    def delete_coupon(self, coupon_id: str) -> None:
        """Stop a coupon's redemptions (discounts already given run on); gone is fine."""
        raise self._unsupported("coupons")

    def create_promotion_code(
        self, data: PromotionCodeData, *, idempotency_key: str
    ) -> ProviderPromotionCode:
        raise self._unsupported("promotion codes")

    def update_promotion_code(
        self, promotion_code_id: str, *, active: bool, metadata: dict[str, str] | None = None
    ) -> ProviderPromotionCode:
        """Turn a promotion code on or off (its code, coupon and limits are immutable)."""
        raise self._unsupported("promotion codes")

    def apply_promotion_code(
        self, subscription_id: str, promotion_code_id: str
    ) -> ProviderSubscription:
        """Give a subscription the discount of a promotion code (replacing its discount)."""
        raise self._unsupported("discounts on subscriptions")

    # --- one-off charges (Capability.PAYMENTS) --------------------------------------------
    def create_payment(self, data: PaymentData, *, idempotency_key: str) -> ProviderPayment:
        """Charge ``data.amount`` once to the customer's saved default payment method,
        off-session; the same ``idempotency_key`` never charges twice. The answer's ``status``
        says how it went ("succeeded", or "processing" / "requires_action" to wait for
        ``PAYMENT_SUCCEEDED`` / ``PAYMENT_FAILED``); a declined card is a ``CardError``, no
        saved payment method a ``PermanentProviderError`` with code ``no_payment_method``."""
        raise self._unsupported("one-off charges")

    # --- refunds (Capability.REFUNDS) -----------------------------------------------------
    def create_refund(self, data: RefundData, *, idempotency_key: str) -> ProviderRefund:
        """Refund ``data.amount`` (all that is left when ``None``) of the provider payment
        ``data.payment_id``; the same ``idempotency_key`` never refunds twice. A refund larger
        than what is left, or of a payment refunded already, is a ``PermanentProviderError``.
        The provider's refund and payment events follow (``REFUND_CREATED``,
        ``PAYMENT_REFUNDED``, ``REFUND_UPDATED``)."""
        raise self._unsupported("refunds")

    # --- webhooks -------------------------------------------------------------------------
    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """Verify a webhook request's signature and parse it; raise ``WebhookVerificationError``."""
        raise self._unsupported("webhooks")

    def parse_event(self, payload: Mapping[str, Any]) -> ProviderEvent:
        """Parse a stored (already verified) event payload into a :class:`ProviderEvent`.

        The event must say what happened in the library's words: ``kind`` (an
        :class:`EventKind`), ``data`` (the object as the neutral type of ``backends.types``),
        ``ordering_key`` (``customer:<id>`` for anything of one customer, ``catalog`` for
        products and prices) and, for an update, ``changed`` (the neutral names of the fields
        it changed). No code outside the backend reads the provider's payload.
        """
        raise self._unsupported("webhooks")

    def refetch(self, event: ProviderEvent) -> ProviderEvent:
        """The event with its object as the provider holds it now (``WEBHOOK_REFETCH``; one
        :meth:`retrieve` call). The default fits payloads shaped ``{"data": {"object": ...}}``
        (Stripe's, locmem's); a provider with another shape overrides it."""
        fresh = self.retrieve(event.object_type, event.object_id)
        found = event.raw.get("data")
        data: dict[str, Any] = found if isinstance(found, dict) else {}
        return self.parse_event({**event.raw, "data": {**data, "object": fresh}})

    def event_kind(self, event_type: str) -> EventKind:
        """The kind of a stored event's provider type (how the processing ranks events of one
        second without parsing them). The default reads neutral names (``EventKind`` values)."""
        return event_kind(event_type)

    def event_follows(self, event: ProviderEvent, earlier: ProviderEvent) -> bool | None:
        """Whether ``event`` describes the state after ``earlier`` (``False``: before it), when
        both have the same time and rank; ``None`` when the provider's events cannot tell.

        The default compares ``previous_attributes`` with the other event's object, which suits
        providers that send the changed fields' previous values (Stripe)."""
        follows = _describes(event.previous_attributes, earlier.object)
        preceded = _describes(earlier.previous_attributes, event.object)
        return follows if follows != preceded else None

    def create_webhook_endpoint(self, url: str, events: list[str] | None = None) -> WebhookEndpoint:
        raise self._unsupported("registering webhook endpoints")

    def list_webhook_endpoints(self) -> Iterator[WebhookEndpoint]:
        raise self._unsupported("listing webhook endpoints")

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        raise self._unsupported("deleting webhook endpoints")

    # --- re-fetch mode --------------------------------------------------------------------
    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]:
        """The provider's current state of an object, as a plain dict (for the re-fetch mode)."""
        raise self._unsupported("retrieving objects")


def _describes(previous: Any, state: Any) -> bool:
    """Whether the ``previous_attributes`` of one event are the values in ``state``."""
    if not previous or not isinstance(previous, dict) or not isinstance(state, dict):
        return False
    for key, value in previous.items():
        current = state.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            if value and not _describes(value, current):
                return False
        elif current != value:
            return False
    return True
