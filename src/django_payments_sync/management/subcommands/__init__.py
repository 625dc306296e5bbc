"""Subcommands of ``manage.py payments_sync``: one module each, with ``add_arguments``/``handle``.

A module lists itself in :data:`SUBCOMMANDS` below; ``handle(command, options)`` returns the exit
status (0 for success) and writes through ``command.stdout``/``command.stderr``.
"""

from __future__ import annotations

#: subcommand name -> module under django_payments_sync.management.subcommands
SUBCOMMANDS: dict[str, str] = {
    "push": "push",
    "diff": "diff",
    "reconcile": "reconcile",
    "webhook-endpoint": "webhook_endpoint",
    "vat": "vat",
    "events": "events",
    "relink": "relink",
    "refund": "refund",
    "usage": "usage",
}

#: Subcommands that first make sure the credentials reach the installation's account (and
#: stop with ``AccountMismatch`` otherwise; see ``relink``).
ACCOUNT_CHECKED: frozenset[str] = frozenset({"push", "diff", "reconcile", "vat", "refund", "usage"})
#: Of those, the ones that stop when the provider cannot tell its account (unreachable);
#: ``vat`` goes on with VIES and leaves its pushes for later.
ACCOUNT_CHECK_REQUIRED: frozenset[str] = frozenset({"push", "diff", "reconcile"})
