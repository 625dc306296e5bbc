"""Exceptions raised by django-payments-sync; ``user_message`` is always safe to show."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation


class PaymentsSyncError(Exception):
    """Base class of every error raised by django-payments-sync."""


class PaymentsSyncImproperlyConfigured(PaymentsSyncError, ImproperlyConfigured):
    """A setting is missing or wrong; the message names it."""


class ProviderError(PaymentsSyncError):
    """The payment provider refused or failed an operation.

    ``user_message`` is safe to show to an end user; ``str(error)`` may carry details for logs
    (never secrets). ``retryable`` tells whether the same call may succeed later.
    """

    retryable = False
    default_user_message = "The payment provider could not complete the request."

    def __init__(
        self,
        message: str = "",
        *,
        user_message: str | None = None,
        code: str | None = None,
        http_status: int | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message or self.default_user_message)
        self.user_message = user_message or self.default_user_message
        self.code = code
        self.http_status = http_status
        self.param = param


class TransientProviderError(ProviderError):
    """A network failure, a timeout, a 5xx or a rate limit: retrying later may succeed."""

    retryable = True
    default_user_message = (
        "The payment provider is temporarily unavailable. Your data is saved; please try again."
    )


class PermanentProviderError(ProviderError):
    """The provider rejected the request as it is: retrying the same call will not help."""


class CardError(PermanentProviderError):
    """The customer's card was declined."""

    default_user_message = "The card was declined."


class ProviderAuthenticationError(PermanentProviderError):
    """The provider refused our credentials (a configuration problem, not the user's)."""

    default_user_message = "The payment provider is not configured correctly."


class ObjectNotFound(PermanentProviderError):
    """The provider has no such object."""

    default_user_message = "The requested object does not exist at the payment provider."


class AccountMismatch(PermanentProviderError, PaymentsSyncImproperlyConfigured):
    """The credentials reach another provider account than the one this installation's links
    belong to (a new API key, another emulator). Nothing was sent; ``bound`` and ``current``
    name both accounts. Run ``manage.py payments_sync relink`` to move to the new account.
    """

    default_user_message = "Payments are not available right now: the site is being reconfigured."

    def __init__(self, *, provider: str, bound: str, current: str) -> None:
        super().__init__(
            f"The {provider} credentials reach account {current}, but this installation's "
            f"links belong to account {bound}. Nothing was sent. If the new account is "
            "intended, run `manage.py payments_sync relink` (it shows what it would do with "
            "--dry-run); otherwise restore the credentials of "
            f"{bound}.",
            code="account_mismatch",
        )
        self.provider = provider
        self.bound = bound
        self.current = current


class UnsupportedOperation(PaymentsSyncError, NotImplementedError):
    """The configured backend does not support this operation (see its capabilities)."""


class WebhookVerificationError(PaymentsSyncError, SuspiciousOperation):
    """A webhook request failed verification (signature, timestamp, size or body)."""


class PolicyViolation(PaymentsSyncError):
    """A business rule refused the operation (e.g. a subscription limit); the message says why."""

    def __init__(self, message: str, *, code: str = "policy_violation") -> None:
        super().__init__(message)
        self.code = code
