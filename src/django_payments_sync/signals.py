"""Signals sent to host code, each after the transaction that caused it commits."""

from __future__ import annotations
