"""URLs of the example project: its pages, Django's auth and admin, and the library's API."""

from __future__ import annotations

from accounts.forms import EmailAuthenticationForm
from accounts.views import SignUpView
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from demo_site import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", SignUpView.as_view(), name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("pricing/", views.pricing, name="pricing"),
    path("billing/", views.billing, name="billing"),
    path("checkout/success/", views.checkout_success, name="checkout-success"),
    path("account/", views.account, name="account"),
    path("buy/onboarding/", views.buy_one_off, name="buy-one-off"),
    path("usage/api-call/", views.record_api_call, name="record-api-call"),
    path("sso/", views.sso, name="sso"),
    path("admin/", admin.site.urls),
    path("api/payment/", include("django_payments_sync.urls")),
]
