"""Users with billing information and logged-in sessions, for the API benchmark; prints cookies."""

from __future__ import annotations

import argparse
import json
import secrets
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=16)
    args = parser.parse_args()
    import django

    django.setup()
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from django_payments_sync.interactor import billing
    from django_payments_sync.interactor.customers import get_or_create_customer

    sessions = []
    problems: list[str] = []
    for i in range(args.users):
        user = get_user_model().objects.create_user(
            username=f"api{i:03d}", email=f"api{i:03d}@example.com", password=None
        )
        customer = get_or_create_customer(user)
        try:
            billing.create_user_billing_info(
                customer,
                {
                    "name": f"API User {i}",
                    "email": f"api{i:03d}@example.com",
                    "address_line1": f"{i} Rue du Test",
                    "city": "Paris",
                    "postal_code": "75001",
                    "country": "FR",
                },
            )
        except Exception as exc:  # shown in the report
            problems.append(repr(exc)[:300])
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append({"sessionid": session.session_key, "csrftoken": secrets.token_hex(16)})
    print(json.dumps({"sessions": sessions, "problems": problems[:3]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
