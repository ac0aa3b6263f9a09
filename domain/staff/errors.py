"""The codes of signing-in errors, beside the shared ones (domain.errors.ErrorCode)."""

from __future__ import annotations

from enum import StrEnum


class AuthErrorCode(StrEnum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
