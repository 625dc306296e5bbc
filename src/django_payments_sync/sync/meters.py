"""Pushing meters like prices: created once, replaced (the old one deactivated) when their
immutable terms change, deactivated with the local row; an unchanged meter costs nothing."""

from __future__ import annotations

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.types import MeterData
from django_payments_sync.exceptions import ProviderError
from django_payments_sync.models import ExternalMeter, Meter
from django_payments_sync.sync.rows import (
    SyncAction,
    SyncResult,
    create_link,
    link_of,
    mark_sync_error,
    mark_synced,
    move_link,
)
from django_payments_sync.sync.snapshots import digest, idempotency_key


def sync_meter(meter: Meter, *, backend: BaseBackend | None = None) -> SyncResult:
    """Push one meter; never raises a provider error (it is in the result and on the row)."""
    backend = backend or get_backend()
    ext = link_of(ExternalMeter, backend.provider_name, meter=meter)
    data = MeterData(
        local_id=str(meter.pk),
        display_name=meter.display_name,
        event_name=meter.event_name,
        aggregation=meter.aggregation,
    )
    wanted = digest([data.event_name, data.aggregation])
    try:
        if not meter.active:
            if ext is not None:
                backend.deactivate_meter(ext.external_id)
                ext.delete()
            mark_synced(meter)
            return SyncResult("meter", str(meter.pk), SyncAction.ARCHIVED)
        if ext is not None and ext.content_hash == wanted:
            mark_synced(meter)
            return SyncResult("meter", str(meter.pk), SyncAction.UNCHANGED, ext.external_id)
        old = ext.external_id if ext is not None else ""
        if old:
            backend.deactivate_meter(old)  # its event name is taken until it is inactive
        created = backend.create_meter(
            data, idempotency_key=idempotency_key(meter, f"create-{old}", wanted)
        )
        if ext is None:
            create_link(ExternalMeter, backend.provider_name, created.id, wanted, meter=meter)
        else:
            move_link(ext, created.id, wanted)
    except ProviderError as exc:
        mark_sync_error(meter, exc)
        return SyncResult("meter", str(meter.pk), SyncAction.FAILED, error=exc)
    mark_synced(meter)
    action = SyncAction.UPDATED if old else SyncAction.CREATED
    return SyncResult("meter", str(meter.pk), action, created.id)


def push_meters(*, backend: BaseBackend | None = None) -> list[SyncResult]:
    backend = backend or get_backend()
    return [sync_meter(meter, backend=backend) for meter in Meter.objects.order_by("pk")]
