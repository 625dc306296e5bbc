"""URLconf of the test project: the library under /api/payment/, as a host project has it."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponseNotFound
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/payment/", include("django_payments_sync.urls")),
]


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponseNotFound:
    """The test project's 404 page, which reads nothing of the request.

    Django's default one (``django.views.defaults.page_not_found``) runs the CSRF middleware's
    checks for its token (``requires_csrf_token``), which read ``request.POST``: a POST with a
    malformed multipart body to a path that resolves nowhere (``subscriptions/1.5/discount/``,
    which the schema fuzzing sends) then raises ``MultiPartParserError`` and answers 500. That
    is Django's page and a host's choice, not the library's; the fuzzing checks the library.
    """
    return HttpResponseNotFound(
        "<!doctype html><title>Not Found</title><h1>Not Found</h1>", content_type="text/html"
    )


handler404 = page_not_found
