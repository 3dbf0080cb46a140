"""Reads whose SQL Django builds once per process: ``prepared(queryset, "name")``.

Building a SELECT's SQL (the compiler's ``as_sql``: columns, joins, ordering) costs more CPU than
running it: for a cart's lines with their variants and products, 1.8 ms to build against 0.5 ms to
run and fetch (measured in process on PostgreSQL), and a chat message runs several such reads. A
prepared queryset remembers its SQL and the compiler's column map the first time, and afterwards
builds only its WHERE clause (whose parameters change from call to call) and reuses the rest.

What is remembered is keyed by the given name, the query's shape (its select, joins, ordering,
limits, locking, annotations: read from the query, so ``.first()``, ``.count()`` or a prefetch's
filter each get their own entry) and the WHERE clause's SQL text. A query whose SQL carries parameters
outside its WHERE clause is never remembered (it is built every time, as without this). The name
says "this queryset expression": one name for one line of code. ``VERIFY`` (on in the test suite)
builds every remembered query again and fails loudly if the SQL or parameters differ.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections, router
from django.db.models import ForeignKey, Model, Prefetch, QuerySet, prefetch_related_objects
from django.db.models.constants import LOOKUP_SEP
from django.db.models.fields.related_descriptors import ManyToManyDescriptor, ReverseManyToOneDescriptor
from django.db.models.query import ModelIterable, get_related_populators  # type: ignore[attr-defined]  # Django's own row loader, not in the stubs
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.query import Query
from django.db.transaction import TransactionManagementError

Q = TypeVar("Q", bound=QuerySet[Any, Any])
M = TypeVar("M", bound=Model)

# Set by the test suite (conftest.py): every use of a remembered query is checked against a fresh build.
VERIFY = False

_remembered: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_remembered_lock = threading.Lock()
# A process remembers at most this many shapes (a name whose WHERE text keeps changing, e.g. IN lists of
# every length, stops being remembered rather than growing without end).
MAX_REMEMBERED = 2048


class PreparedQuery(Query):
    """A ``Query`` whose SELECT compilers reuse their SQL (see the module docstring)."""

    prepared_name: str = ""

    def get_compiler(self, using: Any = None, connection: Any = None, elide_empty: bool = True) -> Any:
        compiler = super().get_compiler(using, connection, elide_empty)
        if type(compiler).as_sql is SQLCompiler.as_sql:  # a plain SELECT (not an insert, update, delete)
            _remember_sql(compiler, self.prepared_name)
        return compiler


def prepared(queryset: Q, name: str) -> Q:
    """``queryset``, whose SELECT SQL is built once per process and shape (see the module docstring)."""
    chained = queryset.all()
    chained.query.__class__ = PreparedQuery
    chained.query.prepared_name = name  # type: ignore[attr-defined]  # set on the class swapped in above
    return chained


def _shape(query: Query) -> tuple[Any, ...]:
    """What besides the WHERE clause decides a SELECT's SQL, read from the query without building it."""
    return (
        query.model,
        tuple(query.alias_map),
        tuple(getattr(join, "join_type", None) for join in query.alias_map.values()),
        repr(query.select_related),
        query.values_select,
        tuple(query.annotation_select),
        len(query.select),  # the values' columns are named by values_select
        query.deferred_loading[0] and tuple(sorted(query.deferred_loading[0])),
        query.deferred_loading[1],
        query.order_by,
        query.extra_order_by,
        query.default_ordering,
        query.standard_ordering,
        query.low_mark,
        query.high_mark,
        query.distinct,
        query.distinct_fields,
        query.select_for_update,
        query.select_for_update_nowait,
        query.select_for_update_skip_locked,
        query.select_for_update_of,
        query.group_by is not None,
        query.combinator,
        bool(query.extra),
    )


