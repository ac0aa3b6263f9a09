"""Relay global ids: the database id inside one, checked against the type it must name and against the range
of that type's key column, so that no id reaches the database as a number it cannot hold."""

from __future__ import annotations

import re
from enum import StrEnum

from strawberry import relay
from tortoise.models import Model

import models
from domain.errors import DomainError, ErrorCode

_CANONICAL_NUMBER = re.compile(r"[1-9][0-9]{0,18}")
_INT4_MAX = 2**31 - 1  # the smallest key column in use: any id a type's table cannot name is refused


_MODEL_OF = {"AuditEntry": "AuditLog"}  # GraphQL types named otherwise than their model


def _largest_key(type_name: str) -> int:
    model = getattr(models, _MODEL_OF.get(type_name, type_name), None)
    if isinstance(model, type) and issubclass(model, Model):
        largest = model._meta.pk.constraints.get("le")
        if isinstance(largest, int):
            return largest
    return _INT4_MAX


def key_of(type_name: str, node_id: str) -> int | None:
    """The database id a Relay node id holds for the type, or None unless it is a positive number written in
    ASCII digits, without sign or leading zero, that fits the type's key column (int4 or int8)."""
    if not _CANONICAL_NUMBER.fullmatch(node_id):
        return None
    key = int(node_id)
    return key if key <= _largest_key(type_name) else None


def decode_pk(global_id: str, type_name: str, field: str, code: StrEnum = ErrorCode.INVALID_VALUE) -> int:
    """The database id inside a Relay global id of the given type, or a typed error naming the field."""
    try:
        gid = relay.GlobalID.from_id(global_id)
    except ValueError:  # strawberry's GlobalIDValueError is a ValueError too
        gid = None
    key = key_of(type_name, gid.node_id) if gid is not None and gid.type_name == type_name else None
    if key is None:
        raise DomainError(code, f"无效的{type_name}标识", f"not a valid {type_name} id", field)
    return key
