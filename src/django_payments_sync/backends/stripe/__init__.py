"""The Stripe backend, on Stripe's official SDK.

- :mod:`.backend`: :class:`StripeBackend`, the contract's operations;
- :mod:`.client`: the SDK client of one backend (no global state) and its options;
- :mod:`.params`: the library's data as Stripe's request parameters, Stripe's errors as the
  library's, paging;
- :mod:`.objects`: Stripe's objects as the neutral types;
- :mod:`.events`: webhook verification and Stripe's events in the library's vocabulary.
"""

from django_payments_sync.backends.stripe.backend import StripeBackend

__all__ = ["StripeBackend"]
