"""The checks across a product file's fields that its models alone cannot make: ranges the right way round, a
process the factory can run (process.py), approval tiers that give every amount exactly one approver, and
decisions that exist and read the inputs the product gives them. Each finding names the field it is about, the
way the file spells it (`approval_tiers[1].min_amount`), and says what is wrong in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from itertools import pairwise
from typing import NamedTuple

from domain.access import ROLE_NAMES_ZH
from domain.credit.enums import GuaranteeType
from domain.credit.process import (
    APPROVAL_ROLES,
    FIRST_STAGE,
    LAST_STAGE,
    NEEDS,
    PROCESS_ORDER,
    ROLES_FOR_STAGE,
    roles_text,
)
from domain.credit.products import GUARANTOR_ADMISSION, ApprovalTier, ProductSpec, Stage


class Finding(NamedTuple):
    field: str
    message_zh: str
    message_en: str


def check_product(spec: ProductSpec, decisions: Mapping[str, Collection[str]]) -> list[Finding]:
    """Everything wrong with a product whose fields each passed their own validation; `decisions` maps each
    decision's name to the inputs it reads."""
    return [
        *_ranges(spec),
        *_repeats("repayment_methods", spec.repayment_methods),
        *_repeats("guarantee_types", spec.guarantee_types),
        *_repeats("documents", [document.code for document in spec.documents], ".code"),
        *_process(spec.stages),
        *_tiers(spec),
        *_decisions(spec.stages, decisions),
        *_guarantors(spec),
    ]


def _ranges(spec: ProductSpec) -> Iterator[Finding]:
    if spec.amount.min > spec.amount.max:
        yield Finding(
            "amount.min",
            f"最低金额 {spec.amount.min:,} 元高于最高金额 {spec.amount.max:,} 元",
            f"the minimum amount ¥{spec.amount.min:,} is above the maximum ¥{spec.amount.max:,}",
        )
    if spec.term.min_months > spec.term.max_months:
        yield Finding(
            "term.min_months",
            f"最短期限 {spec.term.min_months} 个月长于最长期限 {spec.term.max_months} 个月",
            f"the shortest term of {spec.term.min_months} months is longer than the longest, {spec.term.max_months}",
        )


def _repeats(field: str, values: Iterable[object], suffix: str = "") -> Iterator[Finding]:
    first: dict[object, int] = {}
    for at, value in enumerate(values):
        if value in first:
            yield Finding(
                f"{field}[{at}]{suffix}",
                f"{value} 重复,已在 {field}[{first[value]}] 列出",
                f"{value} is listed twice, first at {field}[{first[value]}]",
            )
        else:
            first[value] = at


def _process(stages: tuple[Stage, ...]) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    previous = None
    for at, stage in enumerate(stages):
        name = stage.name
        if name in seen:
            yield Finding(
                f"stages[{at}].name",
                f"阶段 {name} 重复,已在 stages[{seen[name]}] 出现",
                f"stage {name} appears twice, first at stages[{seen[name]}]",
            )
            continue
        seen[name] = at
        if previous is not None and PROCESS_ORDER.index(name) < PROCESS_ORDER.index(previous):
            yield Finding(
                f"stages[{at}].name",
                f"阶段 {name} 应排在 {previous} 之前",
                f"stage {name} comes before {previous} in the process, not after it",
            )
        previous = name
        if stage.role not in ROLES_FOR_STAGE[name]:
            allowed = ROLES_FOR_STAGE[name]
            yield Finding(
                f"stages[{at}].role",
                f"阶段 {name} 不能由{ROLE_NAMES_ZH[stage.role]}({stage.role})执行,只能由 {roles_text(allowed)} 执行",
                f"stage {name} is not performed by {stage.role}; only by {roles_text(allowed)}",
            )
    for at, stage in enumerate(stages):
        need = NEEDS.get(stage.name)
        if need is not None and need not in seen and seen[stage.name] == at:
            yield Finding(
                f"stages[{at}].name",
                f"阶段 {stage.name} 无法到达:流程中没有它之前必需的 {need} 阶段",
                f"stage {stage.name} cannot be reached: the process has no {need} stage before it",
            )
    for end, where_zh, where_en in ((FIRST_STAGE, "开始", "start"), (LAST_STAGE, "结束", "end")):
        if end not in seen:
            yield Finding(
                "stages",
                f"流程缺少 {end} 阶段:流程以它{where_zh}",
                f"the process has no {end} stage to {where_en} with",
            )


