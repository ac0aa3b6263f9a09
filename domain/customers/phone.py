"""Mainland China mobile numbers (11 digits, 1[3-9]x)."""

from __future__ import annotations

import re

from domain.customers.errors import CustomerErrorCode
from domain.errors import DomainError

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()]")


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """Strip spaces, dashes and a +86/0086 prefix, then require an 11-digit mobile number."""
    phone = _SEPARATORS.sub("", raw or "")
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :]
    if not _MOBILE.match(phone):
        raise DomainError(
            CustomerErrorCode.INVALID_PHONE,
            "手机号码无效:应为以1开头的11位号码",
            "invalid phone: must be an 11-digit mobile number starting with 1",
            field,
        )
    return phone
