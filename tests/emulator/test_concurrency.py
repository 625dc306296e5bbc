"""Many clients at once, and parameters of any content surviving the form encoding round-trip."""

from __future__ import annotations

import string
import threading

import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_payments_sync.testing.stripe_emulator import StripeEmulator


def test_parallel_clients_get_unique_objects_and_events(stripe_emulator: StripeEmulator) -> None:
    ids: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        client = stripe_emulator.client()
        try:
            for i in range(15):
                cus = client.v1.customers.create({"name": f"w{worker}-{i}"})
                client.v1.customers.update(cus.id, {"metadata": {"n": str(i)}})
                with lock:
                    ids.append(cus.id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 90
    listed = stripe_emulator.client().v1.customers.list({"limit": 100})
    assert {c.id for c in listed.auto_paging_iter()} == set(ids)
    assert len(stripe_emulator.events("customer.updated")) == 90


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)
_keys = st.text(alphabet=string.ascii_letters + string.digits + "_-.", min_size=1, max_size=20)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(metadata=st.dictionaries(_keys, _text.filter(bool), max_size=5), name=_text.filter(bool))
def test_any_text_round_trips(
    stripe_emulator: StripeEmulator, metadata: dict[str, str], name: str
) -> None:
    client: stripe.StripeClient = stripe_emulator.client()
    cus = client.v1.customers.create({"name": name, "metadata": metadata})
    again = client.v1.customers.retrieve(cus.id)
    assert again.name == name
    assert again.metadata.to_dict() == metadata
