"""Cursor pagination with a hard page cap.

Cursors are keyset cursors: an opaque token holding the ordering's values of the row it stands for (its sort
key and its id, the tie-breaker). The next page is the rows after that key in the ordering, read straight from
an index however deep the page: no OFFSET, so page 5,000 of a million customers costs what page 1 does, and a
customer added or removed while someone pages on neither repeats nor skips anyone else. A page is read with one
extra row to know whether another follows; the total comes from one COUNT, run only when asked for.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_
from typing import Any, Generic, TypeVar, overload

from tortoise import fields
from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from domain.errors import DomainError, ErrorCode
from resolvers.platform.db import fetch, row_reader, statement
from settings import SETTINGS

T = TypeVar("T", bound=Model)
Item = TypeVar("Item")
Other = TypeVar("Other")
DEFAULT_PAGE = 20
_VERSION = "k1"
_INT_BITS = {fields.BigIntField: 64, fields.IntField: 32, fields.SmallIntField: 16}
Ordering = Sequence[tuple[str, bool]]  # (field, descending), most significant first, ending with the id


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    count_total: Callable[[], Awaitable[int]]  # counts every result when called: only when someone asks

    def with_items(self, items: list[Other]) -> Page[Other]:
        """The same page holding other items for the same rows (views of the models, in the same order)."""
        return Page(items, self.cursors, self.has_next, self.has_previous, self.count_total)


def _invalid() -> DomainError:
    return DomainError(ErrorCode.INVALID_CURSOR, "分页游标无效", "the cursor is not valid", "after")


def encode_cursor(ordering: Ordering, row: Model | Mapping[str, Any]) -> str:
    if isinstance(row, Mapping):
        values = [_plain(row[name]) for name, _ in ordering]
    else:
        values = [_plain(getattr(row, name)) for name, _ in ordering]
    payload = {"v": _VERSION, "o": [f"-{n}" if d else n for n, d in ordering], "k": values}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def decode_cursor(model: type[Model], ordering: Ordering, cursor: str) -> list[Any]:
    """The key a cursor holds, typed as the model's fields; INVALID_CURSOR for anything we did not issue for
    this ordering (garbage, another ordering's cursor, values of the wrong type)."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid() from None
    expected = [f"-{n}" if d else n for n, d in ordering]
    if not isinstance(payload, dict) or payload.get("v") != _VERSION or payload.get("o") != expected:
        raise _invalid()
    values = payload.get("k")
    if not isinstance(values, list) or len(values) != len(ordering):
        raise _invalid()
    return [_typed(model._meta.fields_map[name], value) for (name, _), value in zip(ordering, values, strict=True)]


def _typed(field: fields.Field[Any], value: Any) -> Any:
    try:
        if isinstance(field, fields.DatetimeField) and isinstance(value, str):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("a cursor's time always carries its zone")
            return moment
        if isinstance(field, fields.DecimalField) and isinstance(value, str):
            return Decimal(value)
        if isinstance(field, (fields.IntField, fields.BigIntField, fields.SmallIntField)) and type(value) is int:
            bits = _INT_BITS.get(type(field), 32)
            if -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
                return value
        if isinstance(field, (fields.CharField, fields.TextField)) and isinstance(value, str):
            return value
    except (ValueError, InvalidOperation):
        pass
    raise _invalid()


def _after(ordering: Ordering, key: list[Any]) -> Q:
    """Rows strictly after `key` in the ordering: (a > x) or (a = x and b > y) or …, each comparison turned
    round for a descending field."""
    alternatives = []
    for position, (name, descending) in enumerate(ordering):
        same = {ordering[i][0]: key[i] for i in range(position)}
        beyond = {f"{name}__{'lt' if descending else 'gt'}": key[position]}
        alternatives.append(Q(**same, **beyond))
    return reduce(or_, alternatives)


def page_size(first: int | None) -> int:
    size = DEFAULT_PAGE if first is None else first
    if size < 0 or size > SETTINGS.page_cap:
        raise DomainError(
            ErrorCode.PAGE_TOO_LARGE,
            f"每页条数须在0到{SETTINGS.page_cap}之间",
            f"first must be between 0 and {SETTINGS.page_cap}",
            "first",
        )
    return size


@overload
async def paginate(
    queryset: QuerySet[T], ordering: Ordering, first: int | None, after: str | None, columns: None = None
) -> Page[T]: ...


@overload
async def paginate(
    queryset: QuerySet[T], ordering: Ordering, first: int | None, after: str | None, columns: Sequence[str]
) -> Page[dict[str, Any]]: ...


async def paginate(
    queryset: QuerySet[T],
    ordering: Ordering,
    first: int | None,
    after: str | None,
    columns: Sequence[str] | None = None,
) -> Page[T] | Page[dict[str, Any]]:
    """One page of queryset in `ordering` (which must end with a unique field, the id), after the cursor: as
    models, or as plain rows of `columns` (which must hold the ordering's fields). The total is not counted
    here: the page's count_total counts it when someone asks for it."""
    size = page_size(first)
    page = queryset
    if after:
        page = page.filter(_after(ordering, decode_cursor(queryset.model, ordering, after)))
    sort = [f"-{n}" if d else n for n, d in ordering]
    ordered = page.order_by(*sort).limit(size + 1)
    rows: list[Any]
    if columns is None:
        rows = list(await ordered)
    else:
        # a deferred join: the sort carries only the keys, then the page's own rows are read whole
        keys = Subquery(ordered.values("id"))
        read = queryset.model.filter(id__in=keys).order_by(*sort).values(*columns)
        sql, params = statement(read)  # the ORM's statement, its rows read as plain values (db.row_reader)
        as_values = row_reader(queryset.model, columns)
        rows = [as_values(row) for row in await fetch(sql, params, read._db)]
    items = rows[:size]
    return Page(
        items=items,
        cursors=[encode_cursor(ordering, row) for row in items],
        has_next=len(rows) > size,
        has_previous=after is not None,
        count_total=queryset.count,
    )
