"""Accounts of the example project: teams, the customer owner of django-payments-sync."""
