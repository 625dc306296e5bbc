"""The emulator answers as Stripe's OpenAPI spec says (issue 19).

A representative journey through every resource the emulator serves, by the SDK: every JSON
answer under ``/v1/`` (errors included) is validated against the response schema of its path
and status in ``spec/stripe-spec3.trimmed.json`` (Stripe's spec, MIT, its LICENSE beside it; see
``spec/README.md``), and every event the journey produced against ``event``, its
``data.object`` against the schema its ``object`` names. ``expand[]`` is checked against the
spec's ``x-expandableFields``: what it marks expandable is accepted, what it does not is refused.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
import stripe
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from django_payments_sync.testing.stripe_emulator import StripeEmulator, server

from .helpers import customer, price

SPEC = Path(__file__).resolve().parent / "spec" / "stripe-spec3.trimmed.json"
ROOT = "urn:stripe-spec3"


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0's schema dialect as JSON Schema: ``nullable`` allows null, ``x-`` goes."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: json_schema(value)
        for key, value in node.items()
        if key != "nullable" and not (key.startswith("x-") and key != "x-expandableFields")
    }
    if "$ref" in out:
        out["$ref"] = ROOT + out["$ref"]
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def spec() -> dict[str, Any]:
    """The trimmed spec, with the paths (and their objects) its 2023 base lacks
    (``spec/paths-*.json``)."""
    found: dict[str, Any] = json.loads(SPEC.read_text())
    for added in sorted(SPEC.parent.glob("paths-*.json")):
        extra = json.loads(added.read_text())
        found["paths"].update(extra["paths"])
        found["components"]["schemas"].update(extra.get("components", {}).get("schemas", {}))
    return found


@functools.cache
def registry() -> Registry:
    contents = {"components": json_schema(spec()["components"])}
    return Registry().with_resource(ROOT, Resource.from_contents(contents, DRAFT7))


def errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = Draft7Validator(json_schema(schema), registry=registry())
    found = []
    for error in validator.iter_errors(instance):
        while error.context:  # an anyOf: the branch that came closest
            error = best_match(error.context)
        where = "/".join(map(str, error.absolute_path)) or "(top)"
        found.append(f"{where}: {error.message[:200]}")
    return found


def component(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


@functools.cache
def path_patterns() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for template in spec()["paths"]:
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        patterns.append((re.compile(f"^{regex}$"), template))
    # The most specific (longest literal) first.
    return sorted(patterns, key=lambda p: -len(p[1].replace("{", "").replace("}", "")))


def promotion_code_schema() -> dict[str, Any]:
    """The spec's promotion code, in the pinned API version's shape: the coupon moved from
    ``coupon`` into ``promotion`` (``{"type": "coupon", "coupon": id}``; ``stripe.PromotionCode``
    of the installed SDK), which the trimmed spec predates."""
    schema = copy.deepcopy(spec()["components"]["schemas"]["promotion_code"])
    schema["required"] = [name for name in schema["required"] if name != "coupon"] + ["promotion"]
    schema["properties"].pop("coupon")
    schema["properties"]["promotion"] = {
        "type": "object",
        "required": ["type", "coupon"],
        "properties": {"type": {"enum": ["coupon"]}, "coupon": {"type": "string"}},
    }
    return schema  # type: ignore[no-any-return]


def schema_of(name: str) -> dict[str, Any]:
    return promotion_code_schema() if name == "promotion_code" else component(name)


def list_of(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["object", "data", "has_more", "url"],
        "properties": {
            "object": {"enum": ["list"], "type": "string"},
            "data": {"type": "array", "items": schema_of(name)},
            "has_more": {"type": "boolean"},
            "url": {"type": "string"},
        },
    }


#: Routes the trimmed spec has no path for (it keeps the paths the emulator served when it was
#: cut), with the object Stripe's full spec answers them with; their errors are ``error``s.
EXTRA_ROUTES: list[tuple[str, re.Pattern[str], Any]] = [
    ("POST", re.compile(r"^/v1/refunds$"), lambda: component("refund")),
    ("GET", re.compile(r"^/v1/refunds$"), lambda: list_of("refund")),
    ("GET", re.compile(r"^/v1/refunds/re_\w+$"), lambda: component("refund")),
    ("GET", re.compile(r"^/v1/charges/ch_\w+$"), lambda: component("charge")),
    ("POST", re.compile(r"^/v1/payment_intents$"), lambda: component("payment_intent")),
    ("POST", re.compile(r"^/v1/coupons$"), lambda: component("coupon")),
    ("GET", re.compile(r"^/v1/coupons$"), lambda: list_of("coupon")),
    ("GET", re.compile(r"^/v1/coupons/[^/]+$"), lambda: component("coupon")),
    ("POST", re.compile(r"^/v1/coupons/[^/]+$"), lambda: component("coupon")),
    ("DELETE", re.compile(r"^/v1/coupons/[^/]+$"), lambda: component("deleted_coupon")),
    ("POST", re.compile(r"^/v1/promotion_codes$"), promotion_code_schema),
    ("GET", re.compile(r"^/v1/promotion_codes$"), lambda: list_of("promotion_code")),
    ("GET", re.compile(r"^/v1/promotion_codes/promo_\w+$"), promotion_code_schema),
    ("POST", re.compile(r"^/v1/promotion_codes/promo_\w+$"), promotion_code_schema),
]


def response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    for verb, regex, schema in EXTRA_ROUTES:
        if verb == method and regex.match(path):
            return component("error") if status >= 400 else schema()  # type: ignore[no-any-return]
    for pattern, template in path_patterns():
        if pattern.match(path):
            operation = spec()["paths"][template].get(method.lower())
            if operation is None:
                return None
            responses = operation["responses"]
            answer = responses.get(str(status)) or responses.get("default")
            return answer["content"]["application/json"]["schema"]  # type: ignore[no-any-return]
    return None


class Recorder:
    """Every JSON answer the emulator sends under /v1/: (method, path, status, body)."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, str, int, Any]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = server._Handler._send_raw_json
        recorder = self

        def send(handler: Any, status: int, payload: bytes, headers: dict[str, str]) -> None:
            path = handler.path.split("?", 1)[0]
            if path.startswith("/v1/"):
                recorder.answers.append((handler.command, path, status, json.loads(payload)))
            original(handler, status, payload, headers)

        monkeypatch.setattr(server._Handler, "_send_raw_json", send)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    recorder.install(monkeypatch)
    return recorder


