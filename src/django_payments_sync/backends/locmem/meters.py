"""The in-memory backend: usage meters and the events they count (one per identifier)."""

from __future__ import annotations

import dataclasses

from django_payments_sync.backends.locmem.state import LocmemState
from django_payments_sync.backends.types import MeterData, MeterEventData, ProviderMeter
from django_payments_sync.exceptions import PermanentProviderError


class LocmemMeters(LocmemState):
    """Meters and their events (the dicts are the state's: metered prices bill from them)."""

    def create_meter(self, data: MeterData, *, idempotency_key: str) -> ProviderMeter:
        self._record("create_meter", (data,), {"idempotency_key": idempotency_key})
        earlier = self._idempotent(idempotency_key, "create_meter", data)
        if earlier is not None:
            return earlier
        if any(m.event_name == data.event_name and m.active for m in self.meters.values()):
            raise PermanentProviderError(
                f"A meter for {data.event_name!r} exists.", code="resource_already_exists"
            )
        meter = ProviderMeter(id=self._new_id("mtr"), event_name=data.event_name, active=True)
        self.meters[meter.id] = meter
        self.meter_aggregations[meter.id] = data.aggregation
        self._remember(idempotency_key, "create_meter", data, meter)
        return meter

    def deactivate_meter(self, meter_id: str) -> None:
        self._record("deactivate_meter", (meter_id,), {})
        meter = self._get(self.meters, meter_id, "meter")
        self.meters[meter_id] = dataclasses.replace(meter, active=False)

    def send_meter_event(self, data: MeterEventData) -> None:
        self._record("send_meter_event", (data,), {})
        if not any(m.event_name == data.event_name and m.active for m in self.meters.values()):
            raise PermanentProviderError(f"No active meter for {data.event_name!r}.")
        self._get(self.customers, data.customer_id, "customer")
        self.meter_events.setdefault(data.identifier, data)  # one identifier counts once

    def meter_total(self, event_name: str, customer_id: str) -> int:
        """What the provider counted for a customer (a test helper)."""
        return sum(
            e.value
            for e in self.meter_events.values()
            if e.event_name == event_name and e.customer_id == customer_id
        )
