"""Relay global ids: the database id inside one, checked against the type it must name."""

from __future__ import annotations

from enum import StrEnum

from strawberry import relay

from domain.errors import DomainError, ErrorCode


def decode_pk(global_id: str, type_name: str, field: str, code: StrEnum = ErrorCode.INVALID_VALUE) -> int:
    """The database id inside a Relay global id of the given type, or a typed error naming the field."""
    try:
        gid = relay.GlobalID.from_id(global_id)
        if gid.type_name != type_name:
            raise ValueError(type_name)
        return int(gid.node_id)
    except ValueError:  # strawberry's GlobalIDValueError is a ValueError too
        raise DomainError(code, f"无效的{type_name}标识", f"not a valid {type_name} id", field) from None
