"""The ceiling's URLconf: one webhook route."""

from django.urls import path

from .views import webhook

urlpatterns = [path("webhook/", webhook)]