def _remember_sql(compiler: SQLCompiler, name: str) -> None:
    build = compiler.as_sql

    def as_sql(with_limits: bool = True, with_col_aliases: bool = False) -> tuple[str, Any]:
        try:
            where_sql, where_params = compiler.compile(compiler.query.where)  # type: ignore[arg-type]  # a WhereNode compiles like an expression
        except (EmptyResultSet, FullResultSet):  # nothing or everything matches: the full build says how
            return build(with_limits=with_limits, with_col_aliases=with_col_aliases)
        key = (name, compiler.using, with_limits, with_col_aliases, where_sql, _shape(compiler.query))
        entry = _remembered.get(key)
        if entry is None:
            sql, params = build(with_limits=with_limits, with_col_aliases=with_col_aliases)
            if tuple(params) == tuple(where_params) and len(_remembered) < MAX_REMEMBERED:
                with _remembered_lock:
                    _remembered[key] = (
                        sql,
                        compiler.select,
                        compiler.klass_info,
                        compiler.annotation_col_map,
                        compiler.col_count,
                        compiler.has_extra_select,
                    )
            return sql, params
        sql, select, klass_info, annotation_col_map, col_count, has_extra_select = entry
        params = tuple(where_params)
        if VERIFY:
            fresh = build(with_limits=with_limits, with_col_aliases=with_col_aliases)
            if fresh[0] != sql or tuple(fresh[1]) != params:
                raise AssertionError(
                    f"prepared query {name!r} differs from a fresh build:\n{sql}\n{fresh[0]}"
                )
        compiler.select, compiler.klass_info, compiler.annotation_col_map = (
            select,
            klass_info,
            annotation_col_map,
        )
        compiler.col_count, compiler.has_extra_select = col_count, has_extra_select
        return sql, params

    compiler.as_sql = as_sql  # type: ignore[method-assign]  # this compiler only


class PreparedRead(Generic[M]):
    """A read of fixed shape that Django builds once per process and database, not once per call:
    ``ROWS = PreparedRead("name", lambda pk: Model.objects.filter(pk=pk).select_related(...)[:1])``,
    then ``ROWS.first(pk)`` or ``ROWS.all(pk)``.

    :func:`prepared` still builds the queryset (``filter``, ``select_related``, cloning) and its WHERE
    clause on every call, and Django's row loading works out the columns' converters and the related
    models' setters for every query: about three quarters of the CPU of a one-row read with two joined
    models on PostgreSQL (measured: 430-560 µs a read against 150 µs this way). Here the queryset is
    built on the first call only; later calls bind their arguments to the remembered SQL and turn rows
    into model instances with the remembered column map, as Django's ``ModelIterable`` does
    (``Model.from_db``, ``select_related`` populators, annotations), then run the queryset's
    ``prefetch_related`` lookups.

    The builder's arguments must be plain ints or strs that reach the SQL as its parameters (a primary
    key, not a model; a string, not a lazy object), in any order, beside constants of the builder's own:
    the first call builds once more with probe values to tell which parameter is which. A builder whose
    parameters are anything else (an IN list, ``None`` becoming ``IS NULL``, a value Django derives,
    SQL that changes with the values), or a call with an int past 32 bits, runs through the ORM.
    ``VERIFY`` (on in the test suite) builds every call's query again and fails loudly if its SQL or
    parameters differ from the remembered ones. Reads of model instances only (not ``values()``), and
    the database is the router's for the model, as the queryset's own would be.
    """

    def __init__(self, name: str, build: Callable[..., QuerySet[M]]) -> None:
        self.name = name
        self.build = build
        self._for_write = False  # a locking read goes to the router's database for writes
        self._model: type[M] | None = None  # known from the first build (set after _for_write)
        self._compiled: dict[str, _CompiledRead | None] = {}

    def first(self, *args: Any) -> M | None:
        rows = self.all(*args)
        return rows[0] if rows else None

    def all(self, *args: Any) -> list[M]:
        return self._read(None, args)

    def _read(self, given: str | None, args: tuple[Any, ...]) -> list[M]:
        """The rows, from the database ``given`` or (None) the router's for the model."""
        queryset = None
        if self._model is None:
            queryset = self.build(*args)
            self._for_write, self._model = queryset._for_write, queryset.model  # type: ignore[attr-defined]  # QuerySet's own flag (set by select_for_update)
        alias = given or (router.db_for_write if self._for_write else router.db_for_read)(self._model)
        compiled = self._compiled.get(alias, _UNKNOWN)
        if compiled is _UNKNOWN:
            queryset = queryset if queryset is not None else self.build(*args)
            compiled = self._compiled[alias] = _compile_read(self.name, self.build, queryset, alias, args)
        if compiled is None or any(type(arg) is int and not _INT32_MIN <= arg <= _INT32_MAX for arg in args):
            # Not of a shape this can replay, or an int past some column's range (Django answers a lookup
            # past its column's range without asking the database, which would raise): the ORM.
            queryset = queryset if queryset is not None else self.build(*args)
            return list(queryset.using(given) if given else queryset)
        if VERIFY:
            _verify_read(self, compiled, alias, args)
        return compiled.rows(alias, args)


