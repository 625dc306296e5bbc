"""docs/settings.md lists exactly the keys and defaults of conf.DEFAULTS."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django_payments_sync.conf import DEFAULTS

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def documented_defaults() -> dict[str, object]:
    text = DOC.read_text()
    section = text.split("## Keys of `PAYMENTS_SYNC`", 1)[1].split("\n## ", 1)[0]
    found: dict[str, object] = {}
    for match in re.finditer(r"^### `([A-Z_]+)`\n\nDefault: `(.+?)`$", section, re.MULTILINE):
        found[match.group(1)] = ast.literal_eval(match.group(2))
    return found


def test_every_key_is_documented_with_its_default() -> None:
    assert documented_defaults() == DEFAULTS


def test_every_documented_heading_has_a_parsable_default() -> None:
    section = DOC.read_text().split("## Keys of `PAYMENTS_SYNC`", 1)[1].split("\n## ", 1)[0]
    headings = re.findall(r"^### `([A-Z_]+)`$", section, re.MULTILINE)
    assert sorted(headings) == sorted(documented_defaults())


SRC = Path(__file__).resolve().parents[1] / "src" / "django_payments_sync"


def test_every_check_id_is_documented() -> None:
    """Each ``payments_sync.E0xx``/``W0xx`` the code can report is in the checks table."""
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        used |= set(re.findall(r"payments_sync\.[EW]\d{3}", path.read_text()))
    section = DOC.read_text().split("## System checks", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(payments_sync\.[EW]\d{3})` \|", section, re.MULTILINE))
    assert used
    assert used == documented
