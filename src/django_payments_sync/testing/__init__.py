"""Test helpers that host projects can use: an offline Stripe emulator and its pytest plugin."""
