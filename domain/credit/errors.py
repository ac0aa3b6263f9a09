"""The codes of credit errors, beside the shared ones (domain.errors.ErrorCode), and the error the credit
decisions raise: it names the decision and, where a file is at fault, the file, so that whoever edits the rules
sees which one to open."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import DomainError


class CreditErrorCode(StrEnum):
    # loan terms and repayment schedules
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVALID_RATE = "INVALID_RATE"
    INVALID_TERM = "INVALID_TERM"
    INVALID_REPAYMENT_DAY = "INVALID_REPAYMENT_DAY"
    # products
    PRODUCT_NOT_IN_EFFECT = "PRODUCT_NOT_IN_EFFECT"
    AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
    AMOUNT_NOT_WHOLE_YUAN = "AMOUNT_NOT_WHOLE_YUAN"
    TERM_OUT_OF_RANGE = "TERM_OUT_OF_RANGE"
    REPAYMENT_METHOD_NOT_OFFERED = "REPAYMENT_METHOD_NOT_OFFERED"
    GUARANTEE_NOT_ACCEPTED = "GUARANTEE_NOT_ACCEPTED"
    STAGE_NOT_IN_PROCESS = "STAGE_NOT_IN_PROCESS"
    # applications (授信申请) and their process
    WRONG_STATE = "WRONG_STATE"
    WRONG_ROLE = "WRONG_ROLE"
    SEPARATION_OF_DUTIES = "SEPARATION_OF_DUTIES"
    CREDIT_REPORT_MISSING = "CREDIT_REPORT_MISSING"
    CLIENT_ID_REUSED = "CLIENT_ID_REUSED"
    REASON_REQUIRED = "REASON_REQUIRED"
    LIMIT_ABOVE_APPLIED = "LIMIT_ABOVE_APPLIED"
    GUARANTOR_NOT_ADMITTED = "GUARANTOR_NOT_ADMITTED"
    # drawdowns (用信)
    LINE_NOT_AVAILABLE = "LINE_NOT_AVAILABLE"
    ABOVE_AVAILABLE_LINE = "ABOVE_AVAILABLE_LINE"
    IDENTITY_MISMATCH = "IDENTITY_MISMATCH"
    CONTRACT_CHANGED = "CONTRACT_CHANGED"
    LIMIT_BELOW_DRAWN = "LIMIT_BELOW_DRAWN"
    # decisions
    UNKNOWN_DECISION = "UNKNOWN_DECISION"
    DECISION_FILE_INVALID = "DECISION_FILE_INVALID"
    DECISION_INPUT_MISSING = "DECISION_INPUT_MISSING"
    DECISION_EVALUATION_FAILED = "DECISION_EVALUATION_FAILED"
    DECISION_CHANGED = "DECISION_CHANGED"
    DECISION_CONTENT_MISMATCH = "DECISION_CONTENT_MISMATCH"
    # assignment to investigators
    INVESTIGATOR_NOT_ELIGIBLE = "INVESTIGATOR_NOT_ELIGIBLE"
    REASSIGN_REASON_REQUIRED = "REASSIGN_REASON_REQUIRED"
    ALREADY_WITH_INVESTIGATOR = "ALREADY_WITH_INVESTIGATOR"
    # contracts
    CONTRACT_INVALID = "CONTRACT_INVALID"
    # process metrics (流程指标)
    PERIOD_REVERSED = "PERIOD_REVERSED"
    PERIOD_TOO_LONG = "PERIOD_TOO_LONG"


class DecisionError(DomainError):
    """A credit decision that could not be loaded, evaluated or replayed."""

    def __init__(
        self,
        code: CreditErrorCode,
        message_zh: str,
        message_en: str,
        *,
        decision: str | None = None,
        file_name: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(code, message_zh, message_en, field)
        self.decision = decision
        self.file_name = file_name


def unknown_decision(name: str) -> DecisionError:
    return DecisionError(
        CreditErrorCode.UNKNOWN_DECISION, f"没有名为{name}的决策", f"no decision named {name}", decision=name
    )


def invalid_file(file_name: str, why_zh: str, why_en: str) -> DecisionError:
    return DecisionError(
        CreditErrorCode.DECISION_FILE_INVALID,
        f"决策文件{file_name}无效:{why_zh}",
        f"decision file {file_name} is invalid: {why_en}",
        decision=file_name.removesuffix(".json"),
        file_name=file_name,
    )


def input_missing(name: str, field: str) -> DecisionError:
    return DecisionError(
        CreditErrorCode.DECISION_INPUT_MISSING,
        f"决策{name}缺少必填输入{field}",
        f"decision {name} is missing the required input {field}",
        decision=name,
        field=field,
    )


def evaluation_failed(name: str, file_name: str, detail: str) -> DecisionError:
    return DecisionError(
        CreditErrorCode.DECISION_EVALUATION_FAILED,
        f"决策{name}执行失败:{detail}",
        f"decision {name} failed: {detail}",
        decision=name,
        file_name=file_name,
    )


def decision_changed(name: str, stored_sha256: str, current_sha256: str) -> DecisionError:
    return DecisionError(
        CreditErrorCode.DECISION_CHANGED,
        f"决策{name}已修改(记录时{stored_sha256[:12]},现为{current_sha256[:12]}),请提供当时的决策文件内容",
        f"decision {name} has changed (recorded {stored_sha256[:12]}, now {current_sha256[:12]}); "
        "supply the content it was recorded with",
        decision=name,
    )


def content_mismatch(name: str, stored_sha256: str, supplied_sha256: str) -> DecisionError:
    return DecisionError(
        CreditErrorCode.DECISION_CONTENT_MISMATCH,
        f"提供的决策{name}内容与记录不符(记录{stored_sha256[:12]},提供{supplied_sha256[:12]})",
        f"the content supplied for decision {name} is not the one recorded "
        f"(recorded {stored_sha256[:12]}, supplied {supplied_sha256[:12]})",
        decision=name,
    )