def journey(emulator: StripeEmulator, client: stripe.StripeClient) -> None:
    """A customer's life at Stripe, touching every route the emulator serves."""
    client.v1.accounts.list()
    client.v1.customers.list({"limit": 1})
    emulator.add_webhook_endpoint("http://127.0.0.1:9/hook")  # deliveries fail: no matter
    endpoint = client.v1.webhook_endpoints.create(
        {"url": "http://127.0.0.1:9/other", "enabled_events": ["customer.created"]}
    )
    client.v1.webhook_endpoints.retrieve(endpoint.id)
    client.v1.webhook_endpoints.update(endpoint.id, {"disabled": True})
    client.v1.webhook_endpoints.list()
    client.v1.webhook_endpoints.delete(endpoint.id)

    feature = client.v1.entitlements.features.create({"name": "API", "lookup_key": "api"})
    client.v1.entitlements.features.list()
    client.v1.entitlements.features.retrieve(feature.id)
    product = client.v1.products.create({"name": "Pro", "metadata": {"local": "1"}})
    client.v1.products.update(product.id, {"description": "For teams"})
    client.v1.products.retrieve(product.id)
    client.v1.products.list({"active": True})
    attached = client.v1.products.features.create(product.id, {"entitlement_feature": feature.id})
    client.v1.products.features.list(product.id)
    client.v1.products.features.retrieve(product.id, attached.id)
    client.v1.products.features.delete(product.id, attached.id)
    client.v1.products.features.create(product.id, {"entitlement_feature": feature.id})
    monthly = price(client, 2900, product=product.id)
    yearly = price(client, 29000, "year", product=product.id)
    one_time = price(client, 5000, None, product=product.id)
    client.v1.prices.update(one_time.id, {"active": False})
    client.v1.prices.retrieve(monthly.id, {"expand": ["product"]})
    client.v1.prices.list({"product": product.id})
    spare = client.v1.products.create({"name": "Spare"})
    client.v1.products.delete(spare.id)

    jane = customer(client, name="Jane", address={"country": "FR"})
    tax_id = client.v1.customers.tax_ids.create(
        jane.id, {"type": "eu_vat", "value": "FR40303265045"}
    )
    client.v1.customers.tax_ids.retrieve(jane.id, tax_id.id)
    client.v1.customers.tax_ids.list(jane.id)
    client.v1.tax_ids.retrieve(tax_id.id)
    client.v1.tax_ids.list({"owner": {"type": "customer", "customer": jane.id}})
    client.v1.customers.update(jane.id, {"email": "jane@acme.example", "tax_exempt": "reverse"})
    client.v1.customers.retrieve(jane.id, {"expand": ["tax_ids", "sources"]})

    subscription = client.v1.subscriptions.create(
        {"customer": jane.id, "items": [{"price": monthly.id, "quantity": 2}]}
    )
    client.v1.subscriptions.retrieve(
        subscription.id, {"expand": ["latest_invoice", "customer", "items.data.price.product"]}
    )
    client.v1.subscriptions.update(
        subscription.id,
        {
            "items": [{"id": subscription["items"].data[0].id, "price": yearly.id}],
            "proration_behavior": "always_invoice",
        },
    )
    client.v1.subscription_items.list({"subscription": subscription.id})
    active = client.v1.entitlements.active_entitlements.list({"customer": jane.id})
    assert [e.lookup_key for e in active.data] == ["api"]
    client.v1.subscriptions.list({"customer": jane.id, "status": "all"})
    trial = client.v1.subscriptions.create(
        {"customer": jane.id, "items": [{"price": monthly.id}], "trial_period_days": 7}
    )
    emulator.advance_clock(40 * 24 * 3600)  # trial ends, renewals
    invoices = client.v1.invoices.list({"customer": jane.id})
    invoice = invoices.data[0]
    client.v1.invoices.retrieve(
        invoice.id, {"expand": ["parent.subscription_details.subscription"]}
    )
    client.v1.invoices.line_items.list(invoice.id)
    client.v1.subscriptions.update(trial.id, {"cancel_at_period_end": True})
    client.v1.subscriptions.cancel(trial.id)

    declined = customer(client, "pm_card_chargeDeclined", email="joe@example.com")
    failing = client.v1.subscriptions.create(
        {
            "customer": declined.id,
            "items": [{"price": monthly.id}],
            "payment_behavior": "default_incomplete",
        }
    )
    latest = client.v1.subscriptions.retrieve(failing.id).latest_invoice
    assert isinstance(latest, str)
    with pytest.raises(stripe.CardError):
        client.v1.invoices.pay(latest)

    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "customer": jane.id,
            "line_items": [{"price": monthly.id, "quantity": 1}],
            "success_url": "https://shop.example/done/?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example/pricing/",
        }
    )
    client.v1.checkout.sessions.retrieve(session.id, {"expand": ["line_items"]})
    client.v1.checkout.sessions.line_items.list(session.id)
    emulator.pay_checkout_session(session.id)
    client.v1.checkout.sessions.retrieve(session.id, {"expand": ["subscription", "invoice"]})
    payment = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "customer_email": "new@example.com",
            "line_items": [{"price": one_time.id, "quantity": 1}],
            "success_url": "https://shop.example/done/",
        }
    )
    emulator.pay_checkout_session(payment.id)
    paid = client.v1.checkout.sessions.retrieve(payment.id)
    assert isinstance(paid.payment_intent, str)
    intent = client.v1.payment_intents.retrieve(paid.payment_intent)
    refund = client.v1.refunds.create(
        {"payment_intent": intent.id, "amount": 1000, "reason": "requested_by_customer"}
    )
    client.v1.refunds.retrieve(refund.id)
    client.v1.refunds.list({"payment_intent": intent.id})
    client.v1.charges.retrieve(str(intent.latest_charge))
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 999_999})
    failing_refund = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "customer": jane.id,
            "line_items": [{"price": one_time.id, "quantity": 1}],
            "success_url": "https://shop.example/done/",
        }
    )
    emulator.pay_checkout_session(failing_refund.id, payment_method="pm_card_refundFail")
    client.v1.payment_intents.create(
        {
            "amount": 700,
            "currency": "eur",
            "customer": jane.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "off_session": True,
            "description": "Extra seats",
        }
    )
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(
            {
                "amount": 700,
                "currency": "eur",
                "customer": jane.id,
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
                "off_session": True,
            }
        )
    returned = client.v1.checkout.sessions.retrieve(failing_refund.id).payment_intent
    assert client.v1.refunds.create({"payment_intent": str(returned)}).status == "succeeded"
    expiring = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{"price": one_time.id, "quantity": 1}],
            "success_url": "https://shop.example/done/",
        }
    )
    client.v1.checkout.sessions.expire(expiring.id)
    client.v1.checkout.sessions.list({"limit": 5})
    client.v1.billing_portal.sessions.create(
        {"customer": jane.id, "return_url": "https://shop.example/account/"}
    )

    coupon = client.v1.coupons.create(
        {"percent_off": 20, "duration": "repeating", "duration_in_months": 3, "name": "Launch"}
    )
    client.v1.coupons.update(coupon.id, {"name": "Launch 20"})
    client.v1.coupons.retrieve(coupon.id)
    client.v1.coupons.list()
    promo = client.v1.promotion_codes.create(
        {"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "LAUNCH20"}
    )
    client.v1.promotion_codes.list({"code": "launch20"})
    discounted = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "customer": jane.id,
            "line_items": [{"price": one_time.id, "quantity": 1}],
            "success_url": "https://shop.example/done/",
            "discounts": [{"promotion_code": promo.id}],
        }
    )
    emulator.pay_checkout_session(discounted.id)
    client.v1.subscriptions.update(subscription.id, {"discounts": [{"promotion_code": promo.id}]})
    client.v1.promotion_codes.update(promo.id, {"active": False})
    client.v1.promotion_codes.retrieve(promo.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.coupons.create({"duration": "once"})
    client.v1.coupons.delete(coupon.id)

    client.v1.customers.tax_ids.delete(jane.id, tax_id.id)
    events = client.v1.events.list({"type": "customer.*"})
    client.v1.events.retrieve(events.data[0].id)
    client.v1.customers.delete(declined.id)

    # Errors have Stripe's error shape.
    for call in (
        lambda: client.v1.customers.retrieve("cus_missing"),
        lambda: client.v1.customers.create({"tax_exempt": "bogus"}),  # type: ignore[typeddict-item]
        lambda: client.v1.subscriptions.create({"customer": "cus_missing", "items": []}),
    ):
        with pytest.raises(stripe.StripeError):
            call()
    # Not a 500: Stripe's 400 naming the parameter.
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.billing_portal.sessions.create({"return_url": "https://shop.example/"})
    assert raised.value.http_status == 400
    assert raised.value.param == "customer"


def test_every_answer_and_event_matches_the_spec(
    stripe_emulator: StripeEmulator, recorder: Recorder
) -> None:
    client = stripe_emulator.client(max_network_retries=0)
    journey(stripe_emulator, client)

    problems = []
    seen = set()
    for method, path, status, body in recorder.answers:
        schema = response_schema(method, path, status)
        if schema is None:
            problems.append(f"{method} {path}: not in the spec")
            continue
        seen.add(
            (
                method,
                re.sub(
                    r"/(cus|prod|price|sub|si|in|cs|pi|txi|we|evt|feat|bps|re|ch)_\w+",
                    "/{id}",
                    path,
                ),
            )
        )
        for error in errors(schema, body)[:5]:
            problems.append(f"{method} {path} -> {status}: {error}")
    for event in stripe_emulator.events():
        for error in errors(component("event"), event)[:5]:
            problems.append(f"event {event['type']}: {error}")
        obj = event["data"]["object"]
        name = obj["object"]
        if name not in spec()["components"]["schemas"]:
            problems.append(f"event {event['type']}: no schema for {name!r}")
            continue
        for error in errors(schema_of(name), obj)[:5]:
            problems.append(f"event {event['type']} data.object ({name}): {error}")
    assert problems == [], "\n".join(problems)


def is_id_field(schema: dict[str, Any]) -> bool:
    """An expandable field: an id string, or the object once expanded."""
    branches = schema.get("anyOf", [])
    return any(b.get("type") == "string" for b in branches) and any("$ref" in b for b in branches)


def spec_expandable(name: str, prefix: str = "", depth: int = 0) -> list[str]:
    """The expandable fields of a schema, dotted into its nested hashes (not resources)."""
    schemas = spec()["components"]["schemas"]
    found = []
    for field, schema in sorted(schemas[name].get("properties", {}).items()):
        if is_id_field(schema):
            found.append(prefix + field)
            continue
        ref = schema.get("$ref") or (schema.get("anyOf") or [{}])[0].get("$ref")
        if ref is None or len(schema.get("anyOf") or [{}]) != 1 or depth >= 2:
            continue
        nested = ref.rsplit("/", 1)[-1]
        if "x-resourceId" not in schemas[nested] and "object" not in schemas[nested].get(
            "properties", {}
        ):
            found += spec_expandable(nested, f"{prefix}{field}.", depth + 1)
    return found


def test_the_emulators_expandable_fields_are_the_specs() -> None:
    from django_payments_sync.testing.stripe_emulator.render import EXPANDABLE

    assert {kind: sorted(paths) for kind, paths in EXPANDABLE.items()} == {
        kind: spec_expandable(kind) for kind in EXPANDABLE
    }


def test_expand_accepts_what_the_spec_marks_expandable_and_refuses_the_rest(
    stripe_emulator: StripeEmulator,
) -> None:
    from django_payments_sync.testing.stripe_emulator.render import INCLUDABLE

    client = stripe_emulator.client(max_network_retries=0)
    product = client.v1.products.create({"name": "Pro", "tax_code": "txcd_10103001"})
    monthly = price(client, 2900, product=product.id)
    jane = customer(client)
    subscription = client.v1.subscriptions.create(
        {
            "customer": jane.id,
            "items": [{"price": monthly.id}],
            "default_payment_method": "pm_card_visa",
        }
    )
    tax_id = client.v1.customers.tax_ids.create(
        jane.id, {"type": "eu_vat", "value": "FR40303265045"}
    )
    one_time = price(client, 5000, None, product=product.id)
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "customer": jane.id,
            "line_items": [{"price": one_time.id, "quantity": 1}],
            "success_url": "https://shop.example/done/",
        }
    )
    stripe_emulator.pay_checkout_session(session.id)
    paid = client.v1.checkout.sessions.retrieve(session.id)
    invoice = client.v1.invoices.list({"subscription": subscription.id}).data[0]
    endpoint = client.v1.webhook_endpoints.create(
        {"url": "http://127.0.0.1:9/", "enabled_events": ["*"]}
    )
    event = client.v1.events.list({"limit": 1}).data[0]
    retrieve = {
        "customer": lambda e: client.v1.customers.retrieve(jane.id, {"expand": e}),
        "product": lambda e: client.v1.products.retrieve(product.id, {"expand": e}),
        "price": lambda e: client.v1.prices.retrieve(monthly.id, {"expand": e}),
        "subscription": lambda e: client.v1.subscriptions.retrieve(subscription.id, {"expand": e}),
        "invoice": lambda e: client.v1.invoices.retrieve(str(invoice.id), {"expand": e}),
        "checkout.session": lambda e: client.v1.checkout.sessions.retrieve(
            session.id, {"expand": e}
        ),
        "payment_intent": lambda e: client.v1.payment_intents.retrieve(
            str(paid.payment_intent), {"expand": e}
        ),
        "tax_id": lambda e: client.v1.tax_ids.retrieve(tax_id.id, {"expand": e}),
        "webhook_endpoint": lambda e: client.v1.webhook_endpoints.retrieve(
            endpoint.id, {"expand": e}
        ),
        "event": lambda e: client.v1.events.retrieve(event.id, {"expand": e}),
    }
    problems = []
    for kind, get in retrieve.items():
        for field, schema in spec()["components"]["schemas"][kind]["properties"].items():
            if is_id_field(schema):
                try:
                    answer = get([field])
                except stripe.InvalidRequestError as exc:
                    problems.append(f"{kind}.{field}: expandable, refused: {exc.user_message}")
                    continue
                body = json.loads(answer.last_response.body)
                problems += [f"{kind}.{field}: {e}" for e in errors(component(kind), body)]
            elif schema.get("type") in ("string", "integer", "boolean", "number") and (
                (kind, field) not in INCLUDABLE
            ):
                try:
                    get([field])
                except stripe.InvalidRequestError as exc:
                    if "cannot be expanded" not in str(exc.user_message):
                        problems.append(f"{kind}.{field}: refused, but: {exc.user_message}")
                else:
                    problems.append(f"{kind}.{field}: not expandable, accepted")
    assert problems == [], "\n".join(problems)
