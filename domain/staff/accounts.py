"""Staff accounts: the rules a role set, a login name and a password must keep. Pure: no I/O.

Separation of duties: the administrator (系统管理员) runs accounts and grid imports and sees no customer data,
so ADMIN is never held together with a business role. Were it allowed, an administrator could grant
themselves a customer manager's or an approver's powers and use them, and nobody would have granted them.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.access import Role
from domain.errors import DomainError, ErrorCode
from domain.staff.errors import AuthErrorCode, StaffErrorCode

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MAX_LOGIN_NAME_LENGTH = 64
MAX_DISPLAY_NAME_LENGTH = 64


def check_roles(roles: Iterable[Role], field: str = "roles") -> list[Role]:
    """The role set in the order of Role, or DomainError: at least one role, and ADMIN alone."""
    chosen = set(roles)
    if not chosen:
        raise DomainError(ErrorCode.INVALID_VALUE, "至少需要一个岗位", "give at least one role", field)
    if Role.ADMIN in chosen and len(chosen) > 1:
        raise DomainError(
            StaffErrorCode.CONFLICTING_ROLES,
            "系统管理员不能兼任业务岗位",
            "the administrator cannot also hold a business role",
            field,
        )
    return [r for r in Role if r in chosen]


def check_login_name(username: str, field: str = "username") -> str:
    name = username.strip()
    if not name or len(name) > MAX_LOGIN_NAME_LENGTH or any(c.isspace() for c in name):
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"登录名须为1至{MAX_LOGIN_NAME_LENGTH}个字符且不含空格",
            f"a login name has 1 to {MAX_LOGIN_NAME_LENGTH} characters and no spaces",
            field,
        )
    return name


def check_display_name(display_name: str, field: str = "displayName") -> str:
    name = display_name.strip()
    if not name or len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"姓名须为1至{MAX_DISPLAY_NAME_LENGTH}个字符",
            f"a display name has 1 to {MAX_DISPLAY_NAME_LENGTH} characters",
            field,
        )
    return name


def check_password(password: str, field: str = "newPassword") -> str:
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError(
            AuthErrorCode.WEAK_PASSWORD,
            f"密码须为{MIN_PASSWORD_LENGTH}至{MAX_PASSWORD_LENGTH}个字符",
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            field,
        )
    return password
