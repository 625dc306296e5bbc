"""Lookups whose SQL is compiled once per database connection, then run with new values.

A webhook handler finds its rows with a queryset whose shape never changes (the same filters,
joins, columns and annotations), only its values: a provider and an id. Django compiles a
queryset into SQL each time it is evaluated, and for the handlers' lookups (a link with the
local rows its signals show, four joins and about ninety columns) that compilation, with the
row converters it finds, was about a third of an event's Python time. A
:class:`PreparedLookup` builds its queryset once per connection with placeholder values,
compiles it, remembers where each placeholder went in the parameters, and from then on runs
that SQL with the call's values. The rows become model instances through Django's own
iterable, so ``select_related`` objects and annotations come back exactly as the queryset
gives them (a test compares both on every lookup that uses it).

Only string values are placed this way (the handlers look rows up by provider and provider
id); a call with an empty or non-string value runs the queryset as Django builds it, since the
SQL of ``= ''`` or ``IS NULL`` may differ from that of a placeholder on some databases.
"""

from __future__ import annotations

import copy
import inspect
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler

_M = TypeVar("_M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet[Any]
    compiler: SQLCompiler
    sql: str
    params: tuple[Any, ...]
    #: Where each value goes: (index in ``params``, the build function's argument name).
    slots: tuple[tuple[int, str], ...]
    converters: dict[int, Any]


class PreparedLookup(Generic[_M]):
    """``build(**values)`` returns the queryset; :meth:`first` runs its compiled SQL.

    ``build`` must be a pure function of its keyword arguments (it is called once per
    connection, with placeholders): the same filters, joins and annotations for any values.
    """

    def __init__(self, build: Callable[..., QuerySet[_M]]) -> None:
        self.build = build
        self.names = tuple(inspect.signature(build).parameters)
        self._model: type[Model] | None = None
        self._compiled: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _Compiled] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"<PreparedLookup {self.build.__module__}.{self.build.__qualname__}>"

    def queryset(self, **values: str) -> QuerySet[_M]:
        """The queryset as Django builds it, for ``values`` (what :meth:`first` runs)."""
        return self.build(**values)[:1]

    def first(self, **values: str) -> _M | None:
        """The first row for ``values``, or None: one query, no compilation after the first."""
        if set(values) != set(self.names):
            raise TypeError(f"{self!r} takes {', '.join(self.names)}; got {', '.join(values)}.")
        if not all(isinstance(value, str) and value for value in values.values()):
            return next(iter(self.queryset(**values)), None)
        if self._model is None:
            self._model = self.build(**{name: "x" for name in self.names}).model
        connection = connections[router.db_for_read(self._model)]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compile(connection.alias)
            self._compiled[connection] = compiled
        params = list(compiled.params)
        for index, name in compiled.slots:
            params[index] = values[name]
        rows: Any = compiled.queryset._chain()  # type: ignore[attr-defined]
        rows.query.get_compiler = _PreparedCompilers(compiled, tuple(params))
        return next(iter(rows), None)

    def _compile(self, alias: str) -> _Compiled:
        token = secrets.token_hex(8)
        # Nothing in a placeholder that a LIKE lookup would escape: a transformed value shows.
        placeholders = {name: f"{token}x{i}x" for i, name in enumerate(self.names)}
        queryset = self.queryset(**placeholders).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = []
        for index, param in enumerate(params):
            for name, placeholder in placeholders.items():
                if param == placeholder:
                    slots.append((index, name))
                elif isinstance(param, str) and placeholder in param:
                    raise TypeError(
                        f"{self!r}: {name!r} is not compared as it is (its parameter is "
                        f"{param!r}); only exact string lookups can be prepared."
                    )
        missing = set(self.names) - {name for _, name in slots}
        if missing:
            raise TypeError(f"{self!r}: {', '.join(sorted(missing))} not found in its SQL.")
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        return _Compiled(
            queryset=queryset,
            compiler=compiler,
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            converters=compiler.get_converters(fields),
        )


class _PreparedCompilers:
    """Stands in for ``Query.get_compiler`` on one evaluation: the compiled SQL, new values."""

    def __init__(self, compiled: _Compiled, params: tuple[Any, ...]) -> None:
        self.compiled = compiled
        self.params = params

    def __call__(self, using: str | None = None, connection: Any = None, **kwargs: Any) -> Any:
        compiler = copy.copy(self.compiled.compiler)
        sql, params, converters = self.compiled.sql, self.params, self.compiled.converters
        compiler.as_sql = lambda *args, **kwargs: (sql, params)  # type: ignore[method-assign]
        compiler.get_converters = lambda expressions: converters  # type: ignore[method-assign]
        return compiler
