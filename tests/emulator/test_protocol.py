"""Wire protocol: authentication, errors, validation, idempotency, pagination, expansion, faults."""

from __future__ import annotations

import json
import time

import pytest
import requests
import stripe

from django_payments_sync.testing.stripe_emulator import StripeEmulator

from . import helpers


def test_bearer_key_required(stripe_emulator: StripeEmulator) -> None:
    answer = requests.get(f"{stripe_emulator.url}/v1/customers", timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in answer.json()["error"]["message"]


def test_live_or_malformed_key_is_refused_through_the_sdk(stripe_emulator: StripeEmulator) -> None:
    with pytest.raises(stripe.AuthenticationError) as caught:
        stripe_emulator.client("sk_live_abcdefghijklmnop").v1.customers.list()
    assert caught.value.http_status == 401
    assert "Invalid API Key provided: sk_live_" in str(caught.value)


def test_stripe_version_is_echoed_and_pinned_by_default(stripe_emulator: StripeEmulator) -> None:
    from stripe._api_version import _ApiVersion

    headers = {"Authorization": "Bearer sk_test_x"}
    answer = requests.get(f"{stripe_emulator.url}/v1/account", headers=headers, timeout=5)
    assert answer.headers["Stripe-Version"] == _ApiVersion.CURRENT
    assert answer.headers["Request-Id"].startswith("req_")
    headers["Stripe-Version"] = "2024-06-20"
    answer = requests.get(f"{stripe_emulator.url}/v1/account", headers=headers, timeout=5)
    assert answer.headers["Stripe-Version"] == "2024-06-20"


def test_unknown_route_is_stripe_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.raw_request("get", "/v1/unknown_things")
    assert caught.value.http_status == 404
    assert "Unrecognized request URL (GET: /v1/unknown_things)" in str(caught.value)


def test_control_endpoints_are_not_reachable_under_v1(stripe_emulator: StripeEmulator) -> None:
    headers = {"Authorization": "Bearer sk_test_x"}
    for path in ("/v1/_emulator/state", "/v1/_emulator/reset"):
        answer = requests.post(f"{stripe_emulator.url}{path}", headers=headers, timeout=5)
        assert answer.status_code == 404
        assert answer.json()["error"]["message"].startswith("Unrecognized request URL")
    assert requests.get(f"{stripe_emulator.url}/_emulator/state", timeout=5).status_code == 200


def test_missing_object_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.retrieve("cus_doesnotexist")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "id"
    assert "No such customer: 'cus_doesnotexist'" in str(caught.value)


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"emial": "x@example.com"}, "emial", "Received unknown parameter: emial"),
        ({"address": {"zip": "1"}}, "address[zip]", "Received unknown parameter: address[zip]"),
        ({"tax_exempt": "sometimes"}, "tax_exempt", "Invalid tax_exempt"),
        ({"balance": "lots"}, "balance", "Invalid integer: lots"),
        ({"validate": "maybe"}, "validate", "Invalid boolean: maybe"),
        ({"tax_id_data": [{"type": "eu_vat"}]}, "tax_id_data[0][value]", "Missing required"),
    ],
)
def test_customer_create_is_validated_against_stripe_params(
    client: stripe.StripeClient, params: dict[str, object], param: str, message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params)  # type: ignore[arg-type]
    assert caught.value.http_status == 400
    assert caught.value.param == param
    assert message in str(caught.value)


