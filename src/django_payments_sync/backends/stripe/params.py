"""Between provider-neutral types and Stripe: request params (the SDK's TypedDicts) and errors."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, TypeVar, cast

import stripe
from stripe.params import (
    CustomerCreateParams,
    CustomerCreateParamsAddress,
    CustomerUpdateParams,
    PriceCreateParams,
    PriceCreateParamsRecurring,
    PriceUpdateParams,
    ProductCreateParams,
    ProductUpdateParams,
    SubscriptionCreateParams,
)

from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    Address,
    CheckoutData,
    CustomerData,
    PriceData,
    ProductData,
    SubscriptionData,
)
from django_payments_sync.exceptions import (
    CardError,
    ObjectNotFound,
    PermanentProviderError,
    ProviderAuthenticationError,
    ProviderError,
    TransientProviderError,
)

_T = TypeVar("_T")

TaxExempt = Literal["exempt", "none", "reverse"]
Interval = Literal["day", "month", "week", "year"]

#: Stripe error codes whose meaning we can tell a user in plain words.
USER_MESSAGES = {
    "tax_id_invalid": "The tax ID is not valid.",
    "email_invalid": "The email address is not valid.",
    "resource_missing": "The requested object does not exist at the payment provider.",
    "customer_tax_location_invalid": "The billing address is not complete enough to compute tax.",
    "amount_too_small": "The amount is below the payment provider's minimum.",
    "amount_too_large": "The amount is above the payment provider's maximum.",
}


def metadata(local_id: str, values: Mapping[str, str]) -> dict[str, str]:
    """Metadata as sent: the caller's values plus the local identity."""
    identity = {METADATA_ID_KEY: local_id} if local_id else {}
    return {**values, **identity}


def unset_extra_keys(current: Any, wanted: Mapping[str, str]) -> dict[str, str]:
    """Stripe merges metadata on update; keys we no longer send must be set to "" to go away."""
    keys = as_dict(current).keys() if current else ()
    return {key: "" for key in keys if key not in wanted}


def address_params(address: Address) -> CustomerCreateParamsAddress:
    params: CustomerCreateParamsAddress = {"line1": address.line1, "country": address.country}
    # Stripe rejects an empty string for some fields of some countries: only send what is set.
    for key, value in (
        ("line2", address.line2),
        ("city", address.city),
        ("postal_code", address.postal_code),
        ("state", address.state),
    ):
        if value:
            params[key] = value  # type: ignore[literal-required]
    return params


def customer_create_params(data: CustomerData) -> CustomerCreateParams:
    params: CustomerCreateParams = {
        "email": data.email,
        "tax_exempt": cast(TaxExempt, data.tax_exemption),
        "metadata": metadata(data.local_id, data.metadata),
    }
    if data.name:
        params["name"] = data.name
    if data.address is not None:
        params["address"] = address_params(data.address)
    return params


def customer_update_params(
    data: CustomerData, fields: Collection[str] | None = None
) -> CustomerUpdateParams:
    """Stripe's update parameters; with ``fields``, only those (a partial update)."""
    # Stripe merges metadata, which is what customers want: other keys are not ours.
    params: CustomerUpdateParams = {
        "email": data.email,
        "name": data.name,
        "tax_exempt": cast(TaxExempt, data.tax_exemption),
        "metadata": metadata(data.local_id, data.metadata),
        "address": address_params(data.address) if data.address is not None else "",
    }
    if fields is not None:
        names = {"tax_exemption": "tax_exempt"}
        keep = {names.get(f, f) for f in fields}
        params = cast(CustomerUpdateParams, {k: v for k, v in params.items() if k in keep})
    return params


def product_create_params(data: ProductData) -> ProductCreateParams:
    params: ProductCreateParams = {
        "name": data.name,
        "active": data.active,
        "metadata": metadata(data.local_id, data.metadata),
    }
    if data.description:
        params["description"] = data.description
    return params


def product_update_params(data: ProductData) -> ProductUpdateParams:
    wanted = metadata(data.local_id, data.metadata)
    return {
        "name": data.name,
        "description": data.description,
        "active": data.active,
        # Stripe merges metadata: keys removed locally are unset by a second call, when the
        # answer shows there are some (see unset_extra_keys).
        "metadata": wanted,
    }


