"""Repairing drift: make the provider and the local rows agree again, by the ownership rules.

``payments_sync diff`` finds differences; :func:`reconcile` repairs them:

- products and prices (host-owned) that differ are pushed again;
- customers: host-owned fields that differ are pushed; shared fields (email, name) the host has
  not changed since the provider last held them take the provider's value (both local copies),
  the ones it changed are pushed; tax ids are pushed; a provider customer that is gone is
  recorded as deleted (and, as everywhere, not created again unless asked);
- subscriptions (the provider's record) take the provider's state from a fresh read, sending
  the host signals of each change; a subscription of one of our customers that is not known
  locally is created from it.

Reads are one paginated listing per kind; every provider call first takes a token from a
bucket (``RECONCILE["RATE_LIMIT"]`` a second), so a run stays inside the provider's rate limit
beside the rest of the traffic. Progress is checkpointed in ``SyncState`` every
``RECONCILE["CHECKPOINT_EVERY"]`` rows: a run that was killed resumes where it stopped.

``adopt=True`` takes over an account that was filled by other means (dj-stripe, a hand-made
integration): provider customers are linked to local customers by our metadata, then by email,
and a local customer (with its owner, through the adapter) is created for the rest.
"""

from __future__ import annotations

from django_payments_sync.backends.ratelimit import RateLimitedBackend, TokenBucket
from django_payments_sync.interactor.reconcile.report import (
    CHECKPOINT_KEY,
    PHASES,
    Progress,
    ReconcileReport,
    Repair,
    clear_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from django_payments_sync.interactor.reconcile.run import reconcile

__all__ = [
    "CHECKPOINT_KEY",
    "PHASES",
    "Progress",
    "RateLimitedBackend",
    "ReconcileReport",
    "Repair",
    "TokenBucket",
    "clear_checkpoint",
    "load_checkpoint",
    "reconcile",
    "save_checkpoint",
]
