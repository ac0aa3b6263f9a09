"""Expected errors in the schema: one ErrorCode enum, error types carrying code, field and a bilingual
message, and the helpers that map a DomainError onto them."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError

from domain.errors import DomainError
from domain.errors import ErrorCode as DomainErrorCode

ErrorCode = strawberry.enum(DomainErrorCode, name="ErrorCode", description="Machine-readable error codes")


@strawberry.interface(description="An expected error: what went wrong, on which input field, in both languages")
class Error:
    code: DomainErrorCode = strawberry.field(description="Machine-readable code")
    field: str | None = strawberry.field(description="The input field at fault, when there is one")
    message: str = strawberry.field(description="中文 / English")
    message_zh: str = strawberry.field(description="错误说明(中文)")
    message_en: str = strawberry.field(description="The explanation in English")

    @classmethod
    def from_domain(cls, error: DomainError) -> Any:
        return cls(
            code=error.code,
            field=error.field,
            message=error.message,
            message_zh=error.message_zh,
            message_en=error.message_en,
        )


@strawberry.type(description="Signing in failed")
class AuthError(Error):
    pass


@strawberry.type(description="A customer could not be created or changed; nothing was saved")
class CustomerError(Error):
    pass


@strawberry.type(description="A run could not be started; nothing was queued")
class JobError(Error):
    pass


def query_error(error: DomainError) -> GraphQLError:
    """A DomainError raised from a query field, as a GraphQL error with the code in its extensions."""
    return GraphQLError(
        error.message,
        original_error=error,
        extensions={
            "code": error.code.value,
            "field": error.field,
            "messageZh": error.message_zh,
            "messageEn": error.message_en,
        },
    )
