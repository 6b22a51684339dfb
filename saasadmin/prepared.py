"""ORM querysets compiled once per process, then run with new values: for the reads every page view
makes.

Building and compiling a queryset (filters, joins, select_related, the column list) costs this
machine about half a millisecond to two per query, more than PostgreSQL takes to answer it. A page
that reads six small things pays that six times on every view. `Prepared` builds the queryset the
usual way — through the tenant-scoped managers, so the scope is the ORM's own — once, with stand-in
values, notes where each stand-in landed in the compiled parameters, and from then on runs the same
SQL with the call's values in those places. Rows become model instances (with their select_related
objects) or tuples exactly as the ORM's own iterables make them, through the same compiler.

Values are ids and days: UUIDs, ints or dates. A queryset whose SQL depends on the values' shape (a
list of varying length, a value the ORM folds into the SQL text) is not for this; the first call checks
that every stand-in was found, and a test per use checks the rows against the plain ORM.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)


class PrepareError(TypeError):
    """A queryset that cannot be prepared: a value's stand-in did not appear in its parameters."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]  # the stand-ins' places hold None
    places: dict[str, list[tuple[int, str]]]  # value name → (place, its form there) for each place
    compiler: Any  # compiled once: its select and klass_info serve every call
    iterable: type
    converters: dict[int, Any]  # the database's and the fields' converters of each column, found once


def _stand_in(kind: type, index: int) -> Any:
    if kind is uuid.UUID:
        return uuid.UUID(int=0x5A5A_0000_0000_0000_0000_0000_0000_0000 + index)
    if kind is int:
        return 2_000_000_000 - 7919 * (index + 1)
    if kind is date:
        return date(1901, 2, 3) + timedelta(days=index)
    raise PrepareError(f"Only UUID, int and date values can be prepared, not {kind.__name__}.")


# How a value stands among a compiled query's parameters: as it is (PostgreSQL), or as the text SQLite
# is sent (a UUID's hex digits, a date's ISO form).
_FORMS: dict[str, Callable[[Any], Any]] = {"value": lambda v: v, "hex": lambda v: v.hex, "text": str}


def _form(param: Any, stand_in: Any) -> str | None:
    if isinstance(param, type(stand_in)) and param == stand_in:
        return "value"
    if isinstance(stand_in, uuid.UUID) and param == stand_in.hex:
        return "hex"
    if isinstance(stand_in, date) and param == stand_in.isoformat():
        return "text"
    return None


class Prepared:
    """`Prepared(build, tenant_id=UUID, run_id=int)`: `build(**values)` returns the queryset; calling the
    Prepared with the same names returns its rows, as `list(build(**values))` would."""

    def __init__(self, build: Callable[..., QuerySet[Any]], **kinds: type) -> None:
        self.build = build
        self.kinds = kinds
        self._compiled: dict[str, _Compiled] = {}
        self._model: Any = None
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        stand_ins = {name: _stand_in(kind, i) for i, (name, kind) in enumerate(self.kinds.items())}
        queryset = self.build(**stand_ins)
        if queryset._iterable_class not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
            raise PrepareError("Only model rows and values_list() tuples can be prepared.")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        places: dict[str, list[tuple[int, str]]] = {name: [] for name in stand_ins}
        kept = list(params)
        for place, param in enumerate(params):
            for name, stand_in in stand_ins.items():
                form = _form(param, stand_in)
                if form is not None:
                    places[name].append((place, form))
                    kept[place] = None
        missing = [name for name, found in places.items() if not found]
        if missing:
            raise PrepareError(f"The compiled query does not carry {', '.join(missing)} as a parameter.")
        selected = [column[0] for column in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(selected)
        return _Compiled(sql, tuple(kept), places, compiler, queryset._iterable_class, converters)

    def compiled(self, alias: str) -> _Compiled:
        found = self._compiled.get(alias)
        if found is None:
            with self._lock:
                found = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = found
        return found

    def __call__(self, **values: Any) -> list[Any]:
        if values.keys() != self.kinds.keys():
            raise TypeError(f"Expected the values {sorted(self.kinds)}, got {sorted(values)}.")
        alias = self._alias()
        compiled = self.compiled(alias)
        params = list(compiled.params)
        for name, places in compiled.places.items():
            kind, given = self.kinds[name], values[name]
            value: Any = given if isinstance(given, kind) else kind(given)  # ValueError for a malformed id
            for place, form in places:
                params[place] = _FORMS[form](value)
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        return _rows(compiled, alias, fetched)

    def _alias(self) -> str:
        if self._model is None:
            stand_ins = {name: _stand_in(kind, i) for i, (name, kind) in enumerate(self.kinds.items())}
            self._model = self.build(**stand_ins).model
        return router.db_for_read(self._model)


def _rows(compiled: _Compiled, alias: str, fetched: list[Any]) -> list[Any]:
    """The fetched rows as the ORM's iterable for the queryset would yield them."""
    compiler = compiled.compiler
    # As the compiler's results_iter does, with the converters found when it was compiled.
    rows = list(compiler.apply_converters(fetched, compiled.converters)) if compiled.converters else fetched
    if compiled.iterable is FlatValuesListIterable:
        return [row[0] for row in rows]
    if compiled.iterable is ValuesListIterable:
        return [tuple(row) for row in rows]
    # ModelIterable, as Django 5.2 writes it (known related objects aside: prepared querysets have none).
    select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
    model_cls = klass_info["model"]
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    init_list = [f[0].target.attname for f in select[start:end]]
    related_populators = get_related_populators(klass_info, select, alias)  # type: ignore[call-arg]  # 5.2
    instances = []
    for row in rows:
        obj = model_cls.from_db(alias, init_list, row[start:end])
        for populator in related_populators:
            populator.populate(row, obj)
        for attr_name, col_pos in (annotation_col_map or {}).items():
            setattr(obj, attr_name, row[col_pos])
        instances.append(obj)
    return instances
