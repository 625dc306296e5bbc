"""Entitlements: what an owner may use, from the features and limits of the plans they pay for.

A plan's features and limits are its product's ``metadata`` (read by
:func:`~django_payments_sync.interactor.plans.features_from_metadata`, as ``GET plans/`` shows
them). An owner's entitlements are the free tier (``PAYMENTS_SYNC["FREE_TIER"]``) plus those of
every product they hold an entitling subscription to (see :func:`entitling`): the features of
all of them, and of each limit the most generous value (the largest number, ``True`` over
``False``; a text limit from the last plan in catalog order).

One query reads them (the subscriptions joined to their prices and products); the answer is
then kept on the owner object, and for the request helpers on the request, so that every further
check in the same request costs no query. :func:`forget_entitlements` drops what was kept, for
code that changes a subscription and checks again in the same request.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import FilteredRelation, QuerySet

from django_payments_sync.conf import get_adapter, payments_settings
from django_payments_sync.interactor.plans import features_from_metadata
from django_payments_sync.models import Customer, Subscription
from django_payments_sync.models.subscriptions import entitled_q

if TYPE_CHECKING:
    from django.http import HttpRequest

#: Where an owner object keeps its entitlements once read.
_OWNER_ATTRIBUTE = "_payments_sync_entitlements"
#: Where a request keeps the owner (and through it the entitlements) once resolved.
_REQUEST_ATTRIBUTE = "_payments_sync_entitlement_owner"
#: The owner of an anonymous request: it has the free tier only.
_NOBODY = object()


def entitling(subscriptions: QuerySet[Subscription]) -> QuerySet[Subscription]:
    """The subscriptions of ``subscriptions`` that grant access to their plan now.

    The lifecycle's one rule, :meth:`~django_payments_sync.models.Subscription.is_entitled`
    (active and trialing; set to cancel, until the period's end; past_due, for
    ``GRACE_PERIOD_DAYS``; never while paused, unpaid, incomplete or ended), as a filter, so
    that every entitlement check (the helpers, the permission class, the decorator, the
    template tag, ``GET entitlements/``) stays one query.
    """
    return subscriptions.filter(entitled_q())


@dataclass(frozen=True)
class Entitlements:
    """The features and limits of one owner, and the plans (product ids) they come from."""

    features: frozenset[str] = frozenset()
    limits: Mapping[str, Any] = field(default_factory=dict)
    plans: tuple[Any, ...] = ()

    @property
    def on_free_tier(self) -> bool:
        """No entitling subscription: the owner has the free tier only."""
        return not self.plans

    def has_feature(self, feature: str) -> bool:
        return feature in self.features

    def limit(self, name: str, default: Any = None) -> Any:
        """Limit ``name``'s value; ``default`` when neither a plan nor the free tier sets it."""
        return self.limits.get(name, default)

    def as_dict(self) -> dict[str, Any]:
        return {
            "features": sorted(self.features),
            "limits": dict(self.limits),
            "plans": list(self.plans),
            "free_tier": self.on_free_tier,
        }


def free_tier() -> Entitlements:
    """The entitlements of an owner on no plan, from ``PAYMENTS_SYNC["FREE_TIER"]``."""
    setting = payments_settings.FREE_TIER
    features, limits = features_from_metadata(
        {**setting["LIMITS"], "features": list(setting["FEATURES"])}
    )
    return Entitlements(features=frozenset(features), limits=limits)


def combine(base: Entitlements, plans: Iterable[tuple[Any, Mapping[str, Any]]]) -> Entitlements:
    """``base`` raised by each ``(product id, product metadata)`` of ``plans``, in order."""
    features = set(base.features)
    limits = dict(base.limits)
    ids: list[Any] = []
    for product_id, metadata in plans:
        if product_id not in ids:
            ids.append(product_id)
        plan_features, plan_limits = features_from_metadata(dict(metadata or {}))
        features.update(plan_features)
        for name, value in plan_limits.items():
            limits[name] = _more_generous(limits.get(name), value)
    return Entitlements(features=frozenset(features), limits=limits, plans=tuple(ids))


def _more_generous(current: Any, new: Any) -> Any:
    if current is None:
        return new
    if isinstance(current, bool) and isinstance(new, bool):
        return current or new
    numbers = (int, float)
    if (
        isinstance(current, numbers)
        and isinstance(new, numbers)
        and not isinstance(current, bool)
        and not isinstance(new, bool)
    ):
        return max(current, new)
    return new