_UNKNOWN: Any = object()
_Source = tuple[int | None, Callable[[Any], Any] | None, Any]  # see _CompiledRead.parameters
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True)
class _CompiledRead:
    """What a :class:`PreparedRead` remembers of one database's build of its query."""

    sql: str
    # Where each of the SQL's parameters comes from: the call's argument at that index (wrapped in the
    # type the backend gives it, e.g. psycopg's ``Int2`` for a small integer column), or a constant of
    # the builder's own (``is_active=True``).
    parameters: tuple[_Source, ...]
    for_update: bool
    model: type[Model]
    init_list: list[str]
    model_fields: slice
    converters: dict[int, tuple[list[Any], Any]]
    related_populators: list[Any]
    annotation_col_map: dict[str, int]
    prefetch_lookups: tuple[Any, ...]
    # The same lookups replayed for one row, each a read built once (None: some lookup is not of a kind
    # :class:`_RelatedRows` replays, so every read runs Django's prefetch).
    replayed_prefetches: tuple[_RelatedRows, ...] | None

    def params(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            constant if index is None else args[index] if wrap is None else wrap(args[index])
            for index, wrap, constant in self.parameters
        )

    def rows(self, alias: str, args: tuple[Any, ...]) -> list[Any]:
        connection = connections[alias]
        if self.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params(args))
            fetched = cursor.fetchall()
        instances = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for position, (converters, expression) in self.converters.items():
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
            instance = self.model.from_db(alias, self.init_list, row[self.model_fields])
            for populator in self.related_populators:
                populator.populate(row, instance)
            for attribute, position in self.annotation_col_map.items():
                setattr(instance, attribute, row[position])
            instances.append(instance)
        if self.prefetch_lookups and instances:
            if len(instances) == 1 and self.replayed_prefetches is not None:
                for related in self.replayed_prefetches:
                    related.attach(instances[0])
            else:
                prefetch_related_objects(instances, *self.prefetch_lookups)
        return instances


@dataclass(frozen=True)
class _RelatedRows:
    """A prefetch of one row's reverse foreign key (``product.variants``) replayed as a read of its own
    (``WHERE product_id = %s``, built once) and attached as Django's prefetch attaches it: the related
    manager's queryset holding the rows, each row's foreign key pointing at the instance. Django builds
    the prefetch's query (``IN`` its instances) anew for every read: for one product and its variants,
    more CPU than the product's own replayed read."""

    lookup: Prefetch[Any, Any, Any]
    field: ForeignKey[Any, Any]  # on the related model, pointing at the instance's key
    rows: PreparedRead[Any]

    @classmethod
    def of(cls, model: type[Model], lookup: Any, name: str) -> _RelatedRows | None:
        """``lookup`` on ``model`` replayed, or None when it is not a plain reverse foreign key: nested,
        ``to_attr``, many-to-many, a sliced queryset, one with prefetches or a database of its own."""
        lookup = lookup if isinstance(lookup, Prefetch) else Prefetch(lookup)
        descriptor = getattr(model, lookup.prefetch_through, None)
        queryset = lookup.queryset
        if (
            LOOKUP_SEP in lookup.prefetch_through
            or lookup.to_attr is not None
            or not isinstance(descriptor, ReverseManyToOneDescriptor)
            or isinstance(descriptor, ManyToManyDescriptor)
            or not isinstance(descriptor.field, ForeignKey)
            or descriptor.field.target_field != model._meta.pk
            or (
                queryset is not None
                and (
                    queryset.query.is_sliced or queryset._prefetch_related_lookups or queryset._db is not None
                )
            )
        ):
            return None
        field = descriptor.field
        base = queryset if queryset is not None else field.model._default_manager.get_queryset()
        attname = field.attname
        rows = PreparedRead(f"{name}/{lookup.prefetch_to}", lambda pk: base.filter(**{attname: pk}))
        return cls(lookup=lookup, field=field, rows=rows)

    def attach(self, instance: Model) -> None:
        db = router.db_for_read(self.field.model, instance=instance)
        related = self.rows._read(db, (instance.pk,))
        for row in related:
            if not self.field.is_cached(row):  # a select_related of the same key keeps its own instance
                self.field.set_cached_value(row, instance)
        manager = getattr(instance, self.lookup.prefetch_to)
        queryset = (
            manager._apply_rel_filters(self.lookup.queryset)
            if self.lookup.queryset is not None
            else manager.get_queryset()
        )
        queryset._result_cache = related
        queryset._prefetch_done = True
        if not hasattr(instance, "_prefetched_objects_cache"):
            instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]  # Django's own cache, set as its prefetch sets it
        instance._prefetched_objects_cache[self.field.remote_field.cache_name] = queryset  # type: ignore[attr-defined]  # as above


