"""One provider account per installation: the installation id, the bound account, the check.

An *installation* is one database using the library. It gets a random id once (stored in
:class:`~django_payments_sync.models.SyncState`), which every idempotency key carries, so two
databases pushing to one provider account (a laptop and staging, a reset demo) never send the
same key. The installation is also *bound* to the provider account its credentials reached
first (``SyncState`` key ``account:<provider>``); every new link records that account, and
:func:`check_account` stops a command, push, checkout or portal call whose credentials reach
another account (:class:`~django_payments_sync.exceptions.AccountMismatch`), until
``payments_sync relink`` moves the installation on purpose (:func:`relink`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from django_payments_sync.exceptions import AccountMismatch
from django_payments_sync.models import (
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    ExternalSubscription,
    SyncState,
)

if TYPE_CHECKING:
    from django_payments_sync.backends import BaseBackend

INSTALLATION_KEY = "installation_id"
ACCOUNT_KEY_PREFIX = "account:"

#: The link models, in the order a relink reports them.
LINK_MODELS: tuple[tuple[str, type[Any]], ...] = (
    ("products", ExternalProduct),
    ("prices", ExternalPricing),
    ("customers", ExternalCustomer),
    ("subscriptions", ExternalSubscription),
)

#: Per process: SyncState key -> value. Emptied whenever this process changes or deletes a
#: SyncState row, and when the database is flushed (``post_migrate``).
_cache: dict[str, str] = {}


def clear_cache(**kwargs: Any) -> None:
    """Forget the cached installation id and bound accounts (a signal receiver too)."""
    _cache.clear()


def account_key(provider: str) -> str:
    return f"{ACCOUNT_KEY_PREFIX}{provider}"


def _committed_reads() -> bool:
    """Whether what is read now is committed: outside a transaction, a row cannot vanish by a
    rollback (a test's, or a failed request's), so caching it is safe."""
    return not connections[router.db_for_read(SyncState)].in_atomic_block


def _read(key: str) -> dict[str, Any] | None:
    value = SyncState.objects.filter(key=key).values_list("value", flat=True).first()
    return value if isinstance(value, dict) else None


def _create(key: str, value: dict[str, Any]) -> dict[str, Any]:
    """Store ``value`` under ``key`` unless a row exists; answer the row's value (the first
    writer wins when two processes race)."""
    try:
        # A savepoint, so that losing the race does not break a caller's transaction.
        with transaction.atomic(using=router.db_for_write(SyncState)):
            SyncState.objects.create(key=key, value=value)
    except IntegrityError:
        pass
    stored = _read(key)
    return stored if stored is not None else value


# --- the installation id ---------------------------------------------------------------------


def installation_id() -> str:
    """This database's random id, created on first use (the same in every process)."""
    cached = _cache.get(INSTALLATION_KEY)
    if cached is not None and _committed_reads():
        return cached
    value = _read(INSTALLATION_KEY)
    if value is None or not value.get("id"):
        value = _create(INSTALLATION_KEY, {"id": secrets.token_hex(6)})
    ident = str(value["id"])
    if _committed_reads():
        _cache[INSTALLATION_KEY] = ident
    return ident


# --- the bound account -----------------------------------------------------------------------


def bound_account(provider: str) -> str | None:
    """The account ``provider``'s links belong to (read from the database), ``None`` if unbound."""
    value = _read(account_key(provider))
    return str(value["account"]) if value and value.get("account") else None


def link_account(provider: str) -> str:
    """The account a new link of ``provider`` records: the bound one, ``""`` when unbound.

    Read once per process (webhook handlers call it for every link they make); a process that
    binds or relinks refreshes it.
    """
    key = account_key(provider)
    cached = _cache.get(key)
    if cached is None:
        cached = bound_account(provider) or ""
        _cache[key] = cached
    return cached


def _bind(provider: str, account: str) -> str:
    """Bind the installation to ``account`` unless it is bound already; answer the binding."""
    value = _create(account_key(provider), {"account": account, "bound_at": _now()})
    return str(value.get("account") or account)


def _now() -> str:
    return timezone.now().isoformat()


def check_account(backend: BaseBackend | None = None) -> str:
    """Make sure the credentials reach the account the installation is bound to; answer it.

    The first call binds an unbound installation to the current account. Raises
    :class:`AccountMismatch` naming both accounts when they differ. Costs one provider call per
    backend instance (the account is cached by the backend) and one query.
    """
    if backend is None:
        from django_payments_sync.backends import get_backend

        backend = get_backend()
    provider = backend.provider_name
    current = backend.account_id()
    bound = bound_account(provider) or _bind(provider, current)
    _cache[account_key(provider)] = bound
    if bound != current:
        raise AccountMismatch(provider=provider, bound=bound, current=current)
    return current


# --- relink ----------------------------------------------------------------------------------


