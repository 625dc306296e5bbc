"""What the offline provider emulators share: HTTP lifecycle, faults, webhook delivery, clock."""

from __future__ import annotations

from .clock import Clock
from .delivery import DELIVERY_MODES, Delivery, Dispatcher
from .emulator import EmulatorBase
from .faults import FAULT_KINDS, Fault, Faults
from .server import EmulatorHandler, EmulatorHTTPServer, dump

__all__ = [
    "DELIVERY_MODES",
    "FAULT_KINDS",
    "Clock",
    "Delivery",
    "Dispatcher",
    "EmulatorBase",
    "EmulatorHTTPServer",
    "EmulatorHandler",
    "Fault",
    "Faults",
    "dump",
]
