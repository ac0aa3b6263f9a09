"""Signing in."""

from __future__ import annotations

import datetime
from typing import Annotated

import strawberry

from domain.errors import DomainError
from resolvers.platform import auth as auth_cases
from schema.platform.context import Info
from schema.platform.errors import AuthError
from schema.staff.types import Staff


@strawberry.type(description="A bearer token for the Authorization header")
class LoginSuccess:
    token: str = strawberry.field(description="Send as: Authorization: Bearer <token>")
    expires_at: datetime.datetime
    staff: Staff


LoginResult = Annotated[LoginSuccess | AuthError, strawberry.union("LoginResult")]


async def login(info: Info, username: str, password: str) -> LoginResult:
    try:
        result = await auth_cases.login(username, password, client=info.context.client_ip)
    except DomainError as error:
        return AuthError.from_domain(error)  # type: ignore[no-any-return]
    return LoginSuccess(token=result.token, expires_at=result.expires_at, staff=Staff.from_model(result.staff))


@strawberry.type
class Mutation:
    login: LoginResult = strawberry.mutation(
        resolver=login, description="Sign in with login name and password; returns a bearer token"
    )
