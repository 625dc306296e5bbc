"""The Paddle Billing backend, on Paddle's official SDK (``paddle-python-sdk``, the
``[paddle]`` extra).

- :mod:`.backend`: :class:`PaddleBackend`, customers and the catalog;
- :mod:`.billing`: subscriptions, checkout, portal, invoices, webhooks and reads;
- :mod:`.client`: the SDK client of one backend (no global state) and its options' checks;
- :mod:`.params`: the library's data as the SDK's operations, Paddle's errors as the library's;
- :mod:`.objects`: Paddle's entities as the neutral types;
- :mod:`.events`: ``Paddle-Signature`` and Paddle's notifications in the library's vocabulary.
"""

from django_payments_sync.backends.paddle.backend import PaddleBackend

__all__ = ["PaddleBackend"]
