"""Raw SQL that works on both SQLite and PostgreSQL: placeholders differ, the rest is kept portable."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

import asyncpg
from tortoise import connections, fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.fields.base import Field
from tortoise.fields.data import CharEnumFieldInstance
from tortoise.models import Model
from tortoise.queryset import AwaitableQuery
from tortoise.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator


def connection() -> BaseDBAsyncClient:
    return cast(BaseDBAsyncClient, connections.get("default"))


def dialect(conn: BaseDBAsyncClient | None = None) -> str:
    return str((conn or connection()).capabilities.dialect)


def placeholders(conn: BaseDBAsyncClient, start: int, count: int) -> list[str]:
    """Positional placeholders for the connection's driver: ? for SQLite, $n for asyncpg."""
    if dialect(conn) == "postgres":
        return [f"${i}" for i in range(start + 1, start + count + 1)]
    return ["?"] * count


async def fetch(sql: str, params: Sequence[Any] = (), conn: BaseDBAsyncClient | None = None) -> list[dict[str, Any]]:
    conn = conn or connection()
    return list(await conn.execute_query_dict(sql, list(params)))


def any_of(conn: BaseDBAsyncClient, column: str, values: Sequence[Any], start: int = 0) -> tuple[str, list[Any]]:
    """`column` equal to one of values, for a statement whose parameters before it number `start`: one array
    parameter on PostgreSQL (the same short text, whatever the count: nothing for the ORM to build value by
    value, nothing new to prepare), an IN list on SQLite. Returns the condition and its parameters."""
    if dialect(conn) == "postgres":
        return f"{column} = ANY(${start + 1})", [list(values)]
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def statement(query: AwaitableQuery[Any]) -> tuple[str, list[Any]]:
    """The SQL and parameters the ORM would run for a query, to wrap in a statement of our own (a derived
    table) while the query's filters stay the ORM's — the access policies' own filters included."""
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    return sql, list(params)


INSERT_BATCH = 1000


async def insert_rows(
    model: type[Model], rows: Sequence[Mapping[str, Any]], conn: BaseDBAsyncClient | None = None
) -> None:
    """Insert plain rows (field name → value, every column but the id), each value as the ORM would write it:
    for a batch job's thousands of history and audit rows, without building a model object for each (which
    costs more than the database's work). On PostgreSQL the rows go in by COPY on the connection's own
    transaction (one round trip however many, no statement to prepare), on SQLite in multi-row INSERTs."""
    if not rows:
        return
    conn = conn or connection()
    if dialect(conn) != "postgres":
        await _multi_row_insert(model, rows, conn, returning=False)
        return
    meta = model._meta
    names = list(rows[0])
    converting = [(n, _to_db(model, meta.fields_map[n])) for n in names]
    records = [tuple([convert(row[n]) for n, convert in converting]) for row in rows]
    columns = [meta.fields_db_projection[n] for n in names]
    try:
        async with conn.acquire_connection() as raw:
            await raw.copy_records_to_table(meta.db_table, records=records, columns=columns)
    except asyncpg.IntegrityConstraintViolationError as exc:  # as the ORM's own statements report it
        raise IntegrityError(exc) from exc
    except (asyncpg.SyntaxOrAccessError, asyncpg.exceptions.DataError) as exc:
        raise OperationalError(exc) from exc


async def insert_rows_returning_ids(
    model: type[Model], rows: Sequence[Mapping[str, Any]], conn: BaseDBAsyncClient | None = None
) -> list[int]:
    """insert_rows for rows whose new ids the caller needs (to push them, say), the ids in the order of the rows.
    On PostgreSQL the ids are drawn from the table's sequence in one statement and the rows go in by COPY with
    them (a thousand households' surveys: 0.1 s less than reading their ids back after the COPY); on SQLite by
    multi-row INSERT … RETURNING."""
    if not rows:
        return []
    conn = conn or connection()
    if dialect(conn) != "postgres":
        return await _multi_row_insert(model, rows, conn, returning=True)
    meta = model._meta
    drawn = await fetch(
        f"SELECT nextval(pg_get_serial_sequence('{meta.db_table}', '{meta.db_pk_column}')) AS id "
        "FROM generate_series(1, $1)",
        [len(rows)],
        conn,
    )
    ids = [int(row["id"]) for row in drawn]
    await insert_rows(model, [{meta.pk_attr: new_id, **row} for new_id, row in zip(ids, rows, strict=True)], conn)
    return ids


