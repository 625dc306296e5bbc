"""Between the neutral types and Paddle: the SDK's operations, its errors, its pages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from paddle_billing.Entities.Shared import (
    CountryCode,
    CurrencyCode,
    CustomData,
    Duration,
    Interval,
    Money,
    PriceTrialPeriod,
    Status,
    TaxCategory,
)
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Exceptions.SdkException import SdkException
from paddle_billing.Json import PayloadEncoder
from paddle_billing.Resources.Addresses.Operations import CreateAddress, UpdateAddress
from paddle_billing.Resources.Prices.Operations import CreatePrice, UpdatePrice
from paddle_billing.Resources.Products.Operations import CreateProduct, UpdateProduct
from paddle_billing.Resources.Shared.Operations import Pager

from django_payments_sync.backends.paddle.objects import TAX_EXEMPTION_KEY
from django_payments_sync.backends.types import (
    METADATA_ID_KEY,
    Address,
    CustomerData,
    PriceData,
    ProductData,
)
from django_payments_sync.exceptions import (
    ObjectNotFound,
    PermanentProviderError,
    ProviderAuthenticationError,
    ProviderError,
    TransientProviderError,
)

_T = TypeVar("_T")

#: Paddle lists at most 200 entities a page (customers, products, prices, ...).
PAGE_SIZE = 200

#: Paddle's id of each entity: a prefix and 26 lower-case base-32 characters.
ID_PATTERN = re.compile(r"^[a-z]{2,8}_[0-9a-z]{26}$")

#: Paddle error codes we can explain to a user in plain words.
USER_MESSAGES = {
    "customer_already_exists": "A customer with this email address exists already.",
    "business_invalid_tax_identifier": "The tax ID is not valid.",
    "invalid_field": "The payment provider refused a value of the request.",
    "not_found": "The requested object does not exist at the payment provider.",
    "entity_not_found": "The requested object does not exist at the payment provider.",
    "subscription_locked_pending_changes": "The subscription has a change pending; try later.",
}
#: Error codes that mean "try again later".
TRANSIENT_CODES = frozenset(
    {
        "too_many_requests",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "subscription_locked_processing",
        "subscription_locked_renewal",
    }
)

#: A VAT number's shape: two letters and 2 to 13 letters or digits.
VAT_PATTERN = re.compile(r"^[A-Z]{2}[0-9A-Z+*.]{2,13}$")


def custom_data(local_id: str, values: Mapping[str, str], **own: str) -> CustomData:
    """``custom_data`` as sent: the caller's values, the local identity, the backend's keys."""
    identity = {METADATA_ID_KEY: local_id} if local_id else {}
    return CustomData({**values, **identity, **{k: v for k, v in own.items() if v}})


def merged_custom_data(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> CustomData:
    """Paddle replaces ``custom_data`` whole: keep the keys others set (as Stripe merges)."""
    return CustomData({**current, **wanted})


def customer_custom_data(data: CustomerData) -> dict[str, Any]:
    values = custom_data(data.local_id, data.metadata).data
    assert isinstance(values, dict)
    return {**values, TAX_EXEMPTION_KEY: data.tax_exemption}


def address_create(address: Address) -> CreateAddress:
    return CreateAddress(
        country_code=CountryCode(address.country.upper()),
        first_line=address.line1 or None,
        second_line=address.line2 or None,
        city=address.city or None,
        postal_code=address.postal_code or None,
        region=address.state or None,
    )


def address_update(address: Address) -> UpdateAddress:
    return UpdateAddress(
        country_code=CountryCode(address.country.upper()),
        first_line=address.line1 or None,
        second_line=address.line2 or None,
        city=address.city or None,
        postal_code=address.postal_code or None,
        region=address.state or None,
    )


def product_create(data: ProductData) -> CreateProduct:
    return CreateProduct(
        name=data.name,
        tax_category=TaxCategory.Standard,
        description=data.description or None,
        custom_data=custom_data(data.local_id, data.metadata),
    )


def product_update(data: ProductData) -> UpdateProduct:
    # Local metadata is the truth for the catalog: custom_data is replaced, not merged.
    return UpdateProduct(
        name=data.name,
        description=data.description or None,
        custom_data=custom_data(data.local_id, data.metadata),
        status=Status.Active if data.active else Status.Archived,
    )


def duration(interval: str, count: int) -> Duration:
    return Duration(interval=Interval(interval), frequency=count)


def price_create(data: PriceData) -> CreatePrice:
    return CreatePrice(
        # Paddle's internal description is required; the nickname is the name buyers see.
        description=data.nickname
        or f"{data.amount} {data.currency.upper()}"
        + (f" every {data.interval_count} {data.interval}" if data.interval else ""),
        product_id=data.product_id,
        unit_price=money(data.amount, data.currency),
        name=data.nickname or None,
        billing_cycle=duration(data.interval, data.interval_count) if data.interval else None,
        custom_data=custom_data(data.local_id, data.metadata),
    )


def price_update(data: PriceData) -> UpdatePrice:
    return UpdatePrice(
        name=data.nickname or None,
        custom_data=custom_data(data.local_id, data.metadata),
        status=Status.Active if data.active else Status.Archived,
    )


def money(amount: int, currency: str) -> Money:
    if amount < 0:
        raise PermanentProviderError("A price cannot be negative.", param="unit_price.amount")
    return Money(str(int(amount)), CurrencyCode(currency.upper()))


def trial(days: int) -> PriceTrialPeriod:
    return PriceTrialPeriod(interval=Interval.Day, frequency=days)


def pager(after: str | None = None) -> Pager:
    return Pager(after=after, per_page=PAGE_SIZE)


def as_dict(entity: Any) -> dict[str, Any]:
    """A plain dict of an SDK entity, in the API's JSON shape (the SDK's own encoder)."""
    if isinstance(entity, Mapping):
        return dict(entity)
    value = json.loads(json.dumps(entity, cls=PayloadEncoder))
    return value if isinstance(value, dict) else {}


def check_id(object_id: str, what: str) -> None:
    """An id of another shape names nothing at Paddle: not found, without a request."""
    if not ID_PATTERN.match(object_id or ""):
        raise ObjectNotFound(f"{object_id!r} is not a Paddle {what} id.", code="not_found")


def check_tax_identifier(value: str) -> str:
    normal = "".join(value.split()).upper()
    if not VAT_PATTERN.match(normal):
        raise PermanentProviderError(
            f"{value!r} is not a VAT number.",
            user_message="The tax ID is not valid.",
            code="invalid_field",
            param="tax_identifier",
        )
    return normal


# --- errors -------------------------------------------------------------------------------


def translate_error(exc: Exception) -> ProviderError:
    """The library's exception for an SDK or HTTP error.

    Paddle's ``detail`` (which may name ids) goes to ``str(error)`` for logs; the user message
    is ours, by error code. ``param`` is the first field Paddle names as at fault.
    """
    if isinstance(exc, ApiError):
        response = exc.response
        status = response.status_code if response is not None else None
        code = exc.error_code or None
        fields = [f.field for f in exc.field_errors if getattr(f, "field", None)]
        param = fields[0] if fields else None
        detail = f"Paddle {exc.error_type or 'error'} {code} ({status}): {exc.detail}"
        if fields:
            detail += " [" + "; ".join(f"{f.field}: {f.error}" for f in exc.field_errors) + "]"
        kwargs: dict[str, Any] = {"code": code, "http_status": status, "param": param}
        safe = USER_MESSAGES.get(code or "")
        if status in (401, 403) or code in (
            "authentication_missing",
            "authentication_malformed",
            "invalid_token",
            "forbidden",
        ):
            return ProviderAuthenticationError(detail, **kwargs)
        if status == 404 or code in ("not_found", "entity_not_found"):
            return ObjectNotFound(detail, user_message=safe, **kwargs)
        if status is None or status >= 500 or status == 429 or code in TRANSIENT_CODES:
            return TransientProviderError(detail, **kwargs)
        if param == "tax_identifier":
            safe = USER_MESSAGES["business_invalid_tax_identifier"]
        return PermanentProviderError(detail, user_message=safe, **kwargs)
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else None
        cls = (
            TransientProviderError
            if status is None or status >= 500 or status == 429
            else (PermanentProviderError)
        )
        return cls(f"Paddle answered HTTP {status}.", http_status=status)
    if isinstance(exc, requests.RequestException):
        return TransientProviderError(f"Paddle could not be reached: {type(exc).__name__}.")
    if isinstance(exc, SdkException | ValueError):
        return PermanentProviderError(f"Paddle SDK refused the request: {exc}")
    raise exc


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except ProviderError:
        raise
    except (requests.RequestException, SdkException, ValueError) as exc:
        raise translate_error(exc) from exc


def paged(
    list_page: Callable[[], Iterable[Any]], convert: Callable[[dict[str, Any]], _T]
) -> Iterator[_T]:
    """Every entity of a Paddle list, page after page (the SDK follows ``meta.pagination``)."""
    with translated_errors():
        for entity in list_page():
            yield convert(as_dict(entity))
