"""Who owns which field: the one table every pusher, handler, ``diff`` and ``reconcile`` reads.

Each mapped field of each entity has one owner:

- ``HOST``: your database decides. Pushed; a provider-side edit is reported as drift (by the
  event's note, ``payments_sync diff`` and the admin) and reverted by the next
  ``payments_sync reconcile`` (or ``push --prune``).
- ``PROVIDER``: the provider decides. Applied from its events (or a fresh read by
  ``reconcile``); never pushed.
- ``NEWEST``: both sides may edit; the newer change wins. A provider-side edit is applied to
  every local copy of the field (``Customer`` *and* ``BillingInformation``), unless the host
  changed the field after the event's time and has not pushed it yet; a host edit is pushed,
  and a push sends only the fields that changed locally, so it never sends back a stale copy.

The customer's two local copies of its email and name have one rule (:func:`customer_identity`):
the billing information's copy is the one sent when there is billing information, the
customer's otherwise; a provider-side edit is written to both.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django_payments_sync.models import BillingInformation, Customer


class Owner(enum.StrEnum):
    HOST = "host"
    PROVIDER = "provider"
    NEWEST = "newest"


@dataclass(frozen=True)
class FieldRule:
    entity: str  # "customer" | "tax_id" | "product" | "price" | "subscription"
    field: str  # the provider-side name, as in the backends' neutral types
    owner: Owner
    local: str  # where the host keeps it
    note: str = ""


RULES: tuple[FieldRule, ...] = (
    # customers
    FieldRule(
        "customer",
        "email",
        Owner.NEWEST,
        "BillingInformation.email and Customer.email",
        "the billing email when there is billing information",
    ),
    FieldRule(
        "customer",
        "name",
        Owner.NEWEST,
        "BillingInformation.name and Customer.name",
        "the billing name when there is billing information",
    ),
    FieldRule("customer", "address", Owner.HOST, "BillingInformation address fields"),
    FieldRule(
        "customer",
        "tax_exemption",
        Owner.HOST,
        "BillingInformation.tax_exemption",
        "decided by the tax policy from VIES answers",
    ),
    FieldRule(
        "customer",
        "metadata",
        Owner.HOST,
        "the row's identity",
        "our keys only; other keys at the provider are left alone",
    ),
    FieldRule("customer", "deleted", Owner.PROVIDER, "ProviderDeletion", "deletions stick"),
    # tax ids
    FieldRule("tax_id", "value", Owner.HOST, "BillingInformation.tax_id", "one eu_vat id"),
    FieldRule(
        "tax_id",
        "verification",
        Owner.PROVIDER,
        "BillingInformation.vat_validation_status",
        "informs only while VIES has no definite answer",
    ),
    # products and prices
    *(
        FieldRule("product", name, Owner.HOST, f"Product.{name}")
        for name in ("name", "description", "active", "metadata")
    ),
    *(
        FieldRule("price", name, Owner.HOST, f"Pricing.{name}", "immutable: a change replaces")
        for name in ("amount", "currency", "interval", "interval_count", "product")
    ),
    FieldRule("price", "meter_id", Owner.HOST, "Pricing.meter", "immutable: a change replaces"),
    *(
        FieldRule("price", name, Owner.HOST, f"Pricing.{name}")
        for name in ("active", "nickname", "metadata")
    ),
    # subscriptions: created by checkout, then the provider's record
    *(
        FieldRule(
            "subscription",
            name,
            Owner.NEWEST,
            f"Subscription.{local}",
            "a host change is pushed and comes back as the provider's event",
        )
        for name, local in (
            ("price", "pricing"),
            ("quantity", "quantity"),
            ("cancel_at_period_end", "cancel_at_period_end"),
        )
    ),
    *(
        FieldRule("subscription", name, Owner.PROVIDER, f"Subscription.{name}")
        for name in (
            "status",
            "current_period_start",
            "current_period_end",
            "trial_end",
            "canceled_at",
            "ended_at",
            "pause_behavior",
            "resumes_at",
        )
    ),
)

_BY_KEY = {(r.entity, r.field): r for r in RULES}


def owner(entity: str, field: str) -> Owner:
    """The owner of ``entity.field``; a field missing from :data:`RULES` is an error."""
    try:
        return _BY_KEY[(entity, field)].owner
    except KeyError:
        raise LookupError(f"No ownership rule for {entity}.{field}.") from None


def fields_owned_by(entity: str, *owners: Owner) -> tuple[str, ...]:
    return tuple(r.field for r in RULES if r.entity == entity and r.owner in owners)


def pushed_fields(entity: str) -> tuple[str, ...]:
    """What a push may send for ``entity``: the host's fields and the shared ones."""
    return fields_owned_by(entity, Owner.HOST, Owner.NEWEST)


def applied_fields(entity: str) -> tuple[str, ...]:
    """What an event may write locally for ``entity``: the provider's fields and the shared ones."""
    return fields_owned_by(entity, Owner.PROVIDER, Owner.NEWEST)


# --- customers: the two local copies of email and name -------------------------------------
CUSTOMER_IDENTITY = ("email", "name")


def customer_identity(customer: Customer, billing: BillingInformation | None) -> dict[str, str]:
    """The email and name to send: one source per field, so the copies never disagree on it.

    The billing information's when the customer gave one (invoices go to the billing
    identity), the customer's otherwise. A provider-side edit is applied to both copies.
    """
    values: dict[str, str] = {}
    for name in CUSTOMER_IDENTITY:
        billed = getattr(billing, name, "") if billing is not None else ""
        values[name] = billed or getattr(customer, name) or ""
    return values


def provider_edit_wins(
    *,
    theirs: Any,
    local: Any,
    synced: Any,
    event_time: dt.datetime,
    local_changed_at: dt.datetime | None,
    pending: bool = False,
) -> bool:
    """Whether a provider-side value of a ``NEWEST`` field replaces the local one.

    Not when the provider's value is what it held already (``synced``: an echo of our own push
    or an unrelated event); not when the host changed the field after the event's time: that
    edit is newer and its push follows. The host changed it when ``local`` differs from
    ``synced``; when what the provider held is not known (``synced`` is ``None``: a link just
    made by an event, or made before ``synced_state``), when the row has changes not pushed yet
    (``pending``).
    """
    if theirs == local:
        return False
    if synced is not None and theirs == synced:
        return False
    host_edited = local != synced if synced is not None else pending
    return not (host_edited and local_changed_at is not None and local_changed_at > event_time)


def documented_table() -> str:
    """The ownership table as Markdown (``docs/sync.md`` embeds it; a test compares them)."""
    lines = ["| Entity | Field | Owner | Kept in | Note |", "| --- | --- | --- | --- | --- |"]
    for r in RULES:
        lines.append(f"| {r.entity} | `{r.field}` | {r.owner.value} | {r.local} | {r.note} |")
    return "\n".join(lines)
