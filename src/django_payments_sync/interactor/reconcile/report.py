"""What a reconcile run did (its report), where it stopped (its checkpoint), and its state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from django_payments_sync.backends.ratelimit import RateLimitedBackend
from django_payments_sync.models import (
    SyncState,
)

CHECKPOINT_KEY = "reconcile:checkpoint"
PHASES = ("catalog", "customers", "subscriptions")


@dataclass(frozen=True)
class Repair:
    """One thing reconcile did (or, in a dry run, would do)."""

    object_type: str
    local_id: str | None
    external_id: str | None
    action: str  # pushed | applied | created locally | linked | deleted at the provider | failed
    fields: tuple[str, ...] = ()
    detail: str = ""

    def describe(self) -> str:
        who = f"{self.object_type} {self.local_id or '-'} ({self.external_id or 'no provider id'})"
        what = self.action + (f": {', '.join(self.fields)}" if self.fields else "")
        return f"{who}: {what}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class ReconcileReport:
    dry_run: bool = False
    repairs: list[Repair] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    waited: float = 0.0
    seconds: float = 0.0
    resumed_from: dict[str, Any] | None = None

    @property
    def failures(self) -> list[Repair]:
        return [r for r in self.repairs if r.action == "failed"]

    def summary(self) -> str:
        counted = Counter(r.action for r in self.repairs)
        done = ", ".join(f"{n} {a}" for a, n in sorted(counted.items())) or "nothing to repair"
        rows = ", ".join(f"{n} {kind}" for kind, n in sorted(self.checked.items()))
        prefix = "Dry run, nothing changed: " if self.dry_run else "Reconciled: "
        return (
            f"{prefix}{done}; checked {rows or 'nothing'}; {self.calls} provider calls "
            f"in {self.seconds:.1f} s ({self.waited:.1f} s waiting for the rate limit)."
        )


Progress = Callable[[str, int, int], None]  # (phase, done, total)


def load_checkpoint() -> dict[str, Any] | None:
    row = SyncState.objects.filter(key=CHECKPOINT_KEY).first()
    if row is None or row.value.get("phase") not in PHASES:
        return None
    return dict(row.value)


def save_checkpoint(phase: str, after: int) -> None:
    SyncState.objects.update_or_create(
        key=CHECKPOINT_KEY,
        defaults={"value": {"phase": phase, "after": after, "at": timezone.now().isoformat()}},
    )


def clear_checkpoint() -> None:
    SyncState.objects.filter(key=CHECKPOINT_KEY).delete()


class RunState:
    """What the phases of one run share: the backend, the report, the options, progress."""

    def __init__(
        self,
        backend: RateLimitedBackend,
        report: ReconcileReport,
        dry_run: bool,
        adopt: bool,
        recreate_deleted: bool | None,
        every: int,
        progress: Progress | None,
    ) -> None:
        self.backend = backend
        self.provider = backend.provider_name
        self.report = report
        self.dry_run = dry_run
        self.adopt = adopt
        self.recreate_deleted = recreate_deleted
        self.every = every
        self.progress = progress

    def add(self, repair: Repair) -> None:
        self.report.repairs.append(repair)

    def tick(self, phase: str, done: int, total: int, last_pk: int | None) -> None:
        if not self.dry_run and last_pk is not None and done % self.every == 0:
            save_checkpoint(phase, last_pk)
        if self.progress is not None:
            self.progress(phase, done, total)