def price_create_params(data: PriceData) -> PriceCreateParams:
    params: PriceCreateParams = {
        "product": data.product_id,
        "unit_amount": data.amount,
        "currency": data.currency,
        "active": data.active,
        "metadata": metadata(data.local_id, data.metadata),
    }
    if data.nickname:
        params["nickname"] = data.nickname
    if data.meter_id and data.interval is None:
        raise PermanentProviderError(
            "A metered price must be recurring.", param="recurring[usage_type]"
        )
    if data.interval is not None:
        recurring: PriceCreateParamsRecurring = {
            "interval": cast(Interval, data.interval),
            "interval_count": data.interval_count,
        }
        if data.meter_id:
            recurring["usage_type"] = "metered"
            recurring["meter"] = data.meter_id
        params["recurring"] = recurring
    return params


def price_update_params(data: PriceData) -> PriceUpdateParams:
    wanted = metadata(data.local_id, data.metadata)
    return {
        "nickname": data.nickname,
        "active": data.active,
        # Stripe merges metadata: keys removed locally are unset by a second call, when the
        # answer shows there are some (see unset_extra_keys).
        "metadata": wanted,
    }


def subscription_create_params(data: SubscriptionData) -> SubscriptionCreateParams:
    params: SubscriptionCreateParams = {
        "customer": data.customer_id,
        # Stripe refuses a quantity on a metered price: its usage is the quantity.
        "items": [
            {"price": data.price_id}
            if data.metered
            else {"price": data.price_id, "quantity": data.quantity}
        ],
        "metadata": metadata(data.local_id, data.metadata),
    }
    if data.trial_period_days:
        params["trial_period_days"] = data.trial_period_days
    if data.default_payment_method:
        params["default_payment_method"] = data.default_payment_method
    return params


def checkout_line(data: CheckoutData) -> Any:
    """The checkout's line: its price, or an ad-hoc amount named by its description."""
    if data.price_id:
        if data.metered:
            return {"price": data.price_id}  # Stripe refuses a quantity on a metered price
        return {"price": data.price_id, "quantity": data.quantity}
    if not data.amount or not data.currency:
        raise PermanentProviderError(
            "A checkout needs a price, or an amount and a currency.", param="line_items"
        )
    return {
        "price_data": {
            "currency": data.currency,
            "unit_amount": data.amount,
            "product_data": {"name": data.description or "Payment"},
        },
        "quantity": data.quantity,
    }


def as_dict(obj: Any) -> dict[str, Any]:
    """A plain dict of an SDK object (SDK 15 objects stopped being dicts)."""
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    return dict(obj)


# --- errors -------------------------------------------------------------------------------


def translate_error(exc: stripe.StripeError) -> ProviderError:
    """The library's exception for an SDK error.

    Stripe's text (which may name parameters or ids) goes into ``str(error)`` for logs; the
    ``user_message`` is ours, chosen by error code, except for card errors.
    """
    status = exc.http_status
    code = exc.code
    param = getattr(exc, "param", None)
    detail = f"Stripe {type(exc).__name__} ({status or 'no status'}): {exc.user_message or exc}"
    # The SDK's ``user_message`` is Stripe's developer message; only card errors' messages are
    # written for the card holder. Other errors get ours, or the exception's default.
    safe = USER_MESSAGES.get(code or "")
    if isinstance(exc, stripe.IdempotencyError):
        # Stripe gives these a type, not a code: callers tell them by this one.
        code = code or "idempotency_error"
    kwargs: dict[str, Any] = {"code": code, "http_status": status, "param": param}
    if isinstance(exc, stripe.CardError):
        return CardError(detail, user_message=exc.user_message or safe, **kwargs)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return ProviderAuthenticationError(detail, **kwargs)
    if isinstance(exc, stripe.RateLimitError | stripe.APIConnectionError):
        return TransientProviderError(detail, **kwargs)
    if isinstance(exc, stripe.InvalidRequestError) and (
        status == 404 or code == "resource_missing"
    ):
        return ObjectNotFound(detail, user_message=safe, **kwargs)
    if status is None or status >= 500 or status == 429 or isinstance(exc, stripe.APIError):
        return TransientProviderError(detail, **kwargs)
    if status == 409 and code == "lock_timeout":
        return TransientProviderError(detail, **kwargs)
    return PermanentProviderError(detail, user_message=safe, **kwargs)


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        raise translate_error(exc) from exc


def paged(list_page: Callable[[], Any], convert: Callable[[dict[str, Any]], _T]) -> Iterator[_T]:
    """Every object of a Stripe list, page by page (100 a page), as neutral types."""
    with translated_errors():
        page = list_page()
        for obj in page.auto_paging_iter():
            yield convert(as_dict(obj))