def _compile_read(
    name: str, build: Callable[..., QuerySet[Any]], queryset: QuerySet[Any], alias: str, args: tuple[Any, ...]
) -> _CompiledRead | None:
    """The query's remembered build, or None when it cannot be replayed from the builder's arguments."""
    if queryset._iterable_class is not ModelIterable or queryset._known_related_objects:  # type: ignore[attr-defined]  # QuerySet internals the stubs leave out
        return None
    compiler = queryset.query.get_compiler(using=alias)
    try:
        sql, params = compiler.as_sql()
        parameters = _parameter_sources(build, alias, sql, tuple(params), args)
    except (EmptyResultSet, FullResultSet):
        return None
    if parameters is None:
        return None
    select, klass_info = compiler.select, compiler.klass_info
    assert klass_info is not None  # a model read always has one
    fields = [column[0] for column in select[0 : compiler.col_count]]
    if compiler.has_composite_fields(fields):
        return None
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    lookups = tuple(queryset._prefetch_related_lookups)  # type: ignore[attr-defined]  # as above
    replays = [_RelatedRows.of(klass_info["model"], lookup, name) for lookup in lookups]
    replayed = tuple(r for r in replays if r is not None)
    # Every lookup replayable, each name once (a name twice: Django's prefetch says which wins, or refuses).
    replayable = len({r.lookup.prefetch_to for r in replayed}) == len(replays)
    return _CompiledRead(
        sql=sql,
        parameters=parameters,
        # As the compiler checks it: only where the database locks rows (not SQLite).
        for_update=queryset.query.select_for_update and compiler.connection.features.has_select_for_update,
        model=klass_info["model"],
        init_list=[column[0].target.attname for column in select[start:end]],
        model_fields=slice(start, end),
        converters=compiler.get_converters(fields),
        related_populators=get_related_populators(klass_info, select, alias),
        annotation_col_map=dict(compiler.annotation_col_map or {}),
        prefetch_lookups=lookups,
        replayed_prefetches=replayed if replayable else None,
    )


def _parameter_sources(
    build: Callable[..., QuerySet[Any]], alias: str, sql: str, params: tuple[Any, ...], args: tuple[Any, ...]
) -> tuple[_Source, ...] | None:
    """Which of the SQL's parameters are which of the builder's arguments, and which are its constants:
    the query is built once more with other arguments (of the same types, unlike each other and any
    real value); a parameter that moved with them is the argument it equals, one that stayed is a
    constant. None when that cannot be told (an argument that is not a plain int or str, SQL that
    changes with the values, a parameter Django derived from an argument, an argument not used)."""
    if any(type(arg) not in (int, str) for arg in args):  # not bool, models, lazy strings, None
        return None
    # Ints inside every integer column's range, positive ones too (Django answers a lookup past a
    # column's range without SQL); strings no one types.
    probes = tuple(
        30011 + index if type(arg) is int else f"\x00prepared-probe-{index}" for index, arg in enumerate(args)
    )
    if any(probe == arg for probe, arg in zip(probes, args, strict=True)):
        return None
    probe_sql, probe_params = build(*probes).query.get_compiler(using=alias).as_sql()
    if probe_sql != sql or len(probe_params) != len(params):
        return None
    sources: list[_Source] = []
    for value, probed in zip(params, probe_params, strict=True):
        if probed in probes:  # an argument, as given or in a type of the backend's that equals it
            index = probes.index(probed)
            wrap = None if type(value) is type(args[index]) else type(value)
            if value != args[index] or type(probed) is not type(value) or not isinstance(value, (int, str)):
                return None
            sources.append((index, wrap, None))
        elif probed == value and type(probed) is type(value):
            sources.append((None, None, value))
        else:
            return None
    if {index for index, _, _ in sources if index is not None} != set(range(len(args))):
        return None
    return tuple(sources)


def _verify_read(read: PreparedRead[Any], compiled: _CompiledRead, alias: str, args: tuple[Any, ...]) -> None:
    fresh_sql, fresh_params = read.build(*args).query.get_compiler(using=alias).as_sql()
    if fresh_sql != compiled.sql or tuple(fresh_params) != compiled.params(args):
        raise AssertionError(
            f"prepared read {read.name!r} differs from a fresh build:\n{compiled.sql} {args}\n"
            f"{fresh_sql} {fresh_params}"
        )
