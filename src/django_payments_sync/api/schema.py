"""OpenAPI annotations through drf-spectacular when it is installed (the ``schema`` extra)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

HAS_SPECTACULAR = importlib.util.find_spec("drf_spectacular") is not None


def extend_schema(**kwargs: Any) -> Callable[[_F], _F]:
    """drf-spectacular's ``extend_schema``, or a decorator that changes nothing without it."""
    if HAS_SPECTACULAR:
        from drf_spectacular.utils import extend_schema as spectacular_extend_schema

        return spectacular_extend_schema(**kwargs)

    def unchanged(func: _F) -> _F:
        return func

    return unchanged
