"""``python -m django_payments_sync.testing.vies_responder --port 8081``."""

from django_payments_sync.testing.vies_responder.server import main

main()
