"""Refunds from the admin (the action, its confirmation page) and from ``payments_sync refund``."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from django_payments_sync.models import Order, Refund
from tests.money.conftest import state

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = reverse("admin:django_payments_sync_order_changelist")


def test_the_admin_action_asks_then_refunds(admin_client: Any, paid: Order) -> None:
    asked = admin_client.post(
        CHANGELIST, {"action": "refund_orders", "_selected_action": [paid.pk]}
    )
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Yes, refund" in page
    assert f"#{paid.pk}" in page
    # Money as money: 99.00 EUR, never the minor units (9900 EUR).
    assert page.count("99.00 EUR") == 2  # the amount and what is left
    assert "0.00 EUR" in page  # refunded so far
    assert "9900" not in page
    assert not Refund.objects.exists()  # nothing before the confirmation

    done = admin_client.post(
        CHANGELIST,
        {
            "action": "refund_orders",
            "_selected_action": [paid.pk],
            "confirm": "yes",
            "amount": "1500",
            "reason": "duplicate",
        },
        follow=True,
    )

    assert "1 order refunded." in done.content.decode()
    assert state(paid) == ("partially_refunded", 1500, "partially_refunded", 1500)
    assert Refund.objects.get().reason == "duplicate"
    again = admin_client.post(
        CHANGELIST, {"action": "refund_orders", "_selected_action": [paid.pk]}
    ).content.decode()
    assert "15.00 EUR" in again  # refunded
    assert "84.00 EUR" in again  # left to refund
    change = admin_client.get(reverse("admin:django_payments_sync_order_change", args=[paid.pk]))
    assert change.status_code == 200
    assert "duplicate" in change.content.decode()


def test_the_admin_action_reports_what_it_cannot_refund(admin_client: Any, paid: Order) -> None:
    too_much = admin_client.post(
        CHANGELIST,
        {
            "action": "refund_orders",
            "_selected_action": [paid.pk],
            "confirm": "yes",
            "amount": "99999",
        },
        follow=True,
    )
    assert "between 1 and 9900" in too_much.content.decode()
    assert state(paid)[1] == 0


def test_a_staff_user_without_change_permission_has_no_refund_action(
    client: Any,
    paid: Order,
    django_user_model: Any,
) -> None:
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user("viewer", "v@example.com", "pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(staff)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "refund_orders" not in page.content.decode()
    refused = client.post(
        CHANGELIST, {"action": "refund_orders", "_selected_action": [paid.pk], "confirm": "yes"}
    )
    assert refused.status_code in (200, 302, 403)
    assert not Refund.objects.exists()


def test_the_command_refunds_in_part_then_refuses_bad_input(paid: Order) -> None:
    out = StringIO()
    call_command("payments_sync", "refund", str(paid.pk), "--amount", "400", "--yes", stdout=out)
    assert "5.00 EUR left" not in out.getvalue()
    assert "99.00 EUR left to refund" in out.getvalue()
    assert "4.00 EUR succeeded" in out.getvalue()
    assert state(paid) == ("partially_refunded", 400, "partially_refunded", 400)

    with pytest.raises(CommandError, match="There is no order 999999"):
        call_command("payments_sync", "refund", "999999", "--yes")
    with pytest.raises(CommandError, match="between 1 and 9500"):
        call_command("payments_sync", "refund", str(paid.pk), "--amount", "9501", "--yes")
    with pytest.raises(CommandError):
        call_command("payments_sync", "refund", str(paid.pk), "--amount", "-3", "--yes")
    assert Refund.objects.count() == 1


def test_the_command_asks_first(paid: Order, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("payments_sync", "refund", str(paid.pk), stderr=err, stdout=StringIO())
    assert "Nothing refunded" in err.getvalue()
    assert not Refund.objects.exists()
