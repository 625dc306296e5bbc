"""``custom_user_post_save``: a new user gets a customer after commit; updates change nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import serializers
from django.db import transaction
from django.test import override_settings

from django_payments_sync.adapter import DefaultPaymentsAdapter
from django_payments_sync.models import Customer
from tests.checkout.conftest import LOCMEM_SETTINGS

User = get_user_model()
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_user_gets_a_customer_after_commit_and_updates_are_harmless() -> None:
    with transaction.atomic():
        user = User.objects.create_user("carol", "carol@example.com", "pw")
        assert not Customer.objects.exists()
    customer = Customer.objects.get()
    assert (customer.owner, customer.email) == (user, "carol@example.com")

    user.email = "carol@new.example"
    user.save()
    assert Customer.objects.count() == 1


def test_a_rolled_back_user_creates_nothing() -> None:
    def create_then_fail() -> None:
        with transaction.atomic():
            User.objects.create_user("dave", "dave@example.com", "pw")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert not Customer.objects.exists()


def test_loading_fixtures_creates_nothing() -> None:
    user = User(username="erin", email="erin@example.com", pk=99)
    payload = serializers.serialize("json", [user])
    for obj in serializers.deserialize("json", payload):
        obj.save()
    assert User.objects.filter(pk=99).exists()
    assert not Customer.objects.exists()


class TeamAdapter(DefaultPaymentsAdapter):
    """A host's adapter: records the calls it gets."""

    calls: list[str] = []

    def post_user_created(self, user: object) -> None:
        TeamAdapter.calls.append(str(user))


def test_the_configured_adapter_is_called_once_per_new_user() -> None:
    TeamAdapter.calls = []
    with override_settings(PAYMENTS_SYNC={**LOCMEM_SETTINGS, "ADAPTER": f"{__name__}.TeamAdapter"}):
        User.objects.create_user("frank", "frank@example.com", "pw")
        User.objects.get(username="frank").save()
    assert TeamAdapter.calls == ["frank"]
    assert not Customer.objects.exists()
