"""URLconf of the test project: the library under /api/payment/, as a host project has it."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/payment/", include("django_payments_sync.urls")),
]
