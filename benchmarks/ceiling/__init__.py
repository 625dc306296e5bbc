"""The ceiling: a bare Django view that verifies a Stripe signature and inserts one row."""
