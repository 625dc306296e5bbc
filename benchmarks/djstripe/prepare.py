"""Set up dj-stripe's database as its users do: a webhook endpoint, and the catalog synced."""

# Runs inside dj-stripe's own virtual environment with benchmarks.djstripe.settings.

from __future__ import annotations

import argparse
import json
import sys
import time


def create_endpoint(url: str) -> dict[str, str]:
    """Create a webhook endpoint at the provider and mirror it, the way dj-stripe's admin does."""
    import stripe

    from djstripe.models import WebhookEndpoint
    from djstripe.settings import djstripe_settings

    api_key = djstripe_settings.STRIPE_SECRET_KEY
    remote = stripe.WebhookEndpoint.create(
        url=url, enabled_events=["*"], api_key=api_key, metadata={}
    )
    local = WebhookEndpoint.sync_from_stripe_data(remote, api_key=api_key)
    local.secret = remote["secret"]
    local.save()
    return {"uuid": str(local.djstripe_uuid), "secret": local.secret, "id": local.id}


def sync_models(models: list[str]) -> dict[str, object]:
    """dj-stripe's own command, ``djstripe_sync_models``, over ``models``: how it went, how long.

    When the command cannot run against the emulator (it first lists connected accounts,
    ``GET /v1/accounts``), the same per-object work it does is run directly: each model's
    ``api_list()`` then ``sync_from_stripe_data()`` for every object, as the command does for
    the platform account. The result says which way ran and why.
    """
    import io

    from django.apps import apps
    from django.core.management import CommandError, call_command

    from djstripe.settings import djstripe_settings

    started = time.perf_counter()
    errors = io.StringIO()
    try:
        call_command(
            "djstripe_sync_models",
            *models,
            fail_on_error=True,
            stdout=io.StringIO(),
            stderr=errors,
        )
    except CommandError as exc:
        failure = f"{exc}; {errors.getvalue().strip()[:400]}"
    else:
        return {"method": "djstripe_sync_models", "seconds": time.perf_counter() - started}
    started = time.perf_counter()
    api_key = djstripe_settings.STRIPE_SECRET_KEY
    object_errors = 0
    list_errors: list[str] = []
    for name in models:
        model = apps.get_model("djstripe", name)
        try:
            for stripe_obj in model.api_list(api_key=api_key):
                try:
                    model.sync_from_stripe_data(stripe_obj, api_key=api_key)
                except Exception:
                    object_errors += 1
        except Exception as exc:  # the report shows what the emulator refused
            list_errors.append(f"{name}: {exc}"[:300])
    return {
        "list_errors": list_errors,
        "method": "api_list + sync_from_stripe_data (the command's per-object loop)",
        "command_error": failure,
        "object_errors": object_errors,
        "seconds": time.perf_counter() - started,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint-url", help="create a webhook endpoint for this URL")
    parser.add_argument("--sync", nargs="*", default=[], help="models for djstripe_sync_models")
    args = parser.parse_args()
    import django

    django.setup()
    out: dict[str, object] = {}
    if args.sync:
        out["sync"] = sync_models(args.sync)
        from djstripe.models import Price, Product

        out["products"] = Product.objects.count()
        out["prices"] = Price.objects.count()
    if args.endpoint_url:
        out["endpoint"] = create_endpoint(args.endpoint_url)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
