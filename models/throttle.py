"""Failed sign-ins counted per client address, so that guessing across many accounts is slowed too."""

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
