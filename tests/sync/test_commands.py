"""``payments_sync push``, ``diff`` and ``webhook-endpoint`` through ``call_command``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from django_payments_sync.models import Product
from tests.factories import CustomerFactory, PricingFactory
from tests.sync.conftest import Provider

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("payments_sync", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_push_prints_progress_and_a_summary(provider: Provider) -> None:
    PricingFactory(product__name="Team")
    CustomerFactory()
    status, out, _ = run("push")
    assert status == 0
    assert "created" in out
    assert "Pushed: 3 created, 0 updated, 0 archived, 0 deleted, 0 unchanged, 0 failed." in out
    status, out, _ = run("push")
    assert status == 0
    assert "0 created, 0 updated, 0 archived, 0 deleted, 3 unchanged, 0 failed." in out


def test_push_dry_run_changes_nothing(provider: Provider) -> None:
    PricingFactory()
    status, out, _ = run("push", "--dry-run")
    assert status == 0
    assert "would be created" in out
    assert out.strip().endswith(
        "Dry run, nothing changed: 2 created, 0 updated, 0 archived, 0 deleted, 0 unchanged, "
        "0 failed."
    )
    assert provider.writes() == []
    assert provider.products() == []


def test_push_exits_1_when_something_failed(provider: Provider) -> None:
    PricingFactory()
    provider.fail_next("create_product")
    status, out, err = run("push", "--only", "products")
    assert status == 1
    assert "failed" in err
    assert "1 failed." in out
    assert run("push")[0] == 0


def test_diff_exit_status_tracks_drift(provider: Provider) -> None:
    pricing = PricingFactory(product__name="Team")
    status, out, _ = run("diff")
    assert status == 1
    assert "not at the provider" in out
    run("push")
    assert run("diff")[:2] == (0, "No drift: the provider matches local data.\n")
    Product.objects.filter(pk=pricing.product.pk).update(description="Changed")
    status, out, _ = run("diff")
    assert status == 1
    assert "description: local 'Changed' != provider 'A plan'" in out
    assert "1 difference(s): 1 differs." in out


def test_webhook_endpoint_registers_the_url_and_prints_the_secret(provider: Provider) -> None:
    status, out, _ = run("webhook-endpoint", "https://shop.example/")
    assert status == 0
    [endpoint] = list(provider.backend.list_webhook_endpoints())
    name = provider.backend.provider_name
    assert endpoint.url == f"https://shop.example/api/payment/{name}/webhook/"
    secret = out.split('["webhook_secret"] = "', 1)[1].split('"', 1)[0]
    assert secret  # only shown now, at creation
    with pytest.raises(CommandError, match="already registered"):
        run("webhook-endpoint", "https://shop.example")
    status, out, _ = run("webhook-endpoint", "https://shop.example", "--replace")
    assert status == 0
    assert "Deleted endpoint" in out
    assert len(list(provider.backend.list_webhook_endpoints())) == 1


@pytest.mark.parametrize("bad", ["shop.example", "ftp://shop.example", "https://shop.example/?a=1"])
def test_webhook_endpoint_refuses_a_bad_site_url(locmem: Provider, bad: str) -> None:
    with pytest.raises(CommandError, match="site"):
        run("webhook-endpoint", bad)
    assert locmem.calls() == []


def test_provider_outage_during_diff_is_a_command_error(stripe_provider: Provider) -> None:
    stripe_provider.emulator.inject_fault("GET /v1/products", "500", count=5)
    with pytest.raises(CommandError, match="Could not read the provider"):
        run("diff")


def test_prune_dry_run_reports_orphans_and_changes_nothing(provider: Provider) -> None:
    pricing = PricingFactory(product__name="Gone")
    CustomerFactory()
    run("push")
    pricing.product.delete()  # outside a captured commit: no autosync
    provider.clear()
    status, out, _ = run("push", "--prune", "--dry-run", "--only", "products")
    assert status == 0
    assert "would be archived" in out
    assert "2 archived" in out
    assert provider.writes() == []
    assert {p.active for p in provider.products()} == {True}
