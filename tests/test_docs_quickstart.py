"""The settings and URLconf snippets of the README's Quickstart and of docs/getting-started.md
run as written, in a fresh module, before any Stripe secret exists; and the offline
environment the guide sets up points the library at the Stripe emulator and the VIES stand-in.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "getting-started.md"

#: What the snippets may read from the environment; each test sets its own.
ENVIRONMENT = ("STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE", "VIES_ADDRESS")


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", path.read_text(), re.MULTILINE | re.DOTALL)


def snippet(path: Path, marker: str) -> str:
    """The part of the first block that has ``# <marker>`` which belongs to that file."""
    for block in python_blocks(path):
        if f"# {marker}" in block:
            part = block.split(f"# {marker}", 1)[1]
            return re.split(r"^# \w+\.py$", part, maxsplit=1, flags=re.MULTILINE)[0]
    raise AssertionError(f"{path.name} has no ```python block with `# {marker}`")


def run_settings(path: Path) -> dict[str, Any]:
    """The guide's settings.py lines, run after what ``startproject`` writes."""
    namespace: dict[str, Any] = {"INSTALLED_APPS": ["django.contrib.admin"]}
    exec(compile(snippet(path, "settings.py"), str(path), "exec"), namespace)
    return namespace


def library_messages(namespace: dict[str, Any]) -> set[str]:
    with override_settings(PAYMENTS_SYNC=namespace["PAYMENTS_SYNC"]):
        return {m.id for m in checks.run_checks() if m.id and m.id.startswith("payments_sync")}


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("path", [README, GUIDE], ids=["README", "getting-started"])
def test_the_settings_run_before_the_secrets_exist(path: Path, no_secrets: None) -> None:
    namespace = run_settings(path)
    assert "django_payments_sync" in namespace["INSTALLED_APPS"]
    assert "rest_framework" in namespace["INSTALLED_APPS"]
    # The webhook secret only exists once `webhook-endpoint` has printed it.
    assert namespace["PAYMENTS_SYNC"]["OPTIONS"]["webhook_secret"] == ""


@pytest.mark.django_db
@pytest.mark.parametrize("path", [README, GUIDE], ids=["README", "getting-started"])
def test_without_a_key_the_check_says_so(path: Path, no_secrets: None) -> None:
    assert "payments_sync.E003" in library_messages(run_settings(path))


@pytest.mark.django_db
def test_the_offline_environment_of_the_guide(
    no_secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = re.findall(r"^```console\n(.*?)^```$", GUIDE.read_text(), re.MULTILINE | re.DOTALL)
    # The block after the one that starts the emulator and the stand-in.
    (starts,) = [i for i, block in enumerate(blocks) if "stripe_emulator" in block]
    exports = re.findall(r"^export (.+)$", blocks[starts + 1], re.MULTILINE)
    assert exports, "the guide exports the offline environment"
    for line in exports:
        for assignment in line.split():
            name, value = assignment.split("=", 1)
            monkeypatch.setenv(name, value)
    namespace = run_settings(GUIDE)
    options = namespace["PAYMENTS_SYNC"]["OPTIONS"]
    assert options["api_base"] == "http://127.0.0.1:12111"
    # VIES at the stand-in the guide starts (its URL is http://127.0.0.1:<port>/).
    address = namespace["PAYMENTS_SYNC"]["VIES"]["ADDRESS"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", address), address
    port = address.rsplit(":", 1)[1].strip("/")
    assert f"vies_responder --port {port}" in GUIDE.read_text()
    assert namespace["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    # Only the warning that the webhook secret is still missing.
    assert library_messages(namespace) == {"payments_sync.W001"}


@pytest.mark.parametrize("path", [README, GUIDE], ids=["README", "getting-started"])
def test_the_urlconf_runs(path: Path) -> None:
    namespace: dict[str, Any] = {"urlpatterns": []}
    exec(compile(snippet(path, "urls.py"), str(path), "exec"), namespace)
    (pattern,) = namespace["urlpatterns"]
    assert str(pattern.pattern) == "api/payment/"
    assert pattern.urlconf_name.__name__ == "django_payments_sync.urls"


@pytest.mark.parametrize("path", [README, GUIDE], ids=["README", "getting-started"])
def test_the_install_command_brings_the_schema_route(path: Path) -> None:
    """Step 1 installs the schema extra, so the guide's project has no W002 warning (the
    fresh-project check installs the wheel with these extras and runs manage.py check)."""
    (extras,) = re.findall(
        r'^pip install "django-payments-sync\[([a-z,]+)\]"', path.read_text(), re.MULTILINE
    )
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert "schema" in extras.split(",")
    assert set(extras.split(",")) <= set(declared)
    assert any(dependency.startswith("drf-spectacular") for dependency in declared["schema"])
    # Who leaves the extra out is told how to silence the warning, in the guide itself.
    assert 'SILENCED_SYSTEM_CHECKS = ["payments_sync.W002"]' in GUIDE.read_text()
