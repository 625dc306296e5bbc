"""An offline, stateful Paddle Billing emulator that the official `paddle-python-sdk` talks to."""

from __future__ import annotations

from .emulator import DEFAULT_API_KEY, EmulatorEnvironment, PaddleEmulator
from .notifications import sign

__all__ = ["DEFAULT_API_KEY", "EmulatorEnvironment", "PaddleEmulator", "sign"]
