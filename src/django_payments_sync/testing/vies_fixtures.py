"""pytest fixtures for the local VIES responder: ``vies_responder`` and ``vies_settings``."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from .vies_responder import VIESResponder

__all__ = ["vies_responder", "vies_settings"]

_RESPONDER_KEY = pytest.StashKey[VIESResponder]()

#: The ``TIMEOUT`` the ``vies_settings`` fixture sets: short, so timeout tests stay fast,
#: but far above what the local responder needs to answer.
TEST_TIMEOUT = 1.0


@pytest.fixture
def vies_responder(request: pytest.FixtureRequest) -> Iterator[VIESResponder]:
    """The local VIES responder: started once per session (per xdist worker), its request
    log, registrations, forced behaviour and delay reset around each test."""
    # Kept in the config's stash rather than in a session fixture so that this one name is
    # all a conftest or plugin has to import.
    responder = request.config.stash.get(_RESPONDER_KEY, None)
    if responder is None:
        responder = VIESResponder(slow_delay=3 * TEST_TIMEOUT).start()
        request.config.stash[_RESPONDER_KEY] = responder
        request.config.add_cleanup(responder.stop)
    responder.reset()
    yield responder
    responder.reset()


@pytest.fixture
def vies_settings(vies_responder: VIESResponder) -> Iterator[dict[str, Any]]:
    """``PAYMENTS_SYNC["VIES"]`` pointing at :func:`vies_responder`, with a short timeout and
    no requester number; yields that ``VIES`` dict. Other keys of ``PAYMENTS_SYNC`` are kept."""
    from django.conf import settings
    from django.test import override_settings

    current = copy.deepcopy(getattr(settings, "PAYMENTS_SYNC", None) or {})
    vies = {
        **current.get("VIES", {}),
        "ENABLED": True,
        "ADDRESS": vies_responder.url,
        "TIMEOUT": TEST_TIMEOUT,
        "REQUESTER_VAT_NUMBER": None,
    }
    with override_settings(PAYMENTS_SYNC={**current, "VIES": vies}):
        yield vies
