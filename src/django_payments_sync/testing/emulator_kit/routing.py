"""An emulator's routes: `METHOD /path/{x}` patterns mapped to handlers, loaded on first use."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

H = TypeVar("H", bound=Callable[..., Any])


@dataclass
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Callable[..., Any]
    #: Stripe: the name of the SDK's params type that validates the request (None: no check).
    params_class: str | None = None


class Router:
    """The routes of one emulator; `load` imports the handler modules (which register here)."""

    def __init__(self, load: Callable[[], None]) -> None:
        self.routes: list[Route] = []
        self._load = load
        self._loaded = False

    def route(self, method: str, pattern: str, params_class: str | None = None) -> Callable[[H], H]:
        """Register a handler for `method pattern`; `{x}` captures one path segment."""
        regex = re.compile("^" + re.sub(r"\{\w+\}", r"([^/]+)", pattern) + "$")

        def register(handler: H) -> H:
            self.routes.append(Route(method, regex, handler, params_class))
            return handler

        return register

    def _ready(self) -> list[Route]:
        if not self._loaded:
            self._load()
            self._loaded = True
        return self.routes

    def match(self, method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
        """The route for a request and the path's captures, or None."""
        for candidate in self._ready():
            if candidate.method == method:
                found = candidate.regex.match(path)
                if found:
                    return candidate, found.groups()
        return None

    def path_exists(self, path: str) -> bool:
        """Whether some method is routed for `path` (a 405, not a 404, for the others)."""
        return any(r.regex.match(path) for r in self._ready())
