"""A path under /api/payment/ that resolves nowhere answers 404, whatever its body."""

from __future__ import annotations

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/payment/subscriptions/1.5/discount/", "/api/payment/no-such-endpoint/"]
)
def test_a_malformed_multipart_post_to_no_endpoint_is_a_404(path: str) -> None:
    # With a CSRF cookie, as a logged-in browser sends it: Django's default 404 page would read
    # the body for the CSRF token and answer 500 (tests/urls.py says why the project has its own).
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies["csrftoken"] = _get_new_csrf_string()
    response = client.generic(
        "POST", path, b"garbage", content_type="multipart/form-data; boundary=\xe9"
    )
    assert response.status_code == 404
