"""Queries built with the ORM once per process and run many times with new values, for
hot paths whose queryset costs far more to build and compile than to run: a row
annotated with a dozen subqueries takes the ORM milliseconds to build each time and
PostgreSQL a fraction of one to answer.

The query is written as usual, as a function of named values (`build(user_id=...,
today=...)` returning a queryset), so its rules stay where they are written.
It is built twice with two sets of stand-in values; the SQL must come out the same and
the parameters differ only where the stand-ins went, which catches a query that works
something out from a value (`today - 365 days` must be passed in as a value of its own)
or writes it into the SQL text. Each run then sends that SQL with the real values in
those places, and reads the rows back through the ORM's own converters, in one of two
forms: `.rows()`, dicts as a `.values()` queryset gives them, or `.first()`, the first
row as the model instance `.first()` gives (with its select_related objects and
annotations).

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
from django.db.models.query import ModelIterable, get_related_populators
from django.utils import timezone


def _stand_ins(kinds: dict[str, type], offset: int) -> dict[str, Any]:
    """A value of each kind no real query passes: years long gone, ids far past any,
    strings no one writes."""
    values: dict[str, Any] = {}
    for number, (name, kind) in enumerate(sorted(kinds.items()), start=1):
        step = offset * 100 + number
        if kind is int:
            values[name] = 1_900_000_000_000 + step
        elif kind is str:
            values[name] = f"prepared-stand-in-{step}"
        elif kind is datetime.datetime:
            values[name] = datetime.datetime(1901, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
                days=step, seconds=step
            )
        elif kind is datetime.date:
            values[name] = datetime.date(1901, 1, 1) + datetime.timedelta(days=step)
        else:
            raise TypeError(f"{name}: only int, str, date and datetime values are prepared")
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
    names: list[str]  # the columns' names, for dict rows
    # For model instances: the model's columns (start, end), their attnames, and the
    # populators of the select_related objects.
    fields: tuple[int, int] | None = None
    init_list: list[str] | None = None
    populators: list | None = None


def _cursor(connection):
    """A cursor of Django's (checked, wrapped, logged like any other); on PostgreSQL one
    that binds values on the server, so that psycopg may prepare the statement."""
    cursor = connection.cursor()
    if connection.vendor == "postgresql":
        from django.db.backends.postgresql.base import ServerBindingCursor

        cursor.cursor.close()
        cursor.cursor = ServerBindingCursor(connection.connection)
    return cursor


ROWS, FIRST = "rows", "first"


class PreparedQuery:
    """`PreparedQuery(build, user_id=int, today=datetime.date)` (values of the kinds int,
    str, date or aware datetime); then `.rows(user_id=..., today=...)` gives the rows as
    dicts, as `build(...)` gives them when it is a `.values()` queryset, and
    `.first(user_id=..., today=...)` the first row as a model instance, as
    `build(...).first()` gives it when it is a queryset of a model."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: type) -> None:
        self.build = build
        self.kinds = kinds
        # By connection, then by form (ROWS, FIRST).
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _built(self, form: str, values: dict[str, Any]) -> QuerySet:
        queryset = self.build(**values)
        if form == FIRST:  # as QuerySet.first() limits it
            if queryset._iterable_class is not ModelIterable:
                raise TypeError("first() builds a model instance: give a queryset of a model")
            queryset = (queryset if queryset.ordered else queryset.order_by("pk"))[:1]
        return queryset

    def _compile(self, connection, alias: str, form: str) -> _Compiled:
        first, second = _stand_ins(self.kinds, 1), _stand_ins(self.kinds, 2)
        compiler = self._built(form, first).query.get_compiler(alias)
        sql, params = compiler.as_sql()
        other_sql, other_params = self._built(form, second).query.get_compiler(alias).as_sql()
        if sql != other_sql or len(params) != len(other_params):
            raise ValueError("the query's SQL changes with its values: pass them as values")
        slots = []
        for position, (param, other) in enumerate(zip(params, other_params, strict=True)):
            found = [
                (position, name, adapt)
                for name, kind in self.kinds.items()
                for adapt in _forms(connection, kind)
                if param == adapt(first[name]) and other == adapt(second[name])
            ]
            if found:
                slots.append(found[0])
            elif param != other:
                raise ValueError(
                    f"parameter {position} is worked out from a value: pass it as a value"
                )
        missing = set(self.kinds) - {name for _position, name, _adapt in slots}
        if missing:
            raise ValueError(f"values the query does not use: {', '.join(sorted(missing))}")
        query, select = compiler.query, compiler.select
        # The columns' names as QuerySet.values() reads them (ValuesIterable).
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        converters = compiler.get_converters([c[0] for c in select[: compiler.col_count]])
        compiled = _Compiled(sql, list(params), slots, compiler, converters, names)
        if form == FIRST:
            klass_info = compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            compiled.fields = (start, end)
            compiled.init_list = [column[0].target.attname for column in select[start:end]]
            compiled.populators = get_related_populators(klass_info, select, alias)
        return compiled

    def _fetch(self, form: str, using: str, values: dict[str, Any]) -> tuple[_Compiled, list]:
        if set(values) != set(self.kinds):
            raise TypeError(f"expected the values {sorted(self.kinds)}, got {sorted(values)}")
        connection = connections[using]
        compiled = self._compiled.get(connection, {}).get(form)
        if compiled is None:
            with self._lock:
                forms = self._compiled.setdefault(connection, {})
                compiled = forms.get(form) or forms.setdefault(
                    form, self._compile(connection, using, form)
                )
        params = list(compiled.params)
        for position, name, adapt in compiled.slots:
            value = values[name]
            if isinstance(value, datetime.datetime) and timezone.is_naive(value):
                raise ValueError(f"{name}: an aware datetime is expected")
            params[position] = adapt(value)
        with _cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        if compiled.converters:
            fetched = list(compiled.compiler.apply_converters(fetched, compiled.converters))
        return compiled, fetched

    def rows(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[dict]:
        compiled, fetched = self._fetch(ROWS, using, values)
        return [dict(zip(compiled.names, row, strict=True)) for row in fetched]

    def first(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> Model | None:
        compiled, fetched = self._fetch(FIRST, using, values)
        if not fetched:
            return None
        row, compiler = fetched[0], compiled.compiler
        start, end = compiled.fields
        instance = compiler.klass_info["model"].from_db(using, compiled.init_list, row[start:end])
        for populator in compiled.populators:
            populator.populate(row, instance)
        for name, position in compiler.annotation_col_map.items():
            setattr(instance, name, row[position])
        return instance
