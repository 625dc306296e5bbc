"""Pushing meters like prices: created once, replaced (the old one deactivated) when their
immutable terms change, deactivated with the local row; an unchanged meter costs nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.types import Capability, MeterData
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


def _terms_hash(meter: Meter) -> str:
    return digest([meter.event_name, meter.aggregation])


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
    wanted = _terms_hash(meter)
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


def linked_meter_ids(provider: str, pricings: Iterable[Any]) -> dict[Any, str]:
    """Local meter pk -> the provider id its link holds, read (one query) only when one of
    ``pricings`` names a meter; nothing is pushed (the diff and the push's drift repair)."""
    if not any(p.meter_id is not None for p in pricings):
        return {}
    return dict(
        ExternalMeter.objects.filter(provider=provider).values_list("meter_id", "external_id")
    )


def meter_external_ids(
    pricings: Iterable[Any], *, backend: BaseBackend, push: bool = True
) -> dict[Any, str]:
    """Local meter pk -> provider meter id, for the meters of the metered ``pricings``.

    With ``push`` a meter that is not at the provider, or whose terms changed, is pushed first
    (a metered price names its meter); without it (a dry run) only the current links count.
    An inactive meter, or a backend without ``Capability.METERS``, has none.
    """
    wanted = {p.meter_id for p in pricings if p.is_metered}
    if not wanted or not backend.supports(Capability.METERS):
        return {}
    links = {
        ext.meter_id: ext
        for ext in ExternalMeter.objects.filter(provider=backend.provider_name, meter_id__in=wanted)
    }
    found: dict[Any, str] = {}
    for meter in Meter.objects.filter(pk__in=wanted, active=True):
        ext = links.get(meter.pk)
        if ext is not None and (ext.content_hash == _terms_hash(meter) or not push):
            found[meter.pk] = ext.external_id
        elif push:
            result = sync_meter(meter, backend=backend)
            if result.external_id:
                found[meter.pk] = result.external_id
    return found