@dataclass
class RelinkReport:
    """What ``payments_sync relink`` did (or, with ``dry_run``, would do)."""

    provider: str
    old_account: str | None
    new_account: str
    dry_run: bool = False
    #: link kind ("products", "prices", "customers", "subscriptions") -> links removed
    removed: dict[str, int] = field(default_factory=dict)
    #: (local subscription pk, provider subscription id) of every subscription unlinked
    subscriptions: list[tuple[Any, str]] = field(default_factory=list)

    @property
    def changes_nothing(self) -> bool:
        return self.old_account == self.new_account and not any(self.removed.values())

    def lines(self) -> list[str]:
        old = self.old_account or "(no account recorded)"
        verb = "Would move" if self.dry_run else "Moved"
        if self.changes_nothing:
            return [f"Already bound to {self.new_account}: nothing to relink."]
        out = [f"{verb} the installation from {old} to {self.new_account} ({self.provider})."]
        counts = ", ".join(f"{n} {kind}" for kind, n in self.removed.items())
        out.append(f"{'Would remove' if self.dry_run else 'Removed'} links: {counts}.")
        for local_pk, external_id in self.subscriptions:
            out.append(
                f"Subscription {local_pk} [{external_id}] stays in {old}: "
                "unlinked, its local row is kept."
            )
        if not self.dry_run:
            out.append("Run `payments_sync push` to create the catalog and customers anew.")
        return out


def _stale_links(model: type[Any], provider: str, old: str | None, new: str) -> Any:
    """The links of ``provider`` that do not belong to ``new``: links with an empty account
    belong to the bound account ``old`` (so to ``new`` only when ``old`` is ``new``)."""
    rows = model.objects.filter(provider=provider).exclude(account=new)
    if old == new:
        rows = rows.exclude(account="")
    return rows


def relink(backend: BaseBackend | None = None, *, dry_run: bool = False) -> RelinkReport:
    """Move the installation to the account the current credentials reach, on purpose.

    Deletes the links of every other account (the next push creates products, prices and
    customers in the new account; subscriptions are unlinked, their local rows kept) and
    rebinds the installation. ``dry_run`` reports the same and changes nothing.
    """
    if backend is None:
        from django_payments_sync.backends import get_backend

        backend = get_backend()
    provider = backend.provider_name
    new = backend.account_id()
    old = bound_account(provider)
    report = RelinkReport(provider=provider, old_account=old, new_account=new, dry_run=dry_run)
    using = router.db_for_write(SyncState)
    with transaction.atomic(using=using):
        # Locks the binding, so that two relinks (or a relink and a first bind) do not interleave.
        list(SyncState.objects.select_for_update().filter(key=account_key(provider)))
        for kind, model in LINK_MODELS:
            rows = _stale_links(model, provider, old, new)
            if kind == "subscriptions":
                report.subscriptions = [
                    (pk, ext) for pk, ext in rows.values_list("subscription_id", "external_id")
                ]
            report.removed[kind] = rows.count()
            if not dry_run:
                rows.delete()
        if not dry_run:
            SyncState.objects.update_or_create(
                key=account_key(provider),
                defaults={"value": {"account": new, "bound_at": _now(), "previous": old}},
            )
            if report.removed.get("customers"):
                _mark_customers_pending(provider)
    clear_cache()
    return report


def _mark_customers_pending(provider: str) -> None:
    """Customers without a link are pushed as new ones: mark them pending, as they are."""
    from django_payments_sync.models import Customer, SyncStatus

    Customer.objects.exclude(external_customers__provider=provider).update(
        sync_status=SyncStatus.PENDING
    )


def record_link_account(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """``pre_save`` of the link models: a new link records the account the installation is
    bound to (read once per process), wherever it is made: a push, a handler, the admin."""
    if raw or not instance._state.adding or instance.account or not instance.provider:
        return
    instance.account = link_account(instance.provider)


def connect() -> None:
    """Keep the per-process cache in step with this process's writes and database flushes,
    and stamp every new link with its account."""
    from django.db.models.signals import post_delete, post_migrate, post_save, pre_save

    from django_payments_sync.models import (
        ExternalCustomer,
        ExternalPricing,
        ExternalProduct,
        ExternalSubscription,
    )

    post_save.connect(clear_cache, sender=SyncState, dispatch_uid="payments_sync_state_saved")
    post_delete.connect(clear_cache, sender=SyncState, dispatch_uid="payments_sync_state_deleted")
    post_migrate.connect(clear_cache, dispatch_uid="payments_sync_state_flushed")
    for model in (ExternalCustomer, ExternalProduct, ExternalPricing, ExternalSubscription):
        pre_save.connect(
            record_link_account,
            sender=model,
            dispatch_uid=f"payments_sync_link_account_{model._meta.model_name}",
        )


__all__ = [
    "RelinkReport",
    "bound_account",
    "check_account",
    "clear_cache",
    "installation_id",
    "link_account",
    "relink",
]
