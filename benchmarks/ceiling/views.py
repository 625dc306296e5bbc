"""The ceiling's only view: verify the signature with the stripe SDK, insert one row, answer 200."""

from __future__ import annotations

import json

import stripe
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import ReceivedEvent


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("Stripe-Signature", "")
    try:
        stripe.WebhookSignature.verify_header(
            request.body.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET, 300
        )
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError):
        return HttpResponseBadRequest()
    ReceivedEvent.objects.bulk_create(
        [ReceivedEvent(event_id=payload["id"], type=payload["type"], payload=payload)],
        ignore_conflicts=True,
    )
    return HttpResponse(status=200)
