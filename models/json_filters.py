"""JSON containment (`field__contains=[...]`) on SQLite, which Tortoise implements only for PostgreSQL and MySQL.

Used for the short lists of codes kept in JSON columns (a member of staff's roles): an array contains a code when
its JSON text holds that code as a quoted element. Codes are plain identifiers (no quotes, no backslashes), so
the quoted text can only match a whole element. An array of ids (an application's approvers) contains an id when
SQLite's json_each finds it as an element.
"""

from __future__ import annotations

import json
from functools import reduce
from typing import Any

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Criterion, Term, ValueWrapper
from tortoise.backends.sqlite.executor import SqliteExecutor
from tortoise.filters import json_contains


class _HoldsNumber(Criterion):
    """The JSON array in `field` has the integer `number` as an element."""

    def __init__(self, field: Term, number: int) -> None:
        super().__init__()
        self.field = field
        self.number = int(number)

    def get_sql(self, ctx: SqlContext) -> str:
        return f"EXISTS (SELECT 1 FROM json_each({self.field.get_sql(ctx)}) WHERE value = {self.number})"


def sqlite_json_contains(field: Term, value: Any) -> Criterion:
    wanted = json.loads(value) if isinstance(value, str) else value
    items = wanted if isinstance(wanted, list) else [wanted]
    if not items:
        return field.notnull()
    terms = [
        _HoldsNumber(field, item)
        if isinstance(item, int) and not isinstance(item, bool)
        else field.like(ValueWrapper(f"%{json.dumps(str(item))}%"))  # type: ignore[arg-type]  # pypika takes any term
        for item in items
    ]
    return reduce(lambda a, b: a & b, terms)


SqliteExecutor.FILTER_FUNC_OVERRIDE[json_contains] = sqlite_json_contains
