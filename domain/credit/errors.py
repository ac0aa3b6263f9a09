"""The codes of credit errors, beside the shared ones (domain.errors.ErrorCode)."""

from __future__ import annotations

from enum import StrEnum


class CreditErrorCode(StrEnum):
    PRODUCT_NOT_IN_EFFECT = "PRODUCT_NOT_IN_EFFECT"
    AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
    AMOUNT_NOT_WHOLE_YUAN = "AMOUNT_NOT_WHOLE_YUAN"
    TERM_OUT_OF_RANGE = "TERM_OUT_OF_RANGE"
    REPAYMENT_METHOD_NOT_OFFERED = "REPAYMENT_METHOD_NOT_OFFERED"
    GUARANTEE_NOT_ACCEPTED = "GUARANTEE_NOT_ACCEPTED"
    STAGE_NOT_IN_PROCESS = "STAGE_NOT_IN_PROCESS"
