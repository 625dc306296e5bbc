"""Tests of the VIES VAT-number check against the local responder."""
