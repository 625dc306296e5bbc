"""URLconf of the dj-stripe project: dj-stripe's URLs under stripe/, as its docs say."""

from django.urls import include, path

urlpatterns = [path("stripe/", include("djstripe.urls", namespace="djstripe"))]
