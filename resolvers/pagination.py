"""Cursor pagination with a hard page cap. Cursors are opaque offsets; a page is read with one extra row to
know whether another page follows, and the total comes from one COUNT."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from tortoise.queryset import QuerySet

from domain.errors import DomainError, ErrorCode
from settings import SETTINGS

T = TypeVar("T")
DEFAULT_PAGE = 20
MAX_OFFSET = 10_000_000  # no list is that long; a larger offset is a cursor we never issued


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: int


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        offset = -1
        kind = ""
    if kind != "o" or not 0 <= offset <= MAX_OFFSET:
        raise DomainError(ErrorCode.INVALID_CURSOR, "分页游标无效", "the cursor is not valid", "after")
    return offset


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


async def paginate(queryset: QuerySet[T], first: int | None, after: str | None) -> Page[T]:  # type: ignore[type-var]
    size = page_size(first)
    start = decode_cursor(after) + 1 if after else 0
    rows = await queryset.offset(start).limit(size + 1)
    total = await queryset.count()
    items = list(rows[:size])
    return Page(
        items=items,
        cursors=[encode_cursor(start + i) for i in range(len(items))],
        has_next=len(rows) > size,
        has_previous=start > 0,
        total=total,
    )
