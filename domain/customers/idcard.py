"""The 18-digit resident identity number (居民身份证号码, GB 11643-1999).

Layout: 6-digit administrative region, 8-digit birth date, 3-digit sequence (odd for men, even for women),
1 check character computed with ISO 7064 MOD 11-2. The region is checked against every GB/T 2260 code ever in
force (domain/customers/regions.py).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import date

from domain.customers.enums import Sex
from domain.customers.errors import CustomerErrorCode
from domain.customers.regions import is_division_code
from domain.errors import DomainError
from domain.text import ascii_digits

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")

EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True)
class ResidentId:
    number: str
    region: str
    birth_date: date
    sex: Sex


def check_char(first17: str) -> str:
    """The check character for the first 17 digits."""
    if len(first17) != len(_WEIGHTS):
        raise ValueError(f"check_char takes 17 digits, not {len(first17)}")
    total = sum(map(operator.mul, map(int, first17), _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def _invalid(zh: str, en: str, field: str) -> DomainError:
    return DomainError(CustomerErrorCode.INVALID_ID_NUMBER, f"身份证号码无效:{zh}", f"invalid ID number: {en}", field)


def normalize_id_number(raw: str) -> str:
    """The one spelling of an ID number however it was typed: full-width or other non-ASCII digits as ASCII
    digits, a full-width or lower-case x as X, surrounding spaces dropped. Every way a number enters (filing,
    a search, a survey or file import) goes through this before it is checked, stored or compared."""
    return ascii_digits(raw or "").strip().upper()


def shaped_id_number(raw: str, *, field: str = "idNumber") -> str:
    """The normalised number, which must have the shape of one (17 digits, then a digit or X). A search by ID
    number compares with this: a number filed before a region code was listed is still found."""
    number = normalize_id_number(raw)
    if not _SHAPE.fullmatch(number):
        raise _invalid("应为17位数字加1位数字或X", "must be 17 digits followed by a digit or X", field)
    return number


def parse_id_number(raw: str, *, today: date, field: str = "idNumber") -> ResidentId:
    """Validate an ID number (normalised first) and derive birth date and sex."""
    number = shaped_id_number(raw, field=field)
    region = number[:6]
    if not is_division_code(region):
        raise _invalid("行政区划代码不存在", "unknown region code", field)
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _invalid("出生日期不存在", "birth date does not exist", field) from None
    if birth < EARLIEST_BIRTH or birth > today:
        raise _invalid("出生日期超出范围", "birth date out of range", field)
    if check_char(number[:17]) != number[17]:
        raise _invalid("校验码错误", "check digit does not match", field)
    sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    return ResidentId(number=number, region=region, birth_date=birth, sex=sex)


def stored_birth_date(number: str) -> date:
    """The birth date in a number already checked by parse_id_number (as every stored one was): read, not
    checked again, for a batch that reads hundreds of thousands of them."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def make_id_number(region: str, birth: date, sequence: int) -> str:
    """Build a valid number (for demo data and tests): sequence is 0–999, odd for men."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
