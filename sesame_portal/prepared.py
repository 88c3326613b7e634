"""Queries built with the ORM once per process and run many times with new values, for
hot paths whose queryset costs far more to build and compile than to run: a row
annotated with a dozen subqueries takes the ORM milliseconds to build each time and
PostgreSQL a fraction of one to answer.

The query is written as usual, as a function of named values (`build(user_id=...,
today=...)` returning a `.values()` queryset), so its rules stay where they are written.
It is built twice with two sets of stand-in values; the SQL must come out the same and
the parameters differ only where the stand-ins went, which catches a query that works
something out from a value (`today - 365 days` must be passed in as a value of its own)
or writes it into the SQL text. Each run then sends that SQL with the real values in
those places, and reads the rows back through the ORM's own converters.

On PostgreSQL the values are bound on the server, so psycopg prepares the statement after
a couple of runs (`prepare_threshold` in the settings' database OPTIONS) and PostgreSQL
plans it once per connection: planning a dozen subqueries costs it more than running
them. The ORM's own queries bind on the client and are never prepared.
"""

from __future__ import annotations

import datetime
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.utils import timezone


def _stand_ins(kinds: dict[str, type], offset: int) -> dict[str, Any]:
    """A value of each kind no real query passes: years long gone, ids far past any."""
    values: dict[str, Any] = {}
    for number, (name, kind) in enumerate(sorted(kinds.items()), start=1):
        step = offset * 100 + number
        if kind is int:
            values[name] = 1_900_000_000_000 + step
        elif kind is datetime.datetime:
            values[name] = datetime.datetime(1901, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
                days=step, seconds=step
            )
        elif kind is datetime.date:
            values[name] = datetime.date(1901, 1, 1) + datetime.timedelta(days=step)
        else:
            raise TypeError(f"{name}: only int, date and datetime values are prepared")
    return values


def _forms(connection, kind: type) -> list[Callable[[Any], Any]]:
    """How a value of this kind may appear among a compiled query's parameters."""
    ops = connection.ops
    if kind is datetime.datetime:
        return [lambda v: v, ops.adapt_datetimefield_value, ops.adapt_datefield_value]
    if kind is datetime.date:
        return [lambda v: v, ops.adapt_datefield_value]
    return [lambda v: v, str]


@dataclass
class _Compiled:
    sql: str
    params: list
    slots: list[tuple[int, str, Callable[[Any], Any]]]  # (position, name, form)
    compiler: Any
    converters: dict
    names: list[str]


def _cursor(connection):
    """A cursor of Django's (checked, wrapped, logged like any other); on PostgreSQL one
    that binds values on the server, so that psycopg may prepare the statement."""
    cursor = connection.cursor()
    if connection.vendor == "postgresql":
        from django.db.backends.postgresql.base import ServerBindingCursor

        cursor.cursor.close()
        cursor.cursor = ServerBindingCursor(connection.connection)
    return cursor


