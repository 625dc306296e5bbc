"""``scripts/demo``'s arguments: a bad port is refused before anything starts or is deleted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo"


@pytest.mark.parametrize("port", ["abc", "0", "99999", "80a"])
def test_a_port_that_is_no_port_is_refused_as_such(port: str) -> None:
    done = subprocess.run(
        ["bash", str(DEMO), "--port", port], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "needs a port number (1-65535)" in done.stderr
    assert "in use" not in done.stderr
