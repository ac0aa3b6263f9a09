"""The codes of customer errors, beside the shared ones (domain.errors.ErrorCode)."""

from __future__ import annotations

from enum import StrEnum


class CustomerErrorCode(StrEnum):
    INVALID_ID_NUMBER = "INVALID_ID_NUMBER"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_COORDINATES = "INVALID_COORDINATES"
    DUPLICATE_ID_NUMBER = "DUPLICATE_ID_NUMBER"
    NOT_A_VILLAGE = "NOT_A_VILLAGE"
    UNKNOWN_STAFF = "UNKNOWN_STAFF"
