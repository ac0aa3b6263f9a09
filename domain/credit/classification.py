"""The five-tier loan classification (五级分类) and which tiers are non-performing (不良)."""

from __future__ import annotations

from enum import StrEnum


class LoanClass(StrEnum):
    """正常 pass, 关注 special mention, 次级 substandard, 可疑 doubtful, 损失 loss."""

    PASS = "PASS"  # noqa: S105 — 正常, a loan class, not a password
    SPECIAL_MENTION = "SPECIAL_MENTION"
    SUBSTANDARD = "SUBSTANDARD"
    DOUBTFUL = "DOUBTFUL"
    LOSS = "LOSS"

    @property
    def non_performing(self) -> bool:
        return self in NON_PERFORMING


NON_PERFORMING = frozenset({LoanClass.SUBSTANDARD, LoanClass.DOUBTFUL, LoanClass.LOSS})
