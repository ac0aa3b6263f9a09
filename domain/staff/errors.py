"""The codes of signing-in and staff-administration errors, beside the shared ones (domain.errors.ErrorCode)."""

from __future__ import annotations

from enum import StrEnum


class AuthErrorCode(StrEnum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"  # noqa: S105 — an error code, not a password
    WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 — an error code, not a password


class StaffErrorCode(StrEnum):
    UNKNOWN_OUTLET = "UNKNOWN_OUTLET"
    DUPLICATE_USERNAME = "DUPLICATE_USERNAME"
    CONFLICTING_ROLES = "CONFLICTING_ROLES"
