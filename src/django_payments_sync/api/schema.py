"""OpenAPI annotations through drf-spectacular when it is installed (the ``schema`` extra)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any, TypeVar, cast

from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.schemas.inspectors import DefaultSchema, ViewInspector
from rest_framework.settings import api_settings
from rest_framework.views import APIView

_F = TypeVar("_F", bound=Callable[..., Any])

HAS_SPECTACULAR = importlib.util.find_spec("drf_spectacular") is not None


def extend_schema(**kwargs: Any) -> Callable[[_F], _F]:
    """drf-spectacular's ``extend_schema``, or a decorator that changes nothing without it.

    drf-spectacular's decorator builds the method's schema class on top of
    ``DEFAULT_SCHEMA_CLASS`` as it is at import; this one builds it on :func:`schema_class`,
    so the host's setting may stay DRF's default.
    """
    if not HAS_SPECTACULAR:

        def unchanged(func: _F) -> _F:
            return func

        return unchanged

    from drf_spectacular.utils import extend_schema as spectacular_extend_schema

    decorate = spectacular_extend_schema(**kwargs)

    def decorator(func: _F) -> _F:
        # drf-spectacular takes an explicit ``schema`` attribute of the function as the base.
        func.schema = schema_class()  # type: ignore[attr-defined]
        try:
            return decorate(func)
        finally:
            del func.schema  # type: ignore[attr-defined]

    return decorator


def schema_class() -> type[Any]:
    """The schema inspector class of the library's views: the host's ``DEFAULT_SCHEMA_CLASS``
    if it is drf-spectacular's ``AutoSchema`` or a subclass, else drf-spectacular's."""
    from drf_spectacular.openapi import AutoSchema

    configured = api_settings.DEFAULT_SCHEMA_CLASS
    if isinstance(configured, type) and issubclass(configured, AutoSchema):
        return configured
    return AutoSchema


def spectacular_installed() -> bool:
    """Whether drf-spectacular (the ``schema`` extra) can be imported."""
    return HAS_SPECTACULAR


class LibrarySchema(DefaultSchema):
    """The schema inspector of the library's views: drf-spectacular's ``AutoSchema``, whatever
    the host's ``DEFAULT_SCHEMA_CLASS`` (DRF's own default cannot describe them, and the schema
    route would answer 500). A host's subclass of drf-spectacular's ``AutoSchema`` is kept;
    without drf-spectacular, DRF's default applies."""

    def __get__(self, instance: Any, owner: Any) -> Any:
        result = ViewInspector.__get__(self, instance, owner)
        if not isinstance(result, DefaultSchema):
            return result  # set on the view instance
        # (DEFAULT_SCHEMA_CLASS is a class once DRF has imported the setting.)
        default = cast("type[Any]", api_settings.DEFAULT_SCHEMA_CLASS)
        inspector = (schema_class() if spectacular_installed() else default)()
        inspector.view = instance
        return inspector


class SchemaUnavailableView(APIView):
    """``GET schema/`` without drf-spectacular: says what to install (501), not a 404."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    renderer_classes = [JSONRenderer]
    schema = None

    def get(self, request: Request) -> Response:
        return Response(
            {
                "detail": "The OpenAPI schema needs drf-spectacular: "
                "pip install 'django-payments-sync[schema]'.",
                "code": "schema_unavailable",
            },
            status=status.HTTP_501_NOT_IMPLEMENTED,
        )


def schema_view() -> Any:
    """The view of ``GET schema/``: drf-spectacular's, or :class:`SchemaUnavailableView`."""
    if not spectacular_installed():
        return SchemaUnavailableView.as_view()
    from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView

    class SchemaView(SpectacularAPIView):
        schema = LibrarySchema()

        # drf-spectacular's own annotation of get() is built on DEFAULT_SCHEMA_CLASS.
        @extend_schema(**SCHEMA_KWARGS)
        def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            return super().get(request, *args, **kwargs)

    return SchemaView.as_view()
