"""Expected errors in the schema: error types carrying a code, the field and a bilingual message, one code enum
per capability (its own codes plus the shared ones), and the helpers that map a DomainError onto them."""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any, ClassVar

import strawberry
from graphql import GraphQLError

from domain.credit.errors import CreditErrorCode
from domain.customers.errors import CustomerErrorCode
from domain.errors import DomainError
from domain.errors import ErrorCode as SharedCode
from domain.grid.errors import GridErrorCode
from domain.staff.errors import AuthErrorCode, StaffErrorCode
from domain.village_credit.errors import VillageCreditErrorCode


def code_enum(name: str, description: str, *capability: type[StrEnum]) -> type[Enum]:
    """A GraphQL enum of the shared codes and the given capability's own: what one kind of error can answer."""
    enums: tuple[type[StrEnum], ...] = (SharedCode, *capability)
    members = {m.name: m.value for enum in enums for m in enum}
    merged = Enum(name, members, type=str)  # type: ignore[misc]
    return strawberry.enum(merged, name=name, description=description)


ErrorCode = strawberry.enum(SharedCode, name="ErrorCode", description="Codes every kind of error may answer")
AuthErrorCodes = code_enum("AuthErrorCode", "What signing in can answer", AuthErrorCode)
CustomerErrorCodes = code_enum(
    "CustomerErrorCode", "What filing or changing a customer can answer", CustomerErrorCode, GridErrorCode
)
StaffErrorCodes = code_enum(
    "StaffErrorCode", "What administering staff accounts can answer", StaffErrorCode, AuthErrorCode, GridErrorCode
)
CreditErrorCodes = code_enum("CreditErrorCode", "What a credit application's steps can answer", CreditErrorCode)
VillageCreditErrorCodes = code_enum(
    "VillageCreditErrorCode",
    "What a whole-village credit campaign's steps and household surveys can answer",
    VillageCreditErrorCode,
    CustomerErrorCode,
)
JobErrorCodes = code_enum("JobErrorCode", "What starting a background run can answer", GridErrorCode)


@strawberry.interface(description="An expected error: on which input field, and why, in both languages")
class Error:
    field: str | None = strawberry.field(description="The input field at fault, when there is one")
    message: str = strawberry.field(description="中文 / English")
    message_zh: str = strawberry.field(description="错误说明(中文)")
    message_en: str = strawberry.field(description="The explanation in English")

    codes: ClassVar[type[Enum]] = SharedCode

    @classmethod
    def from_domain(cls, error: DomainError) -> Any:
        return cls(
            code=cls.codes(error.code.value),  # type: ignore[call-arg]
            field=error.field,
            message=error.message,
            message_zh=error.message_zh,
            message_en=error.message_en,
        )


@strawberry.type(description="Signing in failed")
class AuthError(Error):
    code: AuthErrorCodes = strawberry.field(description="Machine-readable code")  # type: ignore[valid-type]
    codes: ClassVar[type[Enum]] = AuthErrorCodes


@strawberry.type(description="A staff account could not be created or changed; nothing was saved")
class StaffError(Error):
    code: StaffErrorCodes = strawberry.field(description="Machine-readable code")  # type: ignore[valid-type]
    codes: ClassVar[type[Enum]] = StaffErrorCodes


@strawberry.type(description="A customer could not be created or changed; nothing was saved")
class CustomerError(Error):
    code: CustomerErrorCodes = strawberry.field(description="Machine-readable code")  # type: ignore[valid-type]
    codes: ClassVar[type[Enum]] = CustomerErrorCodes


@strawberry.type(description="A credit application's step was refused; the application is unchanged")
class CreditError(Error):
    code: CreditErrorCodes = strawberry.field(description="Machine-readable code")  # type: ignore[valid-type]
    codes: ClassVar[type[Enum]] = CreditErrorCodes


@strawberry.type(description="A campaign's step or a household survey was refused; nothing of it was stored")
class VillageCreditError(Error):
    code: VillageCreditErrorCodes = strawberry.field(description="Machine-readable code")  # type: ignore[valid-type]
    codes: ClassVar[type[Enum]] = VillageCreditErrorCodes


@strawberry.type(description="A run could not be started; nothing was queued")
class JobError(Error):
    code: JobErrorCodes = strawberry.field(description="Machine-readable code")  # type: ignore[valid-type]
    codes: ClassVar[type[Enum]] = JobErrorCodes


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
