"""A household survey (入户调查表) as the collector's app sends it, and its field-by-field checks: the same
customer checks every way a person enters the bank's records goes through (ID number normalised and checked,
phone, name, address, location), and the survey's own rules — one head of household, an adult; ages that match
the ID numbers; nobody listed twice; amounts that cannot be negative.

`check_survey` returns the survey as stored or raises a DomainError whose field is relative to the survey
(`members[1].idNumber`); the use case prefixes the survey's place in the batch (`surveys[3].`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.customers.idcard import parse_id_number
from domain.customers.masking import age
from domain.customers.phone import normalize_phone
from domain.customers.validation import check_address, check_location, check_name
from domain.errors import DomainError
from domain.text import checked_text
from domain.village_credit.errors import VillageCreditErrorCode as Code

MAX_BATCH = 500  # surveys in one submitSurveys call (an offline week of one collector)
MAX_MEMBERS = 30
MAX_ITEMS = 20  # crops, livestock, debts, photos: each
MAX_NOTE_LENGTH = 500
MAX_CLIENT_ID_LENGTH = 64
ADULT_AGE = 18
LARGEST_AMOUNT = Decimal("1000000000")  # yuan: above this a figure is a typing error, not a farm
LARGEST_AREA = Decimal("100000")  # mu
LARGEST_PHOTO = 20 * 1024 * 1024
CLOCK_SKEW = timedelta(minutes=10)
_SHA256 = re.compile(r"[0-9a-f]{64}")
COLLECTOR_RATINGS = ("A", "B", "C", "D")
RISK_FLAGS = ("GAMBLING", "DRUGS")


class Relation(StrEnum):
    HEAD = "HEAD"  # 户主
    SPOUSE = "SPOUSE"  # 配偶
    CHILD = "CHILD"  # 子女
    PARENT = "PARENT"  # 父母
    SIBLING = "SIBLING"  # 兄弟姐妹
    GRANDCHILD = "GRANDCHILD"  # 孙辈
    OTHER = "OTHER"  # 其他


@dataclass(frozen=True)
class Member:
    name: str
    id_number: str
    relation: Relation
    age: int | None = None  # as the collector was told; must match the ID number when given
    phone: str | None = None
    birth_date: date | None = None  # derived from the ID number, never sent


@dataclass(frozen=True)
class Crop:
    name: str
    mu: Decimal


@dataclass(frozen=True)
class Livestock:
    kind: str
    head: int


@dataclass(frozen=True)
class Debt:
    lender: str
    amount: Decimal


@dataclass(frozen=True)
class Photo:
    sha256: str
    size_bytes: int
    taken_at: datetime


@dataclass(frozen=True)
class Survey:
    """One household's survey as sent (and, after check_survey, as stored)."""

    client_id: str
    client_version: int
    surveyed_at: datetime
    members: tuple[Member, ...]
    phone: str | None = None
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    land_contracted_mu: Decimal = Decimal(0)
    land_rented_mu: Decimal = Decimal(0)
    crops: tuple[Crop, ...] = ()
    livestock: tuple[Livestock, ...] = ()
    operations: str = ""
    annual_income: Decimal = Decimal(0)
    annual_expenses: Decimal = Decimal(0)
    house_value: Decimal = Decimal(0)
    vehicle_value: Decimal = Decimal(0)
    machinery_value: Decimal = Decimal(0)
    debts: tuple[Debt, ...] = ()
    character: str = ""  # 人品 — the collector's soft information
    reputation: str = ""  # 口碑
    notes: str = ""
    photos: tuple[Photo, ...] = ()
    collector_rating: str | None = None  # A/B/C/D: the collector's grade of the household (采集人评级)
    risk_flags: tuple[str, ...] = ()  # GAMBLING (赌博), DRUGS (吸毒): conduct the collector noted

    @property
    def head(self) -> Member:
        return next(m for m in self.members if m.relation == Relation.HEAD)


def _amount(value: Decimal, field: str, what_zh: str, what_en: str, largest: Decimal = LARGEST_AMOUNT) -> Decimal:
    if not value.is_finite() or value < 0 or value > largest:
        raise DomainError(
            Code.AMOUNT_OUT_OF_RANGE,
            f"{what_zh}须在0到{largest}之间",
            f"the {what_en} must be between 0 and {largest}",
            field,
        )
    return value


