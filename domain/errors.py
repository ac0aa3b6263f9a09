"""Expected failures of the use cases, each with a machine-readable code, the offending field and a message in
Chinese and English. The GraphQL layer maps them to the error member of a payload union.

Codes come in one enum per capability (domain/<capability>/errors.py) beside the shared ones here, so that
the schema tells a client which codes each mutation can answer."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """The codes every capability may answer."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    INVALID_VALUE = "INVALID_VALUE"
    VALUE_TOO_LONG = "VALUE_TOO_LONG"
    STALE_VERSION = "STALE_VERSION"
    PAGE_TOO_LARGE = "PAGE_TOO_LARGE"
    INVALID_CURSOR = "INVALID_CURSOR"


class DomainError(Exception):
    """An expected, explainable failure. Nothing was changed when one is raised."""

    def __init__(self, code: StrEnum, message_zh: str, message_en: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.field = field
        self.message_zh = message_zh
        self.message_en = message_en

    @property
    def message(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


def not_found(what_zh: str, what_en: str, field: str | None = None) -> DomainError:
    """Out of scope and absent look the same: no hint that the record exists."""
    return DomainError(ErrorCode.NOT_FOUND, f"{what_zh}不存在", f"{what_en} not found", field)


def forbidden(action_zh: str, action_en: str) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, f"无权{action_zh}", f"not allowed to {action_en}")
