"""URLconf of the benchmark site: the library under api/payment/, as the docs say."""

from django.urls import include, path

urlpatterns = [path("api/payment/", include("django_payments_sync.urls"))]
