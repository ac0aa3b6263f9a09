"""Signing in, recognising the bearer of a token, and signing out.

Tokens are HS256 JWTs carrying the staff id, their token version and a token id (jti). Signing out revokes
the one token (its jti is kept until the token would have expired); bumping the version revokes every token
issued before — on "sign out everywhere", and whenever an account is deactivated, its roles, outlet or scope
change, or its password is reset or changed. A deactivated account's tokens are refused at once too.

Failed sign-ins are counted per (login name, client address) pair and per client address, never per account:
a stranger guessing at someone's password is refused for a while from their own address, and the owner signs
in from theirs as usual. A made-up login name goes through exactly the steps a real one does — the same
lookups, the same hashing, the same counting and the same answers — so nothing tells the two apart.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from tortoise.expressions import F, Subquery

from domain.access import Actor, Role
from domain.errors import DomainError
from domain.staff.accounts import check_password
from domain.staff.errors import AuthErrorCode
from models import GridNode, LoginPairThrottle, LoginThrottle, RevokedToken, Staff
from resolvers.platform.unit_of_work import unit_of_work
from settings import SETTINGS

log = logging.getLogger("palmcredit.auth")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("palmcredit-timing-equaliser")
_KEY_LENGTH = 64  # login names and addresses as the throttle tables keep them


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


def _bad_credentials(field: str = "password") -> DomainError:
    return DomainError(AuthErrorCode.INVALID_CREDENTIALS, "用户名或密码错误", "wrong login name or password", field)


def _minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


async def login(username: str, password: str, *, client: str = "", now: datetime | None = None) -> LoginResult:
    """Check a password and issue a token. Unknown, inactive and real accounts with a wrong password fail
    the same way, by the same steps.

    Refused before any password is looked at: an address that failed login_address_max_failures times within
    login_address_window_seconds, whatever the accounts; and a (login name, address) pair that failed
    login_max_failures times in a row, for login_lockout_seconds."""
    now = now or datetime.now(UTC)
    login_name, address = username.strip(), client[:_KEY_LENGTH]
    await _refuse_blocked(login_name, address, now)
    staff = await Staff.get_or_none(username=login_name)
    account = staff if staff is not None and staff.is_active else None
    matches = _verify(account.password_hash if account else _DUMMY_HASH, password)
    if account is None or not matches:
        await _count_failure(login_name, address, now, account)
        raise _bad_credentials()
    async with unit_of_work() as uow:
        await LoginPairThrottle.filter(login_name=login_name[:_KEY_LENGTH], address=address).delete()
        await uow.audit(_actor_stub(account), "login", "Staff", account.id)
    return _issue(account, now)


def _issue(staff: Staff, now: datetime) -> LoginResult:
    expires_at = now + timedelta(seconds=SETTINGS.token_ttl_seconds)
    claims = {"sub": str(staff.id), "ver": staff.token_version, "jti": uuid.uuid4().hex, "iat": now, "exp": expires_at}
    return LoginResult(jwt.encode(claims, SETTINGS.secret_key, algorithm="HS256"), expires_at, staff)


async def _refuse_blocked(login_name: str, address: str, now: datetime) -> None:
    if address and await LoginThrottle.filter(address=address, blocked_until__gt=now).exists():
        minutes = _minutes(SETTINGS.login_address_window_seconds)
        raise DomainError(
            AuthErrorCode.TOO_MANY_ATTEMPTS,
            f"此地址登录失败次数过多,请{minutes}分钟后再试",
            f"too many failed sign-ins from this address; try again in {minutes} minutes",
        )
    pair = LoginPairThrottle.filter(login_name=login_name[:_KEY_LENGTH], address=address, blocked_until__gt=now)
    if await pair.exists():
        minutes = _minutes(SETTINGS.login_lockout_seconds)
        raise DomainError(
            AuthErrorCode.TOO_MANY_ATTEMPTS,
            f"该登录名在此地址登录失败次数过多,请{minutes}分钟后再试",
            f"too many failed sign-ins with this login name from this address; try again in {minutes} minutes",
            "username",
        )


async def _count_failure(login_name: str, address: str, now: datetime, account: Staff | None) -> None:
    """Count a failed sign-in against the pair and the address, atomically in the database (parallel guesses
    cannot overwrite each other's count), and audit it: against the account when there is one, else against
    the login name tried."""
    async with unit_of_work() as uow:
        pair_blocked = await _count_pair_failure(login_name[:_KEY_LENGTH], address, now)
        address_blocked = await _count_address_failure(address, now)
        changes = {"blocked": pair_blocked, "address": address}
        if account is not None:
            await uow.audit(_actor_stub(account), "login.failed", "Staff", account.id, changes)
        else:
            await uow.audit(None, "login.failed", "Login", login_name[:_KEY_LENGTH], changes)
        if address_blocked:
            await uow.audit(None, "login.address_blocked", "LoginThrottle", address)


async def _count_pair_failure(login_name: str, address: str, now: datetime) -> bool:
    """The failure that reaches login_max_failures in a row refuses the pair for login_lockout_seconds and
    starts the count again; a successful sign-in from the pair forgets it."""
    await LoginPairThrottle.get_or_create(login_name=login_name, address=address, defaults={"window_started": now})
    pair = LoginPairThrottle.filter(login_name=login_name, address=address)
    await pair.update(failures=F("failures") + 1)
    blocked = await pair.filter(failures__gte=SETTINGS.login_max_failures).update(
        failures=0, window_started=now, blocked_until=now + timedelta(seconds=SETTINGS.login_lockout_seconds)
    )
    return bool(blocked)


async def _count_address_failure(address: str, now: datetime) -> bool:
    """The failure that reaches login_address_max_failures within one window blocks the address for one
    window. A window that has passed starts again at zero."""
    if not address:
        return False
    window = timedelta(seconds=SETTINGS.login_address_window_seconds)
    await LoginThrottle.get_or_create(address=address, defaults={"window_started": now})
    await LoginThrottle.filter(address=address, window_started__lt=now - window).update(failures=0, window_started=now)
    await LoginThrottle.filter(address=address).update(failures=F("failures") + 1)
    blocked = await LoginThrottle.filter(address=address, failures__gte=SETTINGS.login_address_max_failures).update(
        failures=0, window_started=now, blocked_until=now + window
    )
    if blocked:
        log.warning("sign-ins from %s refused for %s after repeated failures", address, window)
    return bool(blocked)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _actor_stub(staff: Staff) -> Actor:
    return Actor(staff_id=staff.id, username=staff.username, roles=frozenset())


def _claims(token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, SETTINGS.secret_key, algorithms=["HS256"], options={"require": ["exp", "sub", "ver", "jti"]}
        )
        claims["sub"], claims["ver"], claims["jti"] = int(claims["sub"]), int(claims["ver"]), str(claims["jti"])
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("登录已过期,请重新登录", "the token has expired; sign in again") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise AuthenticationError("无效的登录凭证", "the token is not valid") from None
    return claims


# The grid scope of a signed-in member of staff, kept per process for a short while under their token version:
# a change of roles, outlet or scope bumps the version (so the next request reads it afresh), and every
# request still reads the staff row itself and the token's revocation — one statement — so signing out,
# deactivation and password resets take effect at once in every process.
SCOPE_CACHE_SECONDS = 30.0
SCOPE_CACHE_SIZE = 4096
_ACTOR_COLUMNS = (
    "id", "username", "roles", "is_active", "token_version", "must_change_password", "display_name", "outlet_id"
)  # fmt: skip
_scopes: OrderedDict[tuple[int, int], tuple[float, tuple[str, ...]]] = OrderedDict()


async def actor_from_token(token: str) -> Actor:
    """The actor a bearer token stands for, or AuthenticationError."""
    claims = _claims(token)
    revoked = Subquery(RevokedToken.filter(jti=claims["jti"][:_KEY_LENGTH]).values("staff_id"))
    rows = await Staff.filter(id=claims["sub"]).annotate(revoked=revoked).values(*_ACTOR_COLUMNS, "revoked")
    staff = rows[0] if rows else None
    if (
        staff is None
        or not staff["is_active"]
        or staff["token_version"] != claims["ver"]
        or staff["revoked"] is not None
    ):
        raise AuthenticationError("登录凭证已失效,请重新登录", "the token has been revoked; sign in again")
    return Actor(
        staff_id=staff["id"],
        username=staff["username"],
        roles=frozenset(Role(r) for r in staff["roles"]),
        scope_paths=await _scope_of(staff["id"], staff["token_version"]),
        outlet_id=staff["outlet_id"],
        display_name=staff["display_name"],
        must_change_password=staff["must_change_password"],
    )


async def _scope_of(staff_id: int, token_version: int) -> tuple[str, ...]:
    key = (staff_id, token_version)
    now = time.monotonic()
    cached = _scopes.get(key)
    if cached is not None and now - cached[0] < SCOPE_CACHE_SECONDS:
        _scopes.move_to_end(key)
        return cached[1]
    paths = await GridNode.filter(scoped_staff__id=staff_id).values_list("path", flat=True)
    scope = tuple(sorted(str(p) for p in paths))
    _scopes[key] = (now, scope)
    _scopes.move_to_end(key)
    while len(_scopes) > SCOPE_CACHE_SIZE:
        _scopes.popitem(last=False)
    return scope


def forget_scopes() -> None:
    """Drop every cached scope (tests that rewrite the grid underneath a signed-in user)."""
    _scopes.clear()


def actor_for(staff: Staff) -> Actor:
    """Build the actor of a staff member whose scope has been prefetched."""
    return Actor(
        staff_id=staff.id,
        username=staff.username,
        roles=frozenset(Role(r) for r in staff.roles),
        scope_paths=tuple(sorted(node.path for node in staff.scope)),
        outlet_id=staff.outlet_id,  # type: ignore[attr-defined]
        display_name=staff.display_name,
        must_change_password=staff.must_change_password,
    )


async def logout(actor: Actor, token: str, *, now: datetime | None = None) -> None:
    """Revoke the token this request came with (and forget revoked tokens that have expired anyway)."""
    now = now or datetime.now(UTC)
    claims = _claims(token)
    async with unit_of_work() as uow:
        await RevokedToken.filter(expires_at__lt=now).delete()
        await RevokedToken.get_or_create(
            jti=claims["jti"][:_KEY_LENGTH],
            defaults={"staff_id": actor.staff_id, "expires_at": datetime.fromtimestamp(claims["exp"], UTC)},
        )
        await uow.audit(actor, "logout", "Staff", actor.staff_id)


async def change_password(
    actor: Actor, old_password: str, new_password: str, *, client: str = "", now: datetime | None = None
) -> LoginResult:
    """The signed-in user changes their own password (and must, after a reset). A wrong old password counts
    as a failed sign-in from this address. Every earlier token is revoked; the answer carries a new one."""
    now = now or datetime.now(UTC)
    address = client[:_KEY_LENGTH]
    await _refuse_blocked(actor.username, address, now)
    staff = await Staff.get(id=actor.staff_id)
    if not _verify(staff.password_hash, old_password):
        await _count_failure(actor.username, address, now, staff)
        raise _bad_credentials("oldPassword")
    check_password(new_password)
    if new_password == old_password:
        raise DomainError(
            AuthErrorCode.WEAK_PASSWORD,
            "新密码不能与原密码相同",
            "the new password must differ from the old",
            "newPassword",
        )
    async with unit_of_work() as uow:
        await Staff.filter(id=staff.id).update(
            password_hash=hash_password(new_password),
            must_change_password=False,
            token_version=F("token_version") + 1,
        )
        await uow.audit(actor, "staff.password_changed", "Staff", staff.id)
    await staff.refresh_from_db()
    return _issue(staff, now)


def actor_for_login(staff: Staff) -> Actor:
    """The actor a fresh token stands for, as far as showing them their own record needs (no scope)."""
    return Actor(
        staff_id=staff.id,
        username=staff.username,
        roles=frozenset(Role(r) for r in staff.roles),
        must_change_password=staff.must_change_password,
    )
