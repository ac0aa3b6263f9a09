"""Signing in and out, and changing one's own password."""

from __future__ import annotations

import datetime
from typing import Annotated

import strawberry

from domain.errors import DomainError
from resolvers.platform import auth as auth_cases
from schema.platform.context import Info
from schema.platform.errors import AuthError
from schema.platform.input_limits import max_length
from schema.staff.types import Staff

LOGIN_NAME_LENGTH = 64
PASSWORD_LENGTH = 256  # long passphrases welcome; argon2 hashes any length, but not megabytes
DISPLAY_NAME_LENGTH = 64


@strawberry.type(description="A bearer token for the Authorization header")
class LoginSuccess:
    token: str = strawberry.field(description="Send as: Authorization: Bearer <token>")
    expires_at: datetime.datetime
    staff: Staff
    must_change_password: bool = strawberry.field(
        description="True after a password reset: the token allows only changePassword and viewer until then"
    )


@strawberry.type(description="The token this request came with no longer works")
class SignedOut:
    staff: Staff


LoginResult = Annotated[LoginSuccess | AuthError, strawberry.union("LoginResult")]
LogoutResult = Annotated[SignedOut | AuthError, strawberry.union("LogoutResult")]


def _success(result: auth_cases.LoginResult) -> LoginSuccess:
    staff = result.staff
    return LoginSuccess(
        token=result.token,
        expires_at=result.expires_at,
        staff=Staff.from_model(staff, auth_cases.actor_for_login(staff)),
        must_change_password=staff.must_change_password,
    )


async def login(
    info: Info,
    username: Annotated[str, strawberry.argument(description="Login name", directives=max_length(LOGIN_NAME_LENGTH))],
    password: Annotated[str, strawberry.argument(directives=max_length(PASSWORD_LENGTH))],
) -> LoginResult:
    try:
        result = await auth_cases.login(username, password, client=info.context.client_ip)
    except DomainError as error:
        return AuthError.from_domain(error)  # type: ignore[no-any-return]
    return _success(result)


async def logout(info: Info) -> LogoutResult:
    actor = info.context.require_actor()
    await auth_cases.logout(actor, info.context.token)
    staff = await info.context.loaders.staff_by_id.load(actor.staff_id)
    assert staff is not None  # everyone sees themselves
    return SignedOut(staff=Staff.from_model(staff, actor))


async def change_password(
    info: Info,
    old_password: Annotated[str, strawberry.argument(directives=max_length(PASSWORD_LENGTH))],
    new_password: Annotated[str, strawberry.argument(directives=max_length(PASSWORD_LENGTH))],
) -> LoginResult:
    actor = info.context.require_actor()
    try:
        result = await auth_cases.change_password(actor, old_password, new_password, client=info.context.client_ip)
    except DomainError as error:
        return AuthError.from_domain(error)  # type: ignore[no-any-return]
    return _success(result)


@strawberry.type
class Mutation:
    login: LoginResult = strawberry.mutation(
        resolver=login, description="Sign in with login name and password; returns a bearer token"
    )
    logout: LogoutResult = strawberry.mutation(
        resolver=logout, description="Sign out: the token this request came with is refused from now on"
    )
    change_password: LoginResult = strawberry.mutation(
        resolver=change_password,
        description="Change your own password (required after a reset). Every earlier token of yours is revoked; "
        "the answer carries a new one",
    )
