"""Orders and checkout: an Order and a PaymentAttempt, then the provider's hosted checkout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet

from django_payments_sync.backends.types import (
    METADATA_ATTEMPT_KEY,
    METADATA_ORDER_KEY,
    METADATA_PRICING_KEY,
    CheckoutData,
)
from django_payments_sync.conf import get_adapter, payments_settings
from django_payments_sync.exceptions import PolicyViolation, ProviderError
from django_payments_sync.interactor import provider
from django_payments_sync.interactor.subscriptions import (
    check_pricing,
    check_quantity,
    check_subscription_limit,
)
from django_payments_sync.models import (
    Customer,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentAttemptStatus,
)
from django_payments_sync.sync.accounts import check_account
from django_payments_sync.sync.snapshots import installation_key

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class ReturnUrls:
    success_url: str
    cancel_url: str


def resolve_return_urls(
    request: HttpRequest | None,
    success_url: str | None = None,
    cancel_url: str | None = None,
) -> ReturnUrls:
    """Where the provider sends the customer back: the request's URLs, else the settings'.

    A URL that comes with the request must lead to one of our hosts (no open redirect);
    a path is made absolute against the request, since providers want absolute URLs.
    """
    adapter = get_adapter()

    def resolve(requested: str | None, configured: str | None, outcome: str) -> str:
        if requested:
            if not adapter.is_safe_url(requested, request):
                raise PolicyViolation(
                    f"The {outcome} URL must lead to this site.", code="unsafe_redirect"
                )
            url = requested
        else:
            url = configured or f"/?checkout={outcome}"
        if url.startswith("/"):
            if request is None:
                raise PolicyViolation(
                    f"CHECKOUT_{outcome.upper()}_URL must be an absolute URL outside a request.",
                    code="unsafe_redirect",
                )
            url = request.build_absolute_uri(url)
        return url

    return ReturnUrls(
        success_url=resolve(success_url, payments_settings.CHECKOUT_SUCCESS_URL, "success"),
        cancel_url=resolve(cancel_url, payments_settings.CHECKOUT_CANCEL_URL, "cancel"),
    )


class OrderService:
    """Orders of a customer, and the checkout that pays for one."""

    def get_for(self, customer: Customer, order_id: int) -> Order:
        """The customer's own order; another customer's raises ``DoesNotExist`` too."""
        return self.list_for(customer).get(pk=order_id)

    def list_for(self, customer: Customer) -> QuerySet[Order]:
        return (
            Order.objects.filter(customer=customer)
            .select_related("pricing__product")
            .prefetch_related("payment_attempts")
        )

    def create_checkout(
        self,
        customer: Customer,
        pricing: Any,
        quantity: int = 1,
        *,
        success_url: str,
        cancel_url: str,
        promotion_code: str | None = None,
    ) -> dict[str, Any]:
        """Open a hosted checkout for ``quantity`` of ``pricing`` and answer ``{"id", "url"}``.

        ``promotion_code`` (what the customer typed) is checked first and applied; without one,
        ``ALLOW_PROMOTION_CODES`` lets the customer type one on the provider's page.

        The provider customer is made to exist first, with its billing data and tax status, so
        that the payment is taxed right and never precedes its customer. A recurring pricing
        opens a subscription checkout (with the pricing's trial), a one-time one a payment.
        """
        check_account()
        check_pricing(pricing)
        check_quantity(pricing, quantity)
        if pricing.interval:
            check_subscription_limit(customer)
        code = None
        if promotion_code:
            from django_payments_sync.interactor.coupons import check_promotion_code

            code = check_promotion_code(promotion_code, pricing)
        customer_id = provider.ensure_customer_id(customer)
        price_id = provider.ensure_price_id(pricing)
        code_id = None
        if code is not None:
            from django_payments_sync.interactor.coupons import promotion_code_id

            code_id = promotion_code_id(code)
        backend = provider.backend()
        if pricing.is_metered:
            # Billed for its usage at the period's end: nothing is due at checkout.
            quantity, amount = 1, 0
        else:
            amount = pricing.amount * quantity
        with transaction.atomic():
            order = Order.objects.create(
                customer=customer,
                pricing=pricing,
                quantity=quantity,
                amount=amount - (code.coupon.amount_of_discount(amount) if code else 0),
                amount_discount=code.coupon.amount_of_discount(amount) if code else 0,
                promotion_code=code,
                currency=pricing.currency,
                status=OrderStatus.PENDING,
            )
            attempt = PaymentAttempt.objects.create(
                order=order, provider=backend.provider_name, status=PaymentAttemptStatus.CREATED
            )
        data = CheckoutData(
            mode="subscription" if pricing.interval else "payment",
            price_id=price_id,
            quantity=quantity,
            metered=pricing.is_metered,
            success_url=success_url,
            cancel_url=cancel_url,
            customer_id=customer_id,
            client_reference_id=str(order.pk),
            trial_period_days=pricing.trial_period_days if pricing.interval else None,
            metadata={
                METADATA_ORDER_KEY: str(order.pk),
                METADATA_ATTEMPT_KEY: str(attempt.pk),
                METADATA_PRICING_KEY: str(pricing.pk),
            },
            promotion_code_id=code_id,
            allow_promotion_codes=code_id is None and bool(payments_settings.ALLOW_PROMOTION_CODES),
        )
        try:
            session = backend.create_checkout_session(
                data, idempotency_key=installation_key(f"checkout-{attempt.pk}")
            )
        except ProviderError as exc:
            with transaction.atomic():
                attempt.status = PaymentAttemptStatus.FAILED
                attempt.failure_message = exc.user_message
                attempt.save(update_fields=["status", "failure_message", "updated_at"])
                order.status = OrderStatus.FAILED
                order.save(update_fields=["status", "updated_at"])
            raise
        attempt.external_id = session.id
        attempt.checkout_url = session.url
        attempt.save(update_fields=["external_id", "checkout_url", "updated_at"])
        return {"id": session.id, "url": session.url, "order_id": order.pk}

    def cancel_order(self, order: Order) -> Order:
        """The customer left the checkout page: the pending order and its open attempts end.

        The provider's session stays payable until it expires; should the customer still pay
        it, its completion event settles the order as paid (the money decides).
        """
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.status != OrderStatus.PENDING:
                raise PolicyViolation(
                    f"This order is {locked.status} and can no longer be canceled.",
                    code="order_not_pending",
                )
            locked.payment_attempts.filter(status=PaymentAttemptStatus.CREATED).update(
                status=PaymentAttemptStatus.CANCELED
            )
            locked.status = OrderStatus.CANCELED
            locked.save(update_fields=["status", "updated_at"])
        return locked


#: The name before the design's (kept for existing imports).
OrdersService = OrderService
