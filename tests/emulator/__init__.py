"""Tests of the Stripe emulator, driven only through the official SDK and plain HTTP."""
