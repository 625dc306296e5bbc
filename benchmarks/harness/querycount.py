"""A WSGI wrapper that counts the SQL statements of each request into a response header."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

HEADER = "X-Bench-Queries"
#: The same count without transaction control (savepoints), as the library's query-budget test
#: counts.
DATA_HEADER = "X-Bench-Queries-Data"
_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


def counting(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Wrap a Django WSGI ``app``: every statement through Django's cursors is counted.

    It counts what ``assertNumQueries`` counts (savepoints and lock statements included,
    the driver's implicit BEGIN not). The header is added when Django calls
    ``start_response``, after the view and its middleware ran.
    """
    from django.db import connections

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        count = [0, 0]

        def execute_wrapper(execute: Callable[..., Any], *args: Any) -> Any:
            count[0] += 1
            if not str(args[0]).lstrip().upper().startswith(_CONTROL):
                count[1] += 1
            return execute(*args)

        def counting_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            headers = [*headers, (HEADER, str(count[0])), (DATA_HEADER, str(count[1]))]
            return start_response(status, headers, exc_info)

        with connections["default"].execute_wrapper(execute_wrapper):
            return app(environ, counting_start_response)

    return wrapped


def application_for(settings_module: str) -> Callable[..., Iterable[bytes]]:
    """The counting WSGI application of the Django project ``settings_module``."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    from django.core.wsgi import get_wsgi_application

    return counting(get_wsgi_application())
