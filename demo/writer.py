"""Writing a planned county: rows with their ids already given, one bulk insert per table, in one
transaction, into tables that must be empty. A plan hands the writer an ordered list of writes (parents
before children, as the foreign keys need them); a new table is one more write in that list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import JSONField
from tortoise.fields.relational import ManyToManyFieldInstance
from tortoise.models import Model

from demo.errors import DemoDataError
from resolvers.platform.db import dialect, placeholders

Progress = Callable[[str], object]
Columns = dict[str, list[Any]]  # field name: one value per row


@dataclass(frozen=True)
class Objects:
    """Model objects made while planning (others refer to their attributes), created as they are."""

    model: type[Model]
    objects: Sequence[Model]


@dataclass(frozen=True)
class Rows:
    """Plain values, one list per field, for tables too large for an object per row. A JSON field's values are
    the Python values (dicts, lists); the writer encodes them."""

    model: type[Model]
    columns: Columns


class Table:
    """The rows of one table as they are planned, kept as columns: ids run from 1 in the order rows are added,
    and every row gives every column."""

    def __init__(self, *names: str) -> None:
        self.columns: Columns = {"id": [], **{name: [] for name in names}}

    def add(self, **values: Any) -> int:
        if values.keys() != self.columns.keys() - {"id"}:
            raise ValueError(f"a row gives {sorted(values)}, the table has {sorted(self.columns)}")
        row_id = len(self.columns["id"]) + 1
        self.columns["id"].append(row_id)
        for name, value in values.items():
            self.columns[name].append(value)
        return row_id

    def __len__(self) -> int:
        return len(self.columns["id"])


@dataclass(frozen=True)
class Links:
    """Rows of a many-to-many table: (model's id, related id) pairs of model's relation."""

    model: type[Model]
    relation: str
    pairs: Sequence[tuple[int, int]]


Write = Objects | Rows | Links


def tables_of(writes: Sequence[Write]) -> list[type[Model]]:
    """The models whose own tables the writes fill (not the many-to-many tables), in order."""
    return [write.model for write in writes if not isinstance(write, Links)]


async def refuse_unless_empty(conn: BaseDBAsyncClient, models: Sequence[type[Model]]) -> None:
    for model in models:
        if await model.all(using_db=conn).exists():
            table = model._meta.db_table
            raise DemoDataError(
                f"演示数据只能写入空数据库,{table} 表已有数据 / the demo county goes into an empty database, "
                f"but {table} already holds rows"
            )


async def write_all(conn: BaseDBAsyncClient, writes: Sequence[Write], progress: Progress) -> None:
    """Every write in order on conn, then the id sequences moved past the ids written."""
    for write in writes:
        match write:
            case Objects(model, objects):
                progress(f"写入 {model._meta.db_table} {len(objects):,} 行 / writing {len(objects):,} rows")
                await model.bulk_create(objects, using_db=conn)
            case Rows(model, columns):
                count = len(columns["id"])
                progress(f"写入 {model._meta.db_table} {count:,} 行 / writing {count:,} rows")
                await _insert_rows(conn, model, columns)
            case Links(model, relation, pairs):
                await _link(conn, model, relation, pairs)
    await _advance_id_sequences(conn, tables_of(writes))


async def _insert_rows(conn: BaseDBAsyncClient, model: type[Model], columns: Columns) -> None:
    """Insert many rows without a model object per row: 50,000 customers cost about 8 s as Customer objects
    (validation and conversion of every field), about 3 s as plain values, which both drivers take as they
    are. Fields not given get what Tortoise gives a new object (defaults, auto_now timestamps), worked out
    once on a template object made from the first row."""
    count = len(columns["id"])
    if count == 0:
        return
    template = model(**{name: values[0] for name, values in columns.items()})
    names, values = [], []
    for field_name, column in model._meta.fields_db_projection.items():
        names.append(column)
        field = model._meta.fields_map[field_name]
        if field_name in columns and isinstance(field, JSONField):
            values.append([field.to_db_value(value, template) for value in columns[field_name]])
        elif field_name in columns:
            values.append(columns[field_name])
        else:
            default = field.to_db_value(getattr(template, field_name), template)
            values.append([default] * count)
    markers = ", ".join(placeholders(conn, 0, len(names)))
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) VALUES ({markers})"
    await conn.execute_many(sql, [list(row) for row in zip(*values, strict=True)])


async def _link(conn: BaseDBAsyncClient, model: type[Model], relation: str, pairs: Sequence[tuple[int, int]]) -> None:
    """Rows of a many-to-many table, which has no model to bulk-create."""
    m2m = cast(ManyToManyFieldInstance[Any], model._meta.fields_map[relation])
    values = ", ".join(placeholders(conn, 0, 2))
    sql = f"INSERT INTO {m2m.through} ({m2m.backward_key}, {m2m.forward_key}) VALUES ({values})"
    await conn.execute_many(sql, [list(pair) for pair in pairs])


async def _advance_id_sequences(conn: BaseDBAsyncClient, models: Sequence[type[Model]]) -> None:
    """The rows were inserted with their ids; PostgreSQL's serial sequences do not notice, so move them past
    the ids used. SQLite's AUTOINCREMENT follows the largest id by itself. A table keyed by its content (a
    decision file by its hash) has no sequence."""
    if dialect(conn) != "postgres":
        return
    for model in models:
        if not model._meta.pk.generated:
            continue
        table = model._meta.db_table
        await conn.execute_query(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
        )
