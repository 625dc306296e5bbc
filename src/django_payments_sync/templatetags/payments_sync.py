"""Template tags: ``{% load payments_sync %}``, then ``{% has_feature "sso" as sso %}`` and
``{% feature_limit "seats" as seats %}`` for the requester (``request`` in the context, as
Django's ``request`` context processor puts it), or ``owner=`` another owner."""

from __future__ import annotations

from typing import Any

from django import template

from django_payments_sync.interactor.entitlements import (
    Entitlements,
    entitlements_for_request,
    entitlements_of,
)

register = template.Library()


def _entitlements(context: template.Context, owner: Any) -> Entitlements:
    # An undefined variable given as owner= reads as "" (Django's string_if_invalid).
    if owner is not None and not (isinstance(owner, str) and owner == ""):
        return entitlements_of(owner)
    request = context.get("request")
    return entitlements_for_request(request) if request is not None else entitlements_of(None)


@register.simple_tag(takes_context=True)
def has_feature(context: template.Context, feature: str, owner: Any = None) -> bool:
    """Whether the requester (or ``owner``) has ``feature``; the free tier's answer without a
    request in the context."""
    return _entitlements(context, owner).has_feature(feature)


@register.simple_tag(takes_context=True)
def feature_limit(
    context: template.Context, name: str, default: Any = None, owner: Any = None
) -> Any:
    """The requester's (or ``owner``'s) limit ``name``, else ``default``."""
    return _entitlements(context, owner).limit(name, default)
