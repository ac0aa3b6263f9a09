"""A credit product (信贷产品) as the bank configures it: one file per product version under rules/products/,
read into the frozen models here. An application keeps the product version it started with, so these models
are what a use case asks about a product: may this amount, term and repayment method be applied for, who
approves this amount, which stage comes next.

The file's own fields live in ProductSpec; Product adds where it was read from and the file's content hash.
Values are strict: a number in quotes is not a number, a date in quotes is not a date, and an unknown key is an
error, so a typo in a product file never passes silently. Checks across fields are in product_checks.py.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, Strict
from pydantic_core import PydanticCustomError

from domain.access import Role
from domain.credit.enums import GUARANTEE_NAMES, REPAYMENT_METHOD_NAMES, GuaranteeType, RepaymentMethod
from domain.credit.errors import CreditErrorCode
from domain.credit.process import STAGE_NAMES_ZH, StageName
from domain.errors import DomainError

# The decision that screens guarantors; a product that takes guarantors runs it at some stage.
GUARANTOR_ADMISSION = "guarantor_admission"


def invalid(message_zh: str, message_en: str) -> PydanticCustomError:
    """A value refused by one of the validators here, with its message in both languages."""
    return PydanticCustomError("palm_invalid", "{en}", {"zh": message_zh, "en": message_en})


E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


def _member_of(enum: type[E], what_zh: str, what_en: str) -> PlainValidator:
    allowed = ", ".join(member.value for member in enum)

    def validate(value: object) -> E:
        if isinstance(value, enum):
            return value
        if isinstance(value, str) and value in enum.__members__.values():
            return enum(value)
        raise invalid(f"未知的{what_zh} {value!r},可选:{allowed}", f"unknown {what_en} {value!r}; one of: {allowed}")

    return PlainValidator(validate)


def _shaped(pattern: str, what_zh: str, what_en: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def validate(value: str) -> str:
        if not compiled.fullmatch(value):
            raise invalid(f"{what_zh},不能是 {value!r}", f"{what_en}, not {value!r}")
        return value

    return AfterValidator(validate)


Array = Annotated[tuple[T, ...], Strict(False)]  # a TOML array, held as a tuple
NonEmpty = Field(min_length=1)
Text = Annotated[str, Field(min_length=1)]
Yuan = Annotated[int, Field(gt=0)]  # whole yuan
Count = Annotated[int, Field(gt=0)]
_SNAKE_ZH = "小写字母开头的小写字母、数字或下划线"
_SNAKE_EN = "lower-case letters, digits and underscores, starting with a letter"
_SNAKE = r"[a-z][a-z0-9_]{1,31}"
ProductCode = Annotated[str, _shaped(_SNAKE, f"产品代码应为{_SNAKE_ZH}", f"a product code is {_SNAKE_EN}")]
DecisionName = Annotated[str, _shaped(_SNAKE, f"决策名称应为{_SNAKE_ZH}", f"a decision name is {_SNAKE_EN}")]
DocumentCode = Annotated[
    str,
    _shaped(
        r"[A-Z][A-Z0-9_]*",
        "材料代码应为大写字母开头的大写字母、数字或下划线",
        "a document code is upper-case letters, digits and underscores, starting with a letter",
    ),
]
RoleValue = Annotated[Role, _member_of(Role, "角色", "role")]
StageValue = Annotated[StageName, _member_of(StageName, "阶段", "stage")]
MethodValue = Annotated[RepaymentMethod, _member_of(RepaymentMethod, "还款方式", "repayment method")]
GuaranteeValue = Annotated[GuaranteeType, _member_of(GuaranteeType, "担保方式", "guarantee type")]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AmountRange(_Part):
    min: Yuan
    max: Yuan


class TermRange(_Part):
    min_months: Count
    max_months: Count


class CreditLine(_Part):
    validity_months: Count  # how long the line may be drawn on
    revolving: bool  # 循环: what is repaid may be drawn again while the line is valid


class Document(_Part):
    code: DocumentCode
    name_zh: Text
    name_en: Text


class DecisionRef(_Part):
    """A decision a stage runs (rules/decisions/<name>.json) and the fixed inputs this product gives it."""

    name: DecisionName
    inputs: dict[str, str] = Field(default_factory=dict)


class Stage(_Part):
    name: StageValue
    role: RoleValue  # who performs it
    sla_minutes: Count  # how long it may take (时限)
    automatic: bool = False  # run by the system at once; the role answers for it and handles what it refers
    decisions: Array[DecisionRef] = ()

    @property
    def sla(self) -> timedelta:
        return timedelta(minutes=self.sla_minutes)


class ApprovalTier(_Part):
    """Amounts from min_amount to max_amount yuan, both included, are approved by `authority`."""

    min_amount: Yuan
    max_amount: Yuan
    authority: RoleValue
    name_zh: Text  # e.g. 支行行长审批
    name_en: Text

    def covers(self, amount: int | Decimal) -> bool:
        return self.min_amount <= amount <= self.max_amount


class PostLoanRule(_Part):
    first_check_after_days: Count  # 首次检查: days after disbursement
    frequency_days: Count  # then every so many days


class ProductSpec(_Part):
    """What one product file says."""

    code: ProductCode
    version: Count
    effective_from: date  # on sale from this day until a later version takes effect
    name_zh: Text
    name_en: Text
    description_zh: Text
    description_en: Text
    amount: AmountRange
    term: TermRange
    repayment_methods: Annotated[Array[MethodValue], NonEmpty]
    guarantee_types: Annotated[Array[GuaranteeValue], NonEmpty]
    documents: Annotated[Array[Document], NonEmpty]
    line: CreditLine
    stages: Annotated[Array[Stage], NonEmpty]
    approval_tiers: Annotated[Array[ApprovalTier], NonEmpty]
    post_loan: PostLoanRule

    def check_amount(self, amount: int | Decimal, field: str = "amount") -> None:
        if isinstance(amount, Decimal) and not (amount.is_finite() and amount == amount.to_integral_value()):
            raise DomainError(
                CreditErrorCode.AMOUNT_NOT_WHOLE_YUAN,
                f"金额 {amount} 元须为整数元",
                f"amount ¥{amount} must be in whole yuan",
                field,
            )
        if not self.amount.min <= amount <= self.amount.max:
            low, high = f"{self.amount.min:,}", f"{self.amount.max:,}"
            raise DomainError(
                CreditErrorCode.AMOUNT_OUT_OF_RANGE,
                f"金额 {amount:,} 元不在{self.name_zh}的 {low}–{high} 元范围内",
                f"amount ¥{amount:,} is outside the {self.name_en} range of ¥{low}–¥{high}",
                field,
            )

    def check_term(self, months: int, field: str = "term_months") -> None:
        if not self.term.min_months <= months <= self.term.max_months:
            low, high = self.term.min_months, self.term.max_months
            raise DomainError(
                CreditErrorCode.TERM_OUT_OF_RANGE,
                f"期限 {months} 个月不在{self.name_zh}的 {low}–{high} 个月范围内",
                f"a term of {months} months is outside the {self.name_en} range of {low}–{high} months",
                field,
            )

    def check_method(self, method: RepaymentMethod, field: str = "repayment_method") -> None:
        if method not in self.repayment_methods:
            zh, en = REPAYMENT_METHOD_NAMES[method]
            raise DomainError(
                CreditErrorCode.REPAYMENT_METHOD_NOT_OFFERED,
                f"{self.name_zh}不提供{zh}还款",
                f"{self.name_en} does not offer {en} repayment",
                field,
            )

    def check_guarantee(self, guarantee: GuaranteeType, field: str = "guarantee_type") -> None:
        if guarantee not in self.guarantee_types:
            zh, en = GUARANTEE_NAMES[guarantee]
            raise DomainError(
                CreditErrorCode.GUARANTEE_NOT_ACCEPTED,
                f"{self.name_zh}不接受{zh}担保方式",
                f"{self.name_en} does not take {en} as its guarantee",
                field,
            )

    def tier_for(self, amount: int | Decimal) -> ApprovalTier:
        """The approval tier whose authority approves this amount, one the product lends. The catalogue has
        checked that the tiers cover the product's whole amount range, one tier for each amount."""
        self.check_amount(amount)
        return next(tier for tier in self.approval_tiers if tier.covers(amount))

    def stage(self, name: StageName) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise DomainError(
            CreditErrorCode.STAGE_NOT_IN_PROCESS,
            f"{self.name_zh}的流程没有{STAGE_NAMES_ZH[name]}({name})阶段",
            f"the {self.name_en} process has no {name} stage",
            "stage",
        )

    def has_stage(self, name: StageName) -> bool:
        return any(stage.name == name for stage in self.stages)

    def next_stage(self, name: StageName) -> Stage | None:
        """The stage after `name` in this product's process; None after the last one."""
        at = self.stages.index(self.stage(name))
        return self.stages[at + 1] if at + 1 < len(self.stages) else None

    @property
    def first_stage(self) -> Stage:
        return self.stages[0]


class Product(ProductSpec):
    """One version of a product, as read from its file."""

    file: str  # the file's name in the products directory
    content_hash: str  # sha256 of the file's bytes, hex: which text an application was decided under
