"""django-payments-sync: keep a Django project's billing records in sync with a payment provider."""

__version__ = "0.1.0.dev0"
