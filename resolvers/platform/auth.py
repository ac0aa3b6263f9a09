"""Signing in and recognising the bearer of a token.

Tokens are HS256 JWTs carrying the staff id and their token version; bumping the version (or deactivating
the account) revokes every token issued before. Repeated wrong passwords lock the account for a while; an
unknown login name costs the same hashing time as a known one, so timing tells nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from tortoise.expressions import F

from domain.access import Actor, Role
from domain.errors import DomainError
from domain.staff.errors import AuthErrorCode
from models import LoginThrottle, Staff
from resolvers.platform.audit import record
from settings import SETTINGS

log = logging.getLogger("palmcredit.auth")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("palmcredit-timing-equaliser")


class AuthenticationError(Exception):
    """The request carried a token that is malformed, forged, expired or revoked."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: datetime
    staff: Staff


def _bad_credentials() -> DomainError:
    return DomainError(
        AuthErrorCode.INVALID_CREDENTIALS, "用户名或密码错误", "wrong login name or password", "password"
    )


async def login(username: str, password: str, *, client: str = "", now: datetime | None = None) -> LoginResult:
    """Check a password and issue a token. Locked, inactive and unknown accounts all fail the same way,
    except that a locked account says so (the owner needs to know to wait).

    Failures are also counted per client address (`client`, when known): an address that fails
    login_address_max_failures times within login_address_window_seconds, whatever the accounts, is refused
    for that long before any password is looked at, so guessing across many accounts is slowed as well."""
    now = now or datetime.now(UTC)
    await _refuse_blocked_address(client, now)
    staff = await Staff.get_or_none(username=username.strip())
    if staff is None or not staff.is_active:
        _verify(_DUMMY_HASH, password)
        await _count_address_failure(client, now)
        raise _bad_credentials()
    if staff.locked_until is not None and staff.locked_until > now:
        await _count_address_failure(client, now)
        raise DomainError(
            AuthErrorCode.ACCOUNT_LOCKED,
            "密码错误次数过多,账户已临时锁定,请稍后再试",
            "too many wrong passwords; the account is locked for a while",
            "username",
        )
    if not _verify(staff.password_hash, password):
        await _count_failure(staff, now)
        await _count_address_failure(client, now)
        raise _bad_credentials()
    if staff.failed_logins or staff.locked_until:
        staff.failed_logins = 0
        staff.locked_until = None
        await staff.save(update_fields=["failed_logins", "locked_until"])
    expires_at = now + timedelta(seconds=SETTINGS.token_ttl_seconds)
    token = jwt.encode(
        {"sub": str(staff.id), "ver": staff.token_version, "iat": now, "exp": expires_at},
        SETTINGS.secret_key,
        algorithm="HS256",
    )
    await record(_actor_stub(staff), "login", "Staff", staff.id)
    return LoginResult(token=token, expires_at=expires_at, staff=staff)


async def _count_failure(staff: Staff, now: datetime) -> None:
    """Count a wrong password in the database itself, so parallel guesses cannot overwrite each other's
    count; the guess that reaches the limit locks the account."""
    await Staff.filter(id=staff.id).update(failed_logins=F("failed_logins") + 1)
    locked = await Staff.filter(id=staff.id, failed_logins__gte=SETTINGS.login_max_failures).update(
        failed_logins=0, locked_until=now + timedelta(seconds=SETTINGS.login_lockout_seconds)
    )
    await record(_actor_stub(staff), "login.failed", "Staff", staff.id, {"locked": bool(locked)})


async def _refuse_blocked_address(client: str, now: datetime) -> None:
    if client and await LoginThrottle.filter(address=client[:64], blocked_until__gt=now).exists():
        minutes = max(1, round(SETTINGS.login_address_window_seconds / 60))
        raise DomainError(
            AuthErrorCode.TOO_MANY_ATTEMPTS,
            f"此地址登录失败次数过多,请{minutes}分钟后再试",
            f"too many failed sign-ins from this address; try again in {minutes} minutes",
        )


async def _count_address_failure(client: str, now: datetime) -> None:
    """Count a failed sign-in against the client address, atomically in the database; the failure that
    reaches the limit blocks the address for one window. A window that has passed starts again at zero."""
    if not client:
        return
    address, window = client[:64], timedelta(seconds=SETTINGS.login_address_window_seconds)
    await LoginThrottle.get_or_create(address=address, defaults={"window_started": now})
    await LoginThrottle.filter(address=address, window_started__lt=now - window).update(failures=0, window_started=now)
    await LoginThrottle.filter(address=address).update(failures=F("failures") + 1)
    blocked = await LoginThrottle.filter(address=address, failures__gte=SETTINGS.login_address_max_failures).update(
        failures=0, window_started=now, blocked_until=now + window
    )
    if blocked:
        log.warning("sign-ins from %s refused for %s after repeated failures", address, window)
        await record(None, "login.address_blocked", "LoginThrottle", address)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _actor_stub(staff: Staff) -> Actor:
    return Actor(staff_id=staff.id, username=staff.username, roles=frozenset())


async def actor_from_token(token: str) -> Actor:
    """The actor a bearer token stands for, or AuthenticationError."""
    try:
        claims = jwt.decode(
            token, SETTINGS.secret_key, algorithms=["HS256"], options={"require": ["exp", "sub", "ver"]}
        )
        staff_id = int(claims["sub"])
        version = int(claims["ver"])
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("登录已过期,请重新登录", "the token has expired; sign in again") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise AuthenticationError("无效的登录凭证", "the token is not valid") from None
    staff = await Staff.get_or_none(id=staff_id).prefetch_related("scope")
    if staff is None or not staff.is_active or staff.token_version != version:
        raise AuthenticationError("登录凭证已失效,请重新登录", "the token has been revoked; sign in again")
    return actor_for(staff)


def actor_for(staff: Staff) -> Actor:
    """Build the actor of a staff member whose scope has been prefetched."""
    return Actor(
        staff_id=staff.id,
        username=staff.username,
        roles=frozenset(Role(r) for r in staff.roles),
        scope_paths=tuple(sorted(node.path for node in staff.scope)),
        outlet_id=staff.outlet_id,  # type: ignore[attr-defined]
        display_name=staff.display_name,
    )