def read_entitlements(owner: Any) -> Entitlements:
    """The entitlements of ``owner`` from the database, uncached: one query.

    With ``ENTITLEMENTS_SOURCE = "provider"`` the features are the free tier's and those the
    provider says the owner's customer holds (``Customer.provider_entitlements``, from its
    entitlements events); the limits still come from the entitling local plans.
    """
    if payments_settings.ENTITLEMENTS_SOURCE == "provider":
        return _read_provider_entitlements(owner)
    rows = (
        entitling(Subscription.objects.filter(customer__owner=owner))
        .order_by("pricing__product__position", "pricing__product_id")
        .values_list("pricing__product_id", "pricing__product__metadata")
    )
    return combine(free_tier(), rows)


def _read_provider_entitlements(owner: Any) -> Entitlements:
    entitling_relation = FilteredRelation(
        "subscriptions", condition=entitled_q(prefix="subscriptions__")
    )
    rows = list(
        Customer.objects.filter(owner=owner)
        .annotate(entitling=entitling_relation)
        .order_by("entitling__pricing__product__position", "entitling__pricing__product_id")
        .values_list(
            "provider_entitlements",
            "entitling__pricing__product_id",
            "entitling__pricing__product__metadata",
        )
    )
    plans = [
        (product_id, {k: v for k, v in (metadata or {}).items() if k != "features"})
        for _keys, product_id, metadata in rows
        if product_id is not None
    ]
    combined = combine(free_tier(), plans)
    provider_features = {str(key) for key in (rows[0][0] if rows else None) or []}
    return dataclasses.replace(combined, features=combined.features | provider_features)


def entitlements_of(owner: Any) -> Entitlements:
    """The entitlements of ``owner`` (a customer owner, or ``None`` for the free tier).

    Read once per owner object (one query), then kept on it: a request's ``request.user`` or
    the organization the adapter found for it answers every further check without a query.
    """
    if owner is None or owner is _NOBODY:
        return free_tier()
    cached = getattr(owner, _OWNER_ATTRIBUTE, None)
    if isinstance(cached, Entitlements):
        return cached
    entitlements = read_entitlements(owner)
    # An owner object that takes no attributes is read each time.
    with contextlib.suppress(AttributeError):
        setattr(owner, _OWNER_ATTRIBUTE, entitlements)
    return entitlements


def owner_of_request(request: HttpRequest) -> Any:
    """Who pays for ``request`` (the adapter's answer, kept on the request), ``None`` if nobody."""
    owner = getattr(request, _REQUEST_ATTRIBUTE, None)
    if owner is None:
        user = getattr(request, "user", None)
        found = None
        if user is not None and user.is_authenticated:
            found = get_adapter().get_customer_owner(request)
        owner = _NOBODY if found is None or getattr(found, "is_anonymous", False) else found
        setattr(request, _REQUEST_ATTRIBUTE, owner)
    return None if owner is _NOBODY else owner


def entitlements_for_request(request: HttpRequest) -> Entitlements:
    """The requester's entitlements (the owner the adapter finds for them; the free tier for
    an anonymous request), read at most once per request."""
    return entitlements_of(owner_of_request(request))


def forget_entitlements(owner: Any = None, *, request: HttpRequest | None = None) -> None:
    """Drop what was kept, so that the next check reads the database again."""
    if request is not None:
        kept = getattr(request, _REQUEST_ATTRIBUTE, None)
        if kept is not None and kept is not _NOBODY:
            forget_entitlements(kept)
    if owner is not None and hasattr(owner, _OWNER_ATTRIBUTE):
        delattr(owner, _OWNER_ATTRIBUTE)


class EntitlementService:
    """The interactor's entitlement checks (``payments.entitlements``)."""

    def of(self, owner: Any) -> Entitlements:
        return entitlements_of(owner)

    def for_request(self, request: HttpRequest) -> Entitlements:
        return entitlements_for_request(request)

    def has_feature(self, owner: Any, feature: str) -> bool:
        return entitlements_of(owner).has_feature(feature)

    def limit(self, owner: Any, name: str, default: Any = None) -> Any:
        return entitlements_of(owner).limit(name, default)

    def forget(self, owner: Any = None, *, request: HttpRequest | None = None) -> None:
        forget_entitlements(owner, request=request)