async def _multi_row_insert(
    model: type[Model], rows: Sequence[Mapping[str, Any]], conn: BaseDBAsyncClient, *, returning: bool
) -> list[int]:
    """INSERT … VALUES of INSERT_BATCH rows a statement; with `returning`, the new ids in the order of the rows
    (a sequence hands them out in the order of the VALUES)."""
    meta = model._meta
    names = list(rows[0])
    quoted = ", ".join(f'"{meta.fields_db_projection[n]}"' for n in names)
    converters = [_to_db(model, meta.fields_map[n]) for n in names]
    width, key = len(names), meta.db_pk_column
    ids: list[int] = []
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        marks = placeholders(conn, 0, width * len(batch))
        values = ", ".join(f"({', '.join(marks[i * width : (i + 1) * width])})" for i in range(len(batch)))
        params = [c(row[n]) for row in batch for n, c in zip(names, converters, strict=True)]
        sql = f"INSERT INTO {meta.db_table} ({quoted}) VALUES {values}"
        if returning:
            ids += sorted(int(r[key]) for r in await conn.execute_query_dict(f'{sql} RETURNING "{key}"', params))
        else:
            await conn.execute_query(sql, params)
    return ids


# Fields whose database value is the Python value itself when it already has the field's type: those values
# skip the ORM's conversion and built-in validators (a text's length is checked here; an integer's range the
# database checks anyway), the bulk of a batch's cost. A field with validators of its own always goes through
# the ORM.
_PLAIN_FIELDS = (
    fields.IntField,
    fields.BigIntField,
    fields.SmallIntField,
    fields.BooleanField,
    fields.TextField,
    fields.FloatField,
)
_BUILT_IN_VALIDATORS = (MaxLengthValidator, MinValueValidator, MaxValueValidator)


def _to_db(model: type[Model], field: Field[Any]) -> Callable[[Any], Any]:
    convert = field.to_db_value
    if not all(type(v) in _BUILT_IN_VALIDATORS for v in field.validators):
        return lambda value: convert(value, model)
    if type(field) in _PLAIN_FIELDS:
        plain = field.field_type
        return lambda value: value if value is None or type(value) is plain else convert(value, model)
    if type(field) is fields.JSONField:
        encode = field.encoder  # a dict or a list straight to its text; anything else as the ORM checks it
        return lambda value: encode(value) if type(value) in (dict, list) else convert(value, model)
    if type(field) is fields.CharField:
        longest = field.max_length
        return lambda value: value if type(value) is str and len(value) <= longest else convert(value, model)
    if type(field) is fields.DatetimeField:  # an aware time is written as it is (the ORM only fixes naive ones)
        return lambda value: value if type(value) is datetime and value.tzinfo is not None else convert(value, model)
    if type(field) is fields.DecimalField:  # a Decimal as it is (its digits the database checks)
        return lambda value: value if type(value) is Decimal else convert(value, model)
    if isinstance(field, CharEnumFieldInstance):  # one of the enum's members: its value, short by construction
        members = field.enum_type
        return lambda value: value.value if isinstance(value, members) else convert(value, model)
    return lambda value: convert(value, model)


def row_reader(model: type[Model], columns: Sequence[str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Turns a raw row of the model's table (those columns, as `fetch` gives them) into the values the ORM
    would give, in place, without building the query or the models: what a hot read needs. Whole numbers and
    text are kept as the drivers give them; a decimal, a date or a time already of its type is kept (as
    PostgreSQL's are), SQLite's text of one parsed; a flag, an enum and anything else converted as the ORM
    converts them."""
    return _row_reader(model, tuple(columns))


@lru_cache(maxsize=64)
def _row_reader(model: type[Model], columns: tuple[str, ...]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    fields_map = model._meta.fields_map
    converters = [(c, f) for c in columns if (f := _from_db(fields_map[c])) is not None]

    def read(row: dict[str, Any]) -> dict[str, Any]:
        for column, convert in converters:
            value = row[column]
            if value is not None:
                row[column] = convert(value)
        return row

    return read


_AS_GIVEN = (fields.IntField, fields.BigIntField, fields.SmallIntField, fields.CharField, fields.TextField)


def _from_db(field: Field[Any]) -> Callable[[Any], Any] | None:
    """How to read a (not null) value of the field, or None to keep it as the driver gives it."""
    kind = type(field)
    if kind in _AS_GIVEN:
        return None
    convert = field.to_python_value
    if isinstance(field, CharEnumFieldInstance):
        members = field.enum_type
        return lambda value: members(value) if type(value) is str else convert(value)
    plain: type
    parse: Callable[[str], Any]
    if kind is fields.FloatField:
        return lambda value: value if type(value) is float else convert(value)
    if kind is fields.BooleanField:
        return lambda value: value if type(value) is bool else convert(value)
    if kind is fields.DecimalField:
        plain, parse = Decimal, Decimal
    elif kind is fields.DateField:
        plain, parse = date, date.fromisoformat
    elif kind is fields.DatetimeField:
        plain, parse = datetime, _parse_time
    else:
        return convert
    return lambda value: value if type(value) is plain else parse(value) if type(value) is str else convert(value)


def _parse_time(text: str) -> datetime:
    """SQLite's text of a time the ORM wrote (aware, in UTC); a naive one is taken as UTC, as the ORM does."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
