"""A new `startproject` site with the library as docs/getting-started.md sets it up, and
docs/testing.md's end-to-end test (a live server, the Stripe emulator, transactional) run by
its own pytest on Django's default test database: SQLite in memory, which the library's pytest
plugin moves into a file for live server sessions (issue 19, item 7)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_docs_quickstart import GUIDE, snippet

ROOT = Path(__file__).resolve().parents[1]
TESTING = ROOT / "docs" / "testing.md"

pytestmark = pytest.mark.slow


def recipe_block(first_line: str) -> str:
    """The ```python block of docs/testing.md that starts with ``first_line``."""
    blocks = re.findall(r"^```python\n(.*?)^```$", TESTING.read_text(), re.MULTILINE | re.DOTALL)
    (block,) = [b for b in blocks if b.startswith(first_line)]
    return block


def new_project(directory: Path) -> Path:
    """``django-admin startproject mysite`` and the guide's settings and URLs."""
    directory.mkdir()
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(directory)],
        check=True,
        capture_output=True,
    )
    with (directory / "mysite" / "settings.py").open("a") as settings:
        settings.write("\n" + snippet(GUIDE, "settings.py"))
    with (directory / "mysite" / "urls.py").open("a") as urls:
        urls.write("\n" + snippet(GUIDE, "urls.py"))
    tests = directory / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text(recipe_block("# conftest.py"))
    (tests / "test_billing.py").write_text(recipe_block("# test_billing.py"))
    return directory


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PAYMENTS_SYNC", "PYTEST", "DJANGO", "STRIPE", "VIES"))
    }
    env["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_testing_guide_passes_in_a_new_project(tmp_path: Path) -> None:
    project = new_project(tmp_path / "site")
    result = run_pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    # On the default database, which the plugin moved into a file, and said so.
    assert "live_server on SQLite: the test database is a file" in result.stdout
