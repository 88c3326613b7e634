"""A read whose SQL is built once per process. Django builds a queryset's SQL anew each
time it is evaluated, which for a query with joins and subqueries takes longer than
PostgreSQL takes to answer it. For the hottest reads only (the partner score query): the
SQL is built once, from the same queryset, with marker values where each call's values
go; each call runs it with its own values and builds the model instance as the ORM does
(select_related objects and annotations included)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators


@dataclass(frozen=True)
class _Compiled:
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
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
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
        return _Compiled(
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
