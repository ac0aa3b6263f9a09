"""JSON containment (`field__contains=[...]`) on SQLite, which Tortoise implements only for PostgreSQL and MySQL.

Used for the short lists of codes kept in JSON columns (a member of staff's roles): an array contains a code when
its JSON text holds that code as a quoted element. Codes are plain identifiers (no quotes, no backslashes), so
the quoted text can only match a whole element.
"""

from __future__ import annotations

import json
from functools import reduce
from typing import Any

from pypika_tortoise.terms import Criterion, Term, ValueWrapper
from tortoise.backends.sqlite.executor import SqliteExecutor
from tortoise.filters import json_contains


def sqlite_json_contains(field: Term, value: Any) -> Criterion:
    wanted = json.loads(value) if isinstance(value, str) else value
    items = wanted if isinstance(wanted, list) else [wanted]
    if not items:
        return field.notnull()
    patterns = [ValueWrapper(f"%{json.dumps(str(item))}%") for item in items]
    terms = [field.like(pattern) for pattern in patterns]  # type: ignore[arg-type]  # pypika takes any term
    return reduce(lambda a, b: a & b, terms)


SqliteExecutor.FILTER_FUNC_OVERRIDE[json_contains] = sqlite_json_contains
