"""The in-memory backend: previews of changes, paused collection, and renewals with their
invoices (paid, failed and retried, or waiting for the customer) played by tests."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django_payments_sync.backends.locmem.state import LocmemState, _changed, _period
from django_payments_sync.backends.types import (
    EventKind,
    InvoiceLine,
    InvoicePreview,
    ProviderInvoice,
    ProviderSubscription,
)
from django_payments_sync.exceptions import PermanentProviderError

#: Days between the attempts of a failed renewal, as Stripe's default smart retries space
#: them (four attempts over about three weeks); after the last the subscription is canceled.
RETRY_DAYS = (3, 5, 7)
PAUSE_BEHAVIORS = ("keep_as_draft", "mark_uncollectible", "void")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class LocmemLifecycle(LocmemState):
    """Previews, pause and resume, and the renewal and dunning helpers of the tests."""

    # --- preview ----------------------------------------------------------------------------
    def preview_subscription_change(
        self,
        subscription_id: str,
        *,
        price_id: str | None = None,
        quantity: int | None = None,
        proration_behavior: str = "create_prorations",
    ) -> InvoicePreview:
        self._record(
            "preview_subscription_change",
            (subscription_id,),
            {"price_id": price_id, "quantity": quantity, "proration_behavior": proration_behavior},
        )
        sub = self._get(self.subscriptions, subscription_id, "subscription")
        old = self._get(self.prices, sub.price_id, "price")
        new = self._get(self.prices, price_id or sub.price_id, "price")
        new_quantity = quantity or sub.quantity
        now = _now()
        start = sub.current_period_start or now
        end = sub.current_period_end or now
        share = (end - now) / (end - start) if end > start else 0.0
        lines: list[InvoiceLine] = []
        if proration_behavior != "none" and sub.status != "trialing":
            credit = -round(old.amount * sub.quantity * share)
            charge = round(new.amount * new_quantity * share)
            if credit + charge or (old.id, sub.quantity) != (new.id, new_quantity):
                lines.append(InvoiceLine("Unused time", credit, sub.quantity, True, old.id))
                lines.append(InvoiceLine("Remaining time", charge, new_quantity, True, new.id))
        at_once = proration_behavior == "always_invoice"
        off = 0
        if not at_once:
            changed = dataclasses.replace(sub, price_id=new.id, quantity=new_quantity)
            if new.meter_id is not None:
                # A metered price bills the period's usage at its end: what was counted so far.
                used = self._usage(new, sub.customer_id, start, end)
                amount = new.amount * used
                off = self._discount(changed, amount, use=False)
                line = InvoiceLine(
                    "Usage this period", amount, used, False, new.id, amount_discount=off
                )
            else:
                amount = new.amount * new_quantity
                off = self._discount(changed, amount, use=False)
                line = InvoiceLine("Next period", amount, new_quantity, False, amount_discount=off)
            lines.append(line)
        subtotal = sum(line.amount for line in lines)
        total = subtotal - off
        return InvoicePreview(
            currency=new.currency,
            subtotal=subtotal,
            tax=0,
            total=total,
            amount_due=max(total, 0),
            lines=tuple(lines),
            date=now if at_once else end,
            amount_discount=off,
        )

    # --- pause and resume -------------------------------------------------------------------
    def pause_subscription(
        self, subscription_id: str, *, behavior: str, resumes_at: dt.datetime | None = None
    ) -> ProviderSubscription:
        self._record(
            "pause_subscription",
            (subscription_id,),
            {"behavior": behavior, "resumes_at": resumes_at},
        )
        if behavior not in PAUSE_BEHAVIORS:
            raise PermanentProviderError(f"Invalid behavior {behavior!r}.", param="behavior")
        return self._set_pause(subscription_id, behavior, resumes_at)

    def resume_subscription(self, subscription_id: str) -> ProviderSubscription:
        self._record("resume_subscription", (subscription_id,), {})
        return self._set_pause(subscription_id, "", None)

    def _set_pause(
        self, subscription_id: str, behavior: str, resumes_at: dt.datetime | None
    ) -> ProviderSubscription:
        old = self._get(self.subscriptions, subscription_id, "subscription")
        if old.status in ("canceled", "incomplete_expired"):
            raise PermanentProviderError("A canceled subscription cannot be paused or resumed.")
        new = dataclasses.replace(old, pause_behavior=behavior, resumes_at=resumes_at)
        return self._update(old, new)

    def _update(self, old: ProviderSubscription, new: ProviderSubscription) -> ProviderSubscription:
        self.subscriptions[new.id] = new
        self._emit(
            EventKind.SUBSCRIPTION_UPDATED, "subscription", new, new.customer_id, _changed(old, new)
        )
        return new

    # --- renewals and dunning (test helpers) ------------------------------------------------
    def renew(self, subscription_id: str, *, outcome: str = "paid") -> ProviderInvoice:
        """Play the end of a period: the next one starts and is invoiced; ``outcome`` is how
        its payment goes: ``"paid"``, ``"failed"`` (a retry is scheduled) or
        ``"action_required"`` (the customer must authenticate on the hosted page)."""
        sub = self._get(self.subscriptions, subscription_id, "subscription")
        price = self._get(self.prices, sub.price_id, "price")
        start = sub.current_period_end or _now()
        renewed = dataclasses.replace(
            sub, current_period_start=start, current_period_end=start + _period(price)
        )
        self.subscriptions[sub.id] = renewed
        if price.meter_id is not None:
            # In arrears: the usage of the period that ended, at the price's unit amount.
            ended = sub.current_period_start or start
            amount = price.amount * self._usage(price, sub.customer_id, ended, start)
        else:
            amount = price.amount * sub.quantity
        invoice = self._issue(renewed, amount, price.currency)
        return self._settle(invoice, outcome)

    def retry(self, invoice_id: str, *, outcome: str = "failed") -> ProviderInvoice:
        """Play the provider's next attempt at an open invoice (``"paid"`` or ``"failed"``);
        after the last attempt a failure cancels the subscription."""
        invoice = self._get(self.invoices, invoice_id, "invoice")
        return self._settle(invoice, outcome)

    def _issue(self, sub: ProviderSubscription, amount: int, currency: str) -> ProviderInvoice:
        ours = [i for i in self.invoices.values() if i.customer_id == sub.customer_id]
        number = sum(1 for i in ours if i.number) + 1
        invoice_id = self._new_id("in")
        off = self._discount(sub, amount, use=True)
        invoice = ProviderInvoice(
            id=invoice_id,
            customer_id=sub.customer_id,
            subscription_id=sub.id,
            status="open",
            amount_due=amount - off,
            amount_paid=0,
            amount_remaining=amount - off,
            currency=currency,
            subtotal=amount,
            amount_discount=off,
            total=amount - off,
            number=f"LOCMEM-{number:04d}",
            billing_reason="subscription_cycle",
            hosted_invoice_url=f"https://invoice.locmem.invalid/{invoice_id}",
            invoice_pdf=f"https://invoice.locmem.invalid/{invoice_id}/pdf",
            created=_now(),
            period_start=sub.current_period_start,
            period_end=sub.current_period_end,
        )
        self.invoices[invoice.id] = invoice
        self._emit(EventKind.INVOICE_CREATED, "invoice", invoice, sub.customer_id)
        self._emit(EventKind.INVOICE_FINALIZED, "invoice", invoice, sub.customer_id)
        return invoice

    def _settle(self, invoice: ProviderInvoice, outcome: str) -> ProviderInvoice:
        if invoice.status != "open":
            raise PermanentProviderError(f"Invoice {invoice.id} is {invoice.status}.")
        sub = self.subscriptions[invoice.subscription_id or ""]
        attempts = invoice.attempt_count + 1
        now = _now()
        if outcome == "paid":
            settled = dataclasses.replace(
                invoice,
                status="paid",
                amount_paid=invoice.amount_due,
                amount_remaining=0,
                attempt_count=attempts,
                paid_at=now,
                next_payment_attempt=None,
            )
            self.invoices[invoice.id] = settled
            self._emit(EventKind.INVOICE_PAID, "invoice", settled, invoice.customer_id)
            self._emit(EventKind.INVOICE_PAYMENT_SUCCEEDED, "invoice", settled, sub.customer_id)
            if sub.status != "active":
                self._update(sub, dataclasses.replace(sub, status="active"))
            return settled
        if outcome == "action_required":
            waiting = dataclasses.replace(invoice, attempt_count=attempts)
            self.invoices[invoice.id] = waiting
            kind = EventKind.INVOICE_PAYMENT_ACTION_REQUIRED
            self._emit(kind, "invoice", waiting, invoice.customer_id)
            self._emit(EventKind.INVOICE_PAYMENT_FAILED, "invoice", waiting, invoice.customer_id)
            if sub.status == "active":
                self._update(sub, dataclasses.replace(sub, status="past_due"))
            return waiting
        last = attempts > len(RETRY_DAYS)
        retry_at = None if last else now + dt.timedelta(days=RETRY_DAYS[attempts - 1])
        failed = dataclasses.replace(invoice, attempt_count=attempts, next_payment_attempt=retry_at)
        self.invoices[invoice.id] = failed
        self._emit(EventKind.INVOICE_PAYMENT_FAILED, "invoice", failed, invoice.customer_id)
        if last:
            self._end_subscription(sub)
        elif sub.status != "past_due":
            self._update(sub, dataclasses.replace(sub, status="past_due"))
        return failed
