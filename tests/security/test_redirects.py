"""Open redirects: checkout and portal return URLs that would lead off the site are refused,
whatever their disguise, and every accepted one lands on one of the site's hosts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from django_payments_sync.adapter import get_adapter
from django_payments_sync.backends.locmem import LocmemBackend
from django_payments_sync.models import Order
from tests.checkout.conftest import CHECKOUT_URL
from tests.factories import PricingFactory, UserFactory

pytestmark = pytest.mark.django_db

PORTAL_URL = "/api/payment/billing/portal/"
SITE_HOSTS = {"testserver", "localhost", "127.0.0.1"}

DISGUISES = [
    "https://evil.example/phish",
    "HTTPS://EVIL.EXAMPLE/",
    "//evil.example/x",
    "///evil.example/x",
    "////evil.example",
    "\\\\evil.example\\x",
    "/\\evil.example",
    "\\/evil.example",
    " https://evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "\x00//evil.example",
    "https:evil.example",
    "https:/evil.example",
    "http://testserver@evil.example/",
    "http://testserver:80@evil.example/",
    "http://evil.example#@testserver",
    "http://evil.example?@testserver",
    "http://evil.example\\@testserver/",
    "https://testserver.evil.example/",
    "https://evil.example/testserver",
    "http://localhost.evil.example/",
    "https://evil。example/",
    "https://xn--e1awd7f.example/",
    "http://[::ffff:7f00:1]@evil.example/",
    "javascript:alert(1)",
    "javascript://testserver/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://testserver/",
    "file:///etc/passwd",
]


def lands_on(url: str) -> str | None:
    """Where a browser sent to ``url`` from the site goes (the WHATWG parser's lenience:
    surrounding C0 controls and spaces dropped, tabs and newlines removed, ``\\`` as ``/``)."""
    cleaned = url.strip("".join(map(chr, range(33))))
    cleaned = "".join(c for c in cleaned if c not in "\t\n\r").replace("\\", "/")
    return urlsplit(urljoin("http://testserver/account/", cleaned)).hostname


@pytest.fixture
def api(locmem: LocmemBackend) -> APIClient:
    client = APIClient()
    client.force_login(UserFactory(username="shopper"))
    return client


@pytest.fixture
def pricing(locmem: LocmemBackend) -> Any:
    return PricingFactory(amount=1500, interval="month")


@pytest.mark.parametrize("url", DISGUISES)
@pytest.mark.parametrize("field", ["success_url", "cancel_url"])
def test_checkout_refuses_return_urls_off_the_site(
    api: APIClient, locmem: LocmemBackend, pricing: Any, field: str, url: str
) -> None:
    response = api.post(CHECKOUT_URL, {"pricing": pricing.pk, field: url}, format="json")

    assert response.status_code == 400, (url, response.content)
    assert not Order.objects.exists()
    assert locmem.calls_to("create_checkout_session") == []


@pytest.mark.parametrize("url", DISGUISES)
def test_the_portal_refuses_return_urls_off_the_site(
    api: APIClient, locmem: LocmemBackend, url: str
) -> None:
    response = api.post(PORTAL_URL, {"return_url": url}, format="json")

    assert response.status_code == 400, (url, response.content)
    assert "return_url" in response.json()
    assert locmem.calls_to("create_portal_session") == []


def test_a_forged_host_header_does_not_become_an_allowed_host(
    api: APIClient, locmem: LocmemBackend, pricing: Any
) -> None:
    response = api.post(
        CHECKOUT_URL,
        {"pricing": pricing.pk, "success_url": "https://evil.example/"},
        format="json",
        HTTP_HOST="evil.example",
    )
    assert response.status_code == 400
    assert locmem.calls_to("create_checkout_session") == []


def test_accepted_return_urls_are_sent_to_the_provider_on_the_site(
    api: APIClient, locmem: LocmemBackend, pricing: Any
) -> None:
    for url in ("/thanks/", "/a//b", "http://localhost/done", "https://testserver/x?next=//e"):
        response = api.post(CHECKOUT_URL, {"pricing": pricing.pk, "success_url": url})
        assert response.status_code == 201, (url, response.content)
        sent = locmem.calls_to("create_checkout_session")[-1].args[0].success_url
        assert urlsplit(sent).hostname in SITE_HOSTS, sent
        assert lands_on(sent) in SITE_HOSTS


URL_PARTS = st.sampled_from(
    [
        "",
        "/",
        "//",
        "\\",
        "http:",
        "https:",
        "javascript:",
        "testserver",
        "evil.example",
        "@",
        "#",
        "?",
        ":80",
        ".",
        " ",
        "\t",
        "%2f",
        "localhost",
        "[::1]",
        "\x00",
        "。",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(URL_PARTS, min_size=1, max_size=8).map("".join))
def test_every_url_the_adapter_accepts_lands_on_the_site(url: str) -> None:
    from django.test import RequestFactory

    request = RequestFactory().get("/", HTTP_HOST="testserver")
    if get_adapter().is_safe_url(url, request):
        assert lands_on(url) in SITE_HOSTS, url
