"""An offline, stateful Stripe emulator speaking the wire protocol of the official SDK."""

from __future__ import annotations

from .emulator import DEFAULT_API_KEY, StripeEmulator
from .webhooks import sign

__all__ = ["DEFAULT_API_KEY", "StripeEmulator", "sign"]
