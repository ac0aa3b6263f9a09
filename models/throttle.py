"""Failed sign-ins counted per client address (guessing across many accounts) and per login name and address
(guessing at one account from one place), so that a stranger's guesses never lock the owner out elsewhere."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class LoginThrottle(Model):
    """Failed sign-ins from one client address in its current window, and until when it is refused."""

    address = fields.CharField(max_length=64, primary_key=True)
    failures = fields.IntField(default=0)
    window_started = fields.DatetimeField()
    blocked_until = fields.DatetimeField(null=True)

    class Meta:
        table = "login_throttle"


class LoginPairThrottle(Model):
    """Failed sign-ins with one login name from one client address in its current window, and until when that
    pair is refused. Kept for made-up login names exactly as for real ones, so the answers cannot tell them
    apart; the owner signing in from another address is another pair."""

    id = fields.IntField(primary_key=True)
    login_name = fields.CharField(max_length=64)
    address = fields.CharField(max_length=64)
    failures = fields.IntField(default=0)
    window_started = fields.DatetimeField()
    blocked_until = fields.DatetimeField(null=True)

    class Meta:
        table = "login_pair_throttle"
        unique_together = (("login_name", "address"),)
