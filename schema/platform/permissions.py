"""Field permissions: small classes declared on fields. Object and grid-scope checks live in the use cases."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from domain.errors import ErrorCode
from schema.platform.context import Info


class IsAuthenticated(BasePermission):
    message = "请先登录 / sign in first"
    error_extensions = {"code": ErrorCode.UNAUTHENTICATED.value}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.actor is not None