def _at_most(items: tuple[object, ...], largest: int, field: str, what_zh: str, what_en: str) -> None:
    if len(items) > largest:
        raise DomainError(Code.TOO_MANY_ITEMS, f"{what_zh}最多{largest}项", f"at most {largest} {what_en}", field)


def _text(raw: str, field: str, what_zh: str, what_en: str, required: bool = False) -> str:
    return checked_text(
        raw, field=field, what_zh=what_zh, what_en=what_en, max_length=MAX_NOTE_LENGTH, required=required
    )


def _relabel(error: DomainError, field: str) -> DomainError:
    return DomainError(error.code, error.message_zh, error.message_en, field)


def check_member(member: Member, index: int, on: date) -> Member:
    """The member as stored: name checked, ID number normalised (full-width digits too) and checked, the birth
    date it gives kept, an age given by the collector compared with it."""
    at = f"members[{index}]"
    try:
        name = check_name(member.name)
    except DomainError as error:
        raise _relabel(error, f"{at}.name") from None
    resident = parse_id_number(member.id_number, today=on, field=f"{at}.idNumber")
    years = age(resident.birth_date, on)
    if member.age is not None and member.age != years:
        raise DomainError(
            Code.AGE_MISMATCH,
            f"年龄{member.age}岁与身份证号码的出生日期不符(应为{years}岁)",
            f"age {member.age} does not match the ID number's birth date ({years} on the survey day)",
            f"{at}.age",
        )
    if member.relation == Relation.HEAD and years < ADULT_AGE:
        raise DomainError(
            Code.HEAD_UNDER_18,
            f"户主须年满{ADULT_AGE}周岁(身份证号码显示{years}岁)",
            f"the head of household must be at least {ADULT_AGE} (the ID number gives {years})",
            f"{at}.idNumber",
        )
    phone = normalize_phone(member.phone, field=f"{at}.phone") if member.phone else None
    # built directly, not by dataclasses.replace (which costs as much again, and an import checks 600,000)
    return Member(name, resident.number, member.relation, member.age, phone, resident.birth_date)


def _check_household(members: tuple[Member, ...]) -> None:
    heads = [i for i, m in enumerate(members) if m.relation == Relation.HEAD]
    if not heads:
        raise DomainError(Code.NO_HEAD, "请登记户主", "name the head of household", "members")
    if len(heads) > 1:
        raise DomainError(
            Code.TWO_HEADS, "一户只能有一位户主", "a household has one head", f"members[{heads[1]}].relation"
        )
    seen: dict[str, int] = {}
    for i, m in enumerate(members):
        if m.id_number in seen:
            raise DomainError(
                Code.MEMBER_LISTED_TWICE,
                f"该身份证号码已登记为第{seen[m.id_number] + 1}位家庭成员",
                f"this ID number is already listed as member {seen[m.id_number] + 1}",
                f"members[{i}].idNumber",
            )
        seen[m.id_number] = i