def _tiers(spec: ProductSpec) -> Iterator[Finding]:
    tiers = spec.approval_tiers
    for at, tier in enumerate(tiers):
        if tier.authority not in APPROVAL_ROLES:
            yield Finding(
                f"approval_tiers[{at}].authority",
                f"{ROLE_NAMES_ZH[tier.authority]}({tier.authority})没有审批权限,"
                f"审批人只能是 {roles_text(APPROVAL_ROLES)}",
                f"{tier.authority} holds no approval authority; approvers are {roles_text(APPROVAL_ROLES)}",
            )
        if tier.min_amount > tier.max_amount:
            yield Finding(
                f"approval_tiers[{at}].min_amount",
                f"审批档次下限 {tier.min_amount:,} 元高于上限 {tier.max_amount:,} 元",
                f"the tier's lower bound ¥{tier.min_amount:,} is above its upper bound ¥{tier.max_amount:,}",
            )
    if spec.amount.min > spec.amount.max or any(t.min_amount > t.max_amount for t in tiers):
        return  # inverted ranges are reported above; their coverage means nothing
    ordered = sorted(enumerate(tiers), key=lambda item: (item[1].min_amount, item[1].max_amount))
    first_at, first = ordered[0]
    if first.min_amount != spec.amount.min:
        yield Finding(
            f"approval_tiers[{first_at}].min_amount",
            f"最低审批档次从 {first.min_amount:,} 元起,应从产品最低金额 {spec.amount.min:,} 元起",
            f"the lowest tier starts at ¥{first.min_amount:,}, "
            f"not at the product's minimum amount ¥{spec.amount.min:,}",
        )
    for (before_at, before), (at, tier) in pairwise(ordered):
        yield from _between(before_at, before, at, tier)
    last_at, last = ordered[-1]
    if last.max_amount != spec.amount.max:
        yield Finding(
            f"approval_tiers[{last_at}].max_amount",
            f"最高审批档次止于 {last.max_amount:,} 元,应止于产品最高金额 {spec.amount.max:,} 元",
            f"the highest tier ends at ¥{last.max_amount:,}, not at the product's maximum amount ¥{spec.amount.max:,}",
        )


def _between(before_at: int, before: ApprovalTier, at: int, tier: ApprovalTier) -> Iterator[Finding]:
    if tier.min_amount <= before.max_amount:
        yield Finding(
            f"approval_tiers[{at}].min_amount",
            f"审批档次与 approval_tiers[{before_at}]({before.min_amount:,}–{before.max_amount:,} 元)重叠",
            f"the tier overlaps approval_tiers[{before_at}] (¥{before.min_amount:,}–¥{before.max_amount:,})",
        )
    elif tier.min_amount > before.max_amount + 1:
        low, high = before.max_amount + 1, tier.min_amount - 1
        yield Finding(
            f"approval_tiers[{at}].min_amount",
            f"{low:,}–{high:,} 元没有审批档次",
            f"no tier approves amounts from ¥{low:,} to ¥{high:,}",
        )


def _decisions(stages: tuple[Stage, ...], decisions: Mapping[str, Collection[str]]) -> Iterator[Finding]:
    """Each decision exists, and each fixed input the product gives it is one it reads: an input it does not
    read would be dropped unseen, and the decision would run without what the product meant to tell it."""
    for at, stage in enumerate(stages):
        for index, decision in enumerate(stage.decisions):
            where = f"stages[{at}].decisions[{index}]"
            reads = decisions.get(decision.name)
            if reads is None:
                yield Finding(
                    f"{where}.name",
                    f"决策 {decision.name} 不存在:决策目录中没有 {decision.name}.json",
                    f"there is no decision {decision.name}: the decisions hold no {decision.name}.json",
                )
                continue
            for key in decision.inputs:
                if key not in reads:
                    yield Finding(
                        f"{where}.inputs.{key}",
                        f"决策 {decision.name} 不读取输入 {key}:{decision.name}.json 的输入为 {'、'.join(reads)}",
                        f"decision {decision.name} reads no input {key}; {decision.name}.json reads {', '.join(reads)}",
                    )


def _guarantors(spec: ProductSpec) -> Iterator[Finding]:
    screened = any(decision.name == GUARANTOR_ADMISSION for stage in spec.stages for decision in stage.decisions)
    if GuaranteeType.GUARANTOR in spec.guarantee_types and not screened:
        yield Finding(
            "guarantee_types",
            f"接受保证担保的产品须在某一阶段运行 {GUARANTOR_ADMISSION} 决策(担保人准入)",
            f"a product that takes guarantors runs the {GUARANTOR_ADMISSION} decision at some stage",
        )
