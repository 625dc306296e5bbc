"""Feature gates for plain Django views: ``@feature_required("sso")``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from django_payments_sync.interactor.entitlements import entitlements_for_request


def feature_required(feature: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let a view run only for a requester whose plan (or the free tier) has ``feature``.

    Anyone else gets Django's 403 (``PermissionDenied``); put ``login_required`` above it to send
    anonymous visitors to the login page first. One query per request at most.
    """
    if not isinstance(feature, str) or not feature:
        raise TypeError("feature_required needs a feature name, e.g. feature_required('sso').")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
            if not entitlements_for_request(request).has_feature(feature):
                raise PermissionDenied(
                    gettext("Your plan does not include %(feature)s.") % {"feature": feature}
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