def check_survey(survey: Survey, now: datetime) -> Survey:
    """The survey as stored, or the first field at fault as a DomainError (field relative to the survey)."""
    client_id = checked_text(
        survey.client_id,
        field="clientId",
        what_zh="客户端编号",
        what_en="client id",
        max_length=MAX_CLIENT_ID_LENGTH,
        required=True,
    )
    if survey.client_version < 1:
        raise DomainError(
            Code.AMOUNT_OUT_OF_RANGE, "客户端版本号须为正整数", "clientVersion must be 1 or more", "clientVersion"
        )
    if survey.surveyed_at.tzinfo is None or survey.surveyed_at > now + CLOCK_SKEW:
        raise DomainError(
            Code.INVALID_SURVEY_TIME,
            "调查时间须带时区且不能晚于当前时间",
            "the survey time must carry its zone and not lie in the future",
            "surveyedAt",
        )
    on = survey.surveyed_at.date()
    _at_most(survey.members, MAX_MEMBERS, "members", "家庭成员", "members")
    members = tuple(check_member(m, i, on) for i, m in enumerate(survey.members))
    _check_household(members)
    phone = normalize_phone(survey.phone) if survey.phone else None
    try:
        address = check_address(survey.address)
        check_location(survey.lon, survey.lat)
    except DomainError as error:
        raise _relabel(error, error.field or "address") from None
    for what, limit in (("crops", MAX_ITEMS), ("livestock", MAX_ITEMS), ("debts", MAX_ITEMS), ("photos", MAX_ITEMS)):
        _at_most(getattr(survey, what), limit, what, what, what)
    crops = tuple(
        Crop(
            _text(c.name, f"crops[{i}].name", "作物", "crop", True),
            _amount(c.mu, f"crops[{i}].mu", "种植面积", "area", LARGEST_AREA),
        )
        for i, c in enumerate(survey.crops)
    )
    for i, animal in enumerate(survey.livestock):
        _text(animal.kind, f"livestock[{i}].kind", "畜禽种类", "kind of livestock", True)
        _amount(Decimal(animal.head), f"livestock[{i}].head", "存栏数", "head count")
    debts = tuple(
        Debt(
            _text(d.lender, f"debts[{i}].lender", "债权人", "lender", True),
            _amount(d.amount, f"debts[{i}].amount", "他行负债", "debt"),
        )
        for i, d in enumerate(survey.debts)
    )
    for i, photo in enumerate(survey.photos):
        _check_photo(photo, f"photos[{i}]", now)
    _check_soft_information(survey)
    return replace(
        survey,
        client_id=client_id,
        members=members,
        phone=phone,
        address=address,
        land_contracted_mu=_amount(
            survey.land_contracted_mu, "landContractedMu", "承包地", "contracted land", LARGEST_AREA
        ),
        land_rented_mu=_amount(survey.land_rented_mu, "landRentedMu", "流转地", "rented land", LARGEST_AREA),
        crops=crops,
        operations=_text(survey.operations, "operations", "经营项目", "operations"),
        annual_income=_amount(survey.annual_income, "annualIncome", "年收入", "annual income"),
        annual_expenses=_amount(survey.annual_expenses, "annualExpenses", "年支出", "annual expenses"),
        house_value=_amount(survey.house_value, "houseValue", "房产价值", "house value"),
        vehicle_value=_amount(survey.vehicle_value, "vehicleValue", "车辆价值", "vehicle value"),
        machinery_value=_amount(survey.machinery_value, "machineryValue", "农机价值", "machinery value"),
        debts=debts,
        character=_text(survey.character, "character", "人品评价", "character"),
        reputation=_text(survey.reputation, "reputation", "口碑评价", "reputation"),
        notes=_text(survey.notes, "notes", "备注", "notes"),
        risk_flags=tuple(sorted(set(survey.risk_flags))),
    )


def _check_soft_information(survey: Survey) -> None:
    if survey.collector_rating is not None and survey.collector_rating not in COLLECTOR_RATINGS:
        raise DomainError(
            Code.INVALID_RATING, "采集人评级须为A、B、C或D", "the collector's rating is A, B, C or D", "collectorRating"
        )
    _at_most(survey.risk_flags, len(RISK_FLAGS), "riskFlags", "不良嗜好", "risk flags")
    for i, flag in enumerate(survey.risk_flags):
        if flag not in RISK_FLAGS:
            raise DomainError(
                Code.INVALID_RATING,
                "不良嗜好须为GAMBLING(赌博)或DRUGS(吸毒)",
                "a risk flag is GAMBLING or DRUGS",
                f"riskFlags[{i}]",
            )


def _check_photo(photo: Photo, at: str, now: datetime) -> None:
    if not _SHA256.fullmatch(photo.sha256):
        raise DomainError(
            Code.INVALID_PHOTO,
            "照片摘要须为64位小写十六进制SHA-256",
            "a photo's digest is a SHA-256 in 64 lower-case hex digits",
            f"{at}.sha256",
        )
    if not 0 < photo.size_bytes <= LARGEST_PHOTO:
        raise DomainError(
            Code.INVALID_PHOTO, "照片大小须在1字节到20MB之间", "a photo is 1 byte to 20 MB", f"{at}.sizeBytes"
        )
    if photo.taken_at.tzinfo is None or photo.taken_at > now + CLOCK_SKEW:
        raise DomainError(
            Code.INVALID_SURVEY_TIME,
            "拍摄时间须带时区且不能晚于当前时间",
            "a photo's time must carry its zone and not lie in the future",
            f"{at}.takenAt",
        )
