"""Refund a paid order at the provider, in full (the default) or in part.

``payments_sync refund 42`` refunds all that is left of order 42; ``--amount 500`` refunds
5.00 of it (minor units); ``--reason`` is duplicate, fraudulent or requested_by_customer.
Without ``--yes`` it shows the order and asks first. The order, its payment attempt and the
refund follow the provider's answer and its events.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_payments_sync.backends.types import REFUND_REASONS
from django_payments_sync.exceptions import PaymentsSyncError


def positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is not 1 or more")
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("order", type=positive, help="The id (pk) of the order to refund.")
    parser.add_argument(
        "--amount", type=positive, help="Minor units to refund (default: all that is left)."
    )
    parser.add_argument("--reason", choices=REFUND_REASONS, default="", help="Why.")
    parser.add_argument("--yes", action="store_true", help="Refund without asking.")


def handle(command: BaseCommand, options: dict[str, Any]) -> int:
    from django_payments_sync.interactor.mailer import format_amount
    from django_payments_sync.interactor.refunds import refund_order, refundable_amount
    from django_payments_sync.models import Order

    order = Order.objects.select_related("customer").filter(pk=options["order"]).first()
    if order is None:
        raise CommandError(f"There is no order {options['order']}.")
    amount = options.get("amount")
    left = refundable_amount(order)
    what = format_amount(amount if amount is not None else left, order.currency)
    command.stdout.write(
        f"Order #{order.pk} of {order.customer} ({order.get_status_display().lower()}): "
        f"{format_amount(order.amount, order.currency)}, "
        f"{format_amount(left, order.currency)} left to refund."
    )
    if not options.get("yes") and not _confirmed(what):
        command.stderr.write("Nothing refunded: run again with --yes to refund.")
        return 1
    try:
        refund = refund_order(order, amount, reason=options.get("reason") or "")
    except PaymentsSyncError as exc:
        raise CommandError(f"Not refunded: {exc}") from exc
    command.stdout.write(
        f"Refund {refund.external_id or refund.pk}: {format_amount(refund.amount, refund.currency)}"
        f" {refund.get_status_display().lower()}."
    )
    return 0


def _confirmed(what: str) -> bool:
    try:
        answer = input(f"Refund {what}? Type 'yes' to continue: ")
    except EOFError:
        return False
    return answer.strip().lower() == "yes"
