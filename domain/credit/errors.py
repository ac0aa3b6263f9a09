"""The codes of credit errors, beside the shared ones (domain.errors.ErrorCode)."""

from __future__ import annotations

from enum import StrEnum


class CreditErrorCode(StrEnum):
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVALID_RATE = "INVALID_RATE"
    INVALID_TERM = "INVALID_TERM"
    INVALID_REPAYMENT_DAY = "INVALID_REPAYMENT_DAY"
