"""Signal receivers that django-payments-sync connects when the app is ready."""

from __future__ import annotations