class PreparedQuery:
    """`PreparedQuery(build, user_id=int, today=datetime.date)`; then
    `.rows(user_id=..., today=...)` gives the rows as dicts, as `.values()` would."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: type) -> None:
        self.build = build
        self.kinds = kinds
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _compile(self, connection, alias: str) -> _Compiled:
        first, second = _stand_ins(self.kinds, 1), _stand_ins(self.kinds, 2)
        compiler = self.build(**first).query.get_compiler(alias)
        sql, params = compiler.as_sql()
        other_sql, other_params = self.build(**second).query.get_compiler(alias).as_sql()
        if sql != other_sql or len(params) != len(other_params):
            raise ValueError("the query's SQL changes with its values: pass them as values")
        slots = []
        for position, (param, other) in enumerate(zip(params, other_params, strict=True)):
            found = [
                (position, name, form)
                for name, kind in self.kinds.items()
                for form in _forms(connection, kind)
                if param == form(first[name]) and other == form(second[name])
            ]
            if found:
                slots.append(found[0])
            elif param != other:
                raise ValueError(
                    f"parameter {position} is worked out from a value: pass it as a value"
                )
        missing = set(self.kinds) - {name for _position, name, _form in slots}
        if missing:
            raise ValueError(f"values the query does not use: {', '.join(sorted(missing))}")
        query = compiler.query
        # The columns' names as QuerySet.values() reads them (ValuesIterable).
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        converters = compiler.get_converters([c[0] for c in compiler.select[: compiler.col_count]])
        return _Compiled(sql, list(params), slots, compiler, converters, names)

    def rows(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[dict]:
        if set(values) != set(self.kinds):
            raise TypeError(f"expected the values {sorted(self.kinds)}, got {sorted(values)}")
        connection = connections[using]
        compiled = self._compiled.get(connection)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(connection, self._compile(connection, using))
        params = list(compiled.params)
        for position, name, form in compiled.slots:
            value = values[name]
            if isinstance(value, datetime.datetime) and timezone.is_naive(value):
                raise ValueError(f"{name}: an aware datetime is expected")
            params[position] = form(value)
        with _cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        if compiled.converters:
            fetched = compiled.compiler.apply_converters(fetched, compiled.converters)
        return [dict(zip(compiled.names, row, strict=True)) for row in fetched]


# A model instance rather than dict rows (the partner score query reads the authorisation
# with its partner, grant and latest score as the ORM would build them).


@dataclass(frozen=True)
class _CompiledFirst:
    compiler: object  # the SQLCompiler that built the SQL: its select and klass_info
    sql: str
    params: list  # the built parameters; the slots' positions are replaced per call
    slots: list[tuple[int, str, Callable]]  # (position, value name, adapter)
    converters: dict
    init_list: list[str]
    fields: tuple[int, int]  # the model's columns: start, end
    populators: list


class PreparedFirst:
    """`build(**markers)` is the queryset (ordered); `markers` name a unique value for
    each parameter a call gives: a str, or an aware datetime (adapted as the database's
    datetimes are). `first(**values)` is `build(**values).first()` without building the
    SQL again."""

    def __init__(self, build: Callable[..., QuerySet], **markers: str | datetime.datetime):
        self._build = build
        self._markers = markers
        self._compiled: dict[str, _CompiledFirst] = {}

    def _compile(self, alias: str) -> _CompiledFirst:
        connection = connections[alias]
        queryset = self._build(**self._markers)[:1]
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = list(params)
        slots = []
        for position, value in enumerate(params):
            for name, marker in self._markers.items():
                if isinstance(marker, datetime.datetime):
                    adapt = connection.ops.adapt_datetimefield_value
                else:
                    adapt = _same
                if value == adapt(marker):
                    slots.append((position, name, adapt))
        if {name for _position, name, _adapt in slots} != set(self._markers):
            raise ValueError("a marker is missing from the built parameters")
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        columns = [s[0] for s in select[0 : compiler.col_count]]
        return _CompiledFirst(
            compiler=compiler,
            sql=sql,
            params=params,
            slots=slots,
            converters=compiler.get_converters(columns),
            init_list=[column[0].target.attname for column in select[start:end]],
            fields=(start, end),
            populators=get_related_populators(klass_info, select, alias),
        )

    def first(self, *, using: str = "default", **values) -> Model | None:
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        params = list(compiled.params)
        for position, name, adapt in compiled.slots:
            params[position] = adapt(values[name])
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        compiler = compiled.compiler
        if compiled.converters:
            row = next(iter(compiler.apply_converters([row], compiled.converters)))
        start, end = compiled.fields
        instance = compiler.klass_info["model"].from_db(using, compiled.init_list, row[start:end])
        for populator in compiled.populators:
            populator.populate(row, instance)
        for name, position in compiler.annotation_col_map.items():
            setattr(instance, name, row[position])
        return instance


def _same(value):
    return value
