"""Stripe's official example objects (fixtures3.json, MIT), loaded once and handed out as copies."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any


@functools.cache
def _resources() -> dict[str, Any]:
    data = resources.files(__package__).joinpath("data/fixtures3.json").read_text("utf-8")
    return json.loads(data)["resources"]


def template(name: str) -> dict[str, Any]:
    """A deep copy of the fixture for `name`, e.g. `"customer"` or `"checkout.session"`."""
    return copy.deepcopy(_resources()[name])
