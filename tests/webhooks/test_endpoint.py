"""The Stripe endpoint: verification (signature, timestamp, body, size), methods, duplicates."""

from __future__ import annotations

import json
import time

import pytest
from django.test import override_settings

from django_payments_sync.models import WebhookEvent
from django_payments_sync.testing.webhooks import (
    sign_stripe_payload,
    stripe_customer,
    stripe_event,
)
from tests.webhooks.conftest import SECRET

pytestmark = pytest.mark.django_db


def customer_event(**kwargs):
    return stripe_event(
        "customer.updated", stripe_customer("cus_A", email="a@example.com"), **kwargs
    )


def test_valid_signature_is_stored_and_answered_200(post_event):
    event = customer_event()
    response = post_event(event)
    assert response.status_code == 200, response.content
    row = WebhookEvent.objects.get(event_id=event["id"])
    assert row.provider == "stripe"
    assert row.type == "customer.updated"
    assert row.ordering_key == "customer:cus_A"
    assert row.payload == event
    assert int(row.provider_created_at.timestamp()) == event["created"]


@pytest.mark.parametrize(
    ("secret", "timestamp"),
    [
        ("whsec_wrong", None),
        (SECRET, int(time.time()) - 301),
    ],
    ids=["wrong-secret", "stale-timestamp"],
)
def test_bad_signature_answers_400_and_stores_nothing(post_event, secret, timestamp):
    response = post_event(customer_event(), secret=secret, timestamp=timestamp)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_timestamp_within_tolerance_is_accepted(post_event):
    response = post_event(customer_event(), timestamp=int(time.time()) - 290)
    assert response.status_code == 200


def test_tampered_body_answers_400(client, webhook_url):
    body, headers = sign_stripe_payload(customer_event(), SECRET)
    tampered = body.replace(b"a@example.com", b"x@example.com")
    response = client.post(
        webhook_url,
        data=tampered,
        content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )
    assert response.status_code == 400
    assert "signature" in response.json()["error"].lower()
    assert not WebhookEvent.objects.exists()


def test_missing_header_answers_400(client, webhook_url):
    body, _ = sign_stripe_payload(customer_event(), SECRET)
    response = client.post(webhook_url, data=body, content_type="application/json")
    assert response.status_code == 400
    assert "Stripe-Signature" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"not json at all", b"[1, 2, 3]", b'{"id": "evt_1"}', b"\xff\xfe\x00"],
    ids=["not-json", "not-object", "not-event", "not-utf8"],
)
def test_signed_body_that_is_not_an_event_answers_400(client, webhook_url, body):
    import stripe

    header = stripe.WebhookSignature.generate_signature_header(body.decode("latin-1"), SECRET)
    if body == b"\xff\xfe\x00":
        header = "t=1,v1=00"
    response = client.post(
        webhook_url,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


@override_settings(
    PAYMENTS_SYNC={
        "OPTIONS": {"api_key": "sk_test_x", "webhook_secret": SECRET},
        "WEBHOOK_MAX_BODY_SIZE": 2048,
    }
)
def test_body_over_the_limit_answers_400(post_event):
    big = customer_event()
    big["data"]["object"]["metadata"] = {"padding": "x" * 4096}
    assert post_event(big).status_code == 400
    small = customer_event()
    assert len(json.dumps(small, indent=2)) < 2048
    assert post_event(small).status_code == 200
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "head", "options"])
def test_other_methods_answer_405(client, webhook_url, method):
    response = getattr(client, method)(webhook_url)
    assert response.status_code == 405


def test_no_session_or_csrf_needed(post_event, client, user):
    client.force_login(user)
    client.handler.enforce_csrf_checks = True
    assert post_event(customer_event()).status_code == 200


def test_duplicate_delivery_answers_200_and_changes_nothing(post_event):
    event = customer_event()
    first = post_event(event)
    row = WebhookEvent.objects.get()
    second = post_event(event)
    assert first.status_code == second.status_code == 200
    assert second.json()["duplicate"] is True
    again = WebhookEvent.objects.get()
    assert again.attempts == row.attempts
    assert again.updated_at == row.updated_at


def test_unknown_type_is_stored_as_ignored(post_event):
    event = stripe_event("balance.available", {"object": "balance", "id": "", "available": []})
    assert post_event(event).status_code == 200
    assert WebhookEvent.objects.get().status == "ignored"


def test_subclass_cannot_skip_verification():
    from django_payments_sync.webhooks.views import WebhookView

    with pytest.raises(TypeError, match="verify"):

        class Sloppy(WebhookView):
            def verify(self, request):  # type: ignore[override]
                return None