def test_nested_validation_of_subscription_items(client: stripe.StripeClient) -> None:
    cus = helpers.customer(client)
    plan = helpers.price(client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.create(
            {"customer": cus.id, "items": [{"price": plan.id, "quantity": 1, "colour": "red"}]}  # type: ignore[typeddict-unknown-key]
        )
    assert caught.value.param == "items[0][colour]"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.create(
            {"customer": cus.id, "items": [{"price": plan.id}], "proration_behavior": "sometimes"}
        )
    assert caught.value.param == "proration_behavior"
    assert "always_invoice, create_prorations, or none" in str(caught.value)


def test_open_enums_still_refuse_unknown_values(client: stripe.StripeClient) -> None:
    # The SDK types say `Literal[...] | int | str`; only the listed words or an integer pass.
    cus = helpers.customer(client)
    sub = helpers.subscription(client, cus.id, helpers.price(client).id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.update(sub.id, {"cancel_at": "whenever"})
    assert caught.value.param == "cancel_at"
    assert "max_period_end" in str(caught.value)
    assert "an integer" in str(caught.value)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.update(sub.id, {"trial_end": "tomorrow"})  # type: ignore[typeddict-item]
    assert caught.value.param == "trial_end"
    end = sub["items"].data[0].current_period_end
    assert client.v1.subscriptions.update(sub.id, {"cancel_at": "max_period_end"}).cancel_at == end


def test_price_amounts_are_immutable(client: stripe.StripeClient) -> None:
    plan = helpers.price(client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.update(plan.id, {"unit_amount": 5})  # type: ignore[typeddict-unknown-key]
    assert caught.value.param == "unit_amount"
    assert "Received unknown parameter: unit_amount" in str(caught.value)


def test_idempotent_replay_and_mismatch(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    first = client.v1.customers.create({"email": "a@example.com"}, {"idempotency_key": "k1"})
    again = client.v1.customers.create({"email": "a@example.com"}, {"idempotency_key": "k1"})
    assert again.id == first.id
    assert len(client.v1.customers.list().data) == 1
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.customers.create({"email": "b@example.com"}, {"idempotency_key": "k1"})
    assert caught.value.http_status == 400
    # Keys belong to one API key: another key may reuse the same idempotency key.
    other = stripe_emulator.client("sk_test_other").v1.customers.create(
        {"email": "b@example.com"}, {"idempotency_key": "k1"}
    )
    assert other.id != first.id


def test_replay_is_flagged_in_a_header(stripe_emulator: StripeEmulator) -> None:
    headers = {"Authorization": "Bearer sk_test_x", "Idempotency-Key": "same"}
    url = f"{stripe_emulator.url}/v1/customers"
    first = requests.post(url, data={"name": "A"}, headers=headers, timeout=5)
    second = requests.post(url, data={"name": "A"}, headers=headers, timeout=5)
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()


def test_pagination_newest_first_with_cursors(client: stripe.StripeClient) -> None:
    ids = [client.v1.customers.create({"name": f"c{i}"}).id for i in range(7)]
    newest_first = list(reversed(ids))
    page = client.v1.customers.list({"limit": 3})
    assert [c.id for c in page.data] == newest_first[:3]
    assert page.has_more is True
    assert page.url == "/v1/customers"
    page2 = client.v1.customers.list({"limit": 3, "starting_after": page.data[-1].id})
    assert [c.id for c in page2.data] == newest_first[3:6]
    page3 = client.v1.customers.list({"limit": 3, "starting_after": page2.data[-1].id})
    assert [c.id for c in page3.data] == newest_first[6:]
    assert page3.has_more is False
    back = client.v1.customers.list({"limit": 2, "ending_before": newest_first[3]})
    assert [c.id for c in back.data] == newest_first[1:3]
    assert back.has_more is True
    assert [c.id for c in page.auto_paging_iter()] == newest_first
    assert len(client.v1.customers.list().data) == 7
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.list({"limit": 101})
    assert caught.value.param == "limit"


def test_expand_follows_dotted_paths(client: stripe.StripeClient) -> None:
    cus = helpers.customer(client)
    plan = helpers.price(client)
    sub = client.v1.subscriptions.create(
        {"customer": cus.id, "items": [{"price": plan.id}]},
    )
    got = client.v1.subscriptions.retrieve(
        sub.id, {"expand": ["customer", "latest_invoice", "items.data.price.product"]}
    )
    assert got.customer.email == "jane@example.com"
    assert got.latest_invoice.object == "invoice"
    assert got.items.data[0].price.product.name == "Plan"
    listed = client.v1.subscriptions.list({"expand": ["data.customer"]})
    assert listed.data[0].customer.id == cus.id
    invoices = client.v1.invoices.list(
        {"expand": ["data.customer", "data.parent.subscription_details.subscription"]}
    )
    assert invoices.data[0].parent.subscription_details.subscription.id == sub.id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.retrieve(cus.id, {"expand": ["email"]})
    assert "cannot be expanded" in str(caught.value)


def test_server_errors_are_retried_by_the_sdk(stripe_emulator: StripeEmulator) -> None:
    client = stripe_emulator.client(max_network_retries=2)
    stripe_emulator.inject_fault("POST /v1/customers", "500", count=2)
    cus = client.v1.customers.create({"email": "retry@example.com"})
    assert cus.email == "retry@example.com"
    assert len(client.v1.customers.list().data) == 1
    stripe_emulator.inject_fault("POST /v1/customers", "500", count=3)
    with pytest.raises(stripe.APIError) as caught:
        client.v1.customers.create({"email": "gives-up@example.com"})
    assert caught.value.http_status == 500
    assert len(client.v1.customers.list().data) == 1


def test_rate_limits_carry_retry_headers_and_are_retried(stripe_emulator: StripeEmulator) -> None:
    stripe_emulator.inject_fault("GET /v1/customers", "429", count=1)
    answer = requests.get(
        f"{stripe_emulator.url}/v1/customers",
        headers={"Authorization": "Bearer sk_test_x"},
        timeout=5,
    )
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert answer.headers["Stripe-Should-Retry"] == "true"
    assert answer.json()["error"]["code"] == "rate_limit"
    stripe_emulator.inject_fault("GET /v1/customers", "429", count=1)
    assert stripe_emulator.client(max_network_retries=2).v1.customers.list().data == []
    stripe_emulator.inject_fault("GET /v1/customers", "429", count=1)
    with pytest.raises(stripe.RateLimitError):
        stripe_emulator.client().v1.customers.list()


def test_delay_past_the_client_timeout_then_idempotent_retry(
    stripe_emulator: StripeEmulator,
) -> None:
    http = stripe.RequestsClient(timeout=0.3)
    client = stripe_emulator.client(max_network_retries=1, http_client=http)
    stripe_emulator.inject_fault("POST /v1/customers", "delay", count=1, delay=0.6)
    started = time.monotonic()
    cus = client.v1.customers.create({"email": "slow@example.com"})
    assert time.monotonic() - started >= 0.3
    time.sleep(0.5)  # the delayed first attempt completes too, and must replay, not duplicate
    customers = stripe_emulator.client().v1.customers.list().data
    assert [c.id for c in customers] == [cus.id]


def test_fault_share_is_deterministic_with_a_seed(stripe_emulator: StripeEmulator) -> None:
    def outcomes() -> list[int]:
        stripe_emulator.clear_faults()
        stripe_emulator.inject_fault("GET /v1/account", "500", share=0.5, seed=7)
        headers = {"Authorization": "Bearer sk_test_x"}
        return [
            requests.get(
                f"{stripe_emulator.url}/v1/account", headers=headers, timeout=5
            ).status_code
            for _ in range(12)
        ]

    first, second = outcomes(), outcomes()
    assert first == second
    assert set(first) == {200, 500}


def test_control_endpoints_over_http(stripe_emulator: StripeEmulator) -> None:
    base = f"{stripe_emulator.url}/_emulator"
    stripe_emulator.client().v1.customers.create({"name": "x"})
    state = requests.get(f"{base}/state", timeout=5).json()
    assert len(state["objects"]["customer"]) == 1
    before = requests.get(f"{base}/clock", timeout=5).json()["now"]
    after = requests.post(f"{base}/clock/advance", json={"seconds": 3600}, timeout=5).json()["now"]
    assert after - before >= 3600
    fault = requests.post(
        f"{base}/faults", json={"route": "GET /v1/account", "kind": "500", "count": 1}, timeout=5
    ).json()
    assert fault["remaining"] == 1
    assert requests.get(f"{base}/faults", timeout=5).json()["faults"][0]["kind"] == "500"
    assert requests.delete(f"{base}/faults", timeout=5).json() == {"faults": []}
    endpoint = requests.post(
        f"{base}/webhook_endpoints", json={"url": "http://127.0.0.1:9/x"}, timeout=5
    ).json()
    assert endpoint["secret"].startswith("whsec_")
    assert requests.post(f"{base}/deliveries/mode", json={"mode": "shuffled"}, timeout=5).ok
    assert (
        requests.post(f"{base}/deliveries/mode", json={"mode": "bogus"}, timeout=5).status_code
        == 400
    )
    assert requests.post(f"{base}/reset", timeout=5).json() == {"reset": True}
    assert json.loads(requests.get(f"{base}/state", timeout=5).text)["objects"] == {}
