"""Invoice previews of subscription changes (`POST /v1/invoices/create_preview`) and paused
collection (a subscription's `pause_collection`)."""

from __future__ import annotations

import copy
from typing import Any

from ..billing import interval_of, is_metered, item_lines, period_of, quantity_of
from ..errors import StripeError, missing
from ..invoicing import add_interval, build_invoice
from ..render import plan_from_price, render
from ..store import Store
from . import Call, route

PAUSE_BEHAVIORS = ("keep_as_draft", "mark_uncollectible", "void")


@route("POST", "/v1/invoices/create_preview", "InvoiceCreatePreviewParams")
def create_preview(call: Call) -> dict[str, Any]:
    """The next invoice of a subscription as a change would make it; nothing is changed.

    With `proration_behavior=always_invoice` it is the invoice the change bills at once (its
    prorations); otherwise the one at the period's end (pending prorations, then the next
    period at the new price and quantity).
    """
    from .subscriptions import proration_lines

    store, p = call.store, call.params
    sub_id = p.get("subscription")
    if not sub_id:
        raise StripeError(
            400, "Missing required param: subscription (or customer).", param="subscription"
        )
    sub = copy.deepcopy(store.get("subscription", sub_id))
    if "customer" in p and p["customer"] != sub["customer"]:
        raise StripeError(400, "The subscription is not the customer's.", param="customer")
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise StripeError(400, "No upcoming invoice for a canceled subscription.")
    details = p.get("subscription_details") or {}
    behavior = details.get("proration_behavior", "create_prorations")
    old_items = {i["id"]: copy.deepcopy(i) for i in sub["items"]["data"]}
    old_amounts = {i["id"]: _amount(store, i) for i in sub["items"]["data"]}
    for index, change in enumerate(details.get("items") or []):
        item = next((i for i in sub["items"]["data"] if i["id"] == change.get("id")), None)
        if item is None:
            raise missing("subscription_item", str(change.get("id")), param=f"items[{index}][id]")
        if "price" in change:
            price = store.get("price", change["price"])
            item["price"], item["plan"] = price["id"], plan_from_price(price)
        if is_metered(store.get("price", _price_id(item))):
            from .subscriptions import refuse_metered_quantity

            refuse_metered_quantity(change, f"subscription_details[items][{index}]")
            item.pop("quantity", None)
        elif "quantity" in change:
            item["quantity"] = change["quantity"]
        elif "quantity" not in item:
            item["quantity"] = 1
    now = store.now()
    start, end = period_of(sub)
    prorations: list[dict[str, Any]] = []
    if behavior != "none" and sub["status"] != "trialing":
        prorations = proration_lines(store, sub, old_items, old_amounts, (start, end), now)
    if behavior == "always_invoice":
        lines, period, issued = prorations, (now, now), now
    else:
        pending = copy.deepcopy(store.meta_for(sub["id"]).get("prorations", []))
        next_end = add_interval(end, *interval_of(store, sub))
        # Metered items bill the usage counted so far in the current period.
        used = None if sub["status"] == "trialing" else (start, end)
        lines = pending + prorations + item_lines(store, sub, (end, next_end), used)
        period, issued = (start, end), end
    invoice = build_invoice(
        store,
        sub["customer"],
        subscription=sub,
        lines=lines,
        billing_reason="upcoming" if behavior != "always_invoice" else "subscription_update",
        period=period,
        invoice_id=f"upcoming_{store.new_id('in_')}",
        collection_method=sub["collection_method"],
    )
    invoice["created"] = issued
    invoice["next_payment_attempt"] = issued if invoice["amount_due"] > 0 else None
    return render(store, invoice, call.expand)


def _price_id(item: dict[str, Any]) -> str:
    price = item["price"]
    return price if isinstance(price, str) else str(price["id"])


def _amount(store: Store, item: dict[str, Any]) -> int:
    price = store.get("price", _price_id(item))
    return 0 if is_metered(price) else int(price["unit_amount"]) * quantity_of(item)


def set_pause_collection(store: Store, sub: dict[str, Any], value: Any) -> None:
    """`pause_collection[behavior]` (and `[resumes_at]`) pauses; `""` resumes."""
    if value in ("", None):
        sub["pause_collection"] = None
        return
    behavior = value.get("behavior")
    if behavior not in PAUSE_BEHAVIORS:
        raise StripeError(
            400,
            "Invalid pause_collection[behavior]: must be one of keep_as_draft, "
            "mark_uncollectible, or void",
            param="pause_collection[behavior]",
        )
    resumes_at = value.get("resumes_at")
    if resumes_at is not None and resumes_at <= store.now():
        raise StripeError(
            400, "resumes_at must be in the future.", param="pause_collection[resumes_at]"
        )
    sub["pause_collection"] = {"behavior": behavior, "resumes_at": resumes_at}


def paused_invoice(store: Store, sub: dict[str, Any], invoice: dict[str, Any]) -> None:
    """What paused collection does with a renewal's invoice: a draft left alone, or an invoice
    finalized then marked uncollectible or voided (never charged)."""
    from ..events import emit
    from ..invoicing import finalize

    behavior = sub["pause_collection"]["behavior"]
    invoice["auto_advance"] = False
    if behavior == "keep_as_draft":
        return
    finalize(store, invoice)
    before = copy.deepcopy(invoice)
    now = store.now()
    status = "uncollectible" if behavior == "mark_uncollectible" else "void"
    invoice["status"] = status
    invoice["amount_remaining"] = invoice["amount_remaining"] if status == "uncollectible" else 0
    key = "marked_uncollectible_at" if status == "uncollectible" else "voided_at"
    invoice["status_transitions"] = {**invoice["status_transitions"], key: now}
    emit(store, f"invoice.{'marked_uncollectible' if status == 'uncollectible' else 'voided'}",
         invoice, before)  # fmt: skip


def resume_due(sub: dict[str, Any]) -> int | None:
    """When a paused subscription resumes by itself (its `resumes_at`), if it does."""
    pause = sub.get("pause_collection")
    return pause.get("resumes_at") if pause else None
