"""Made-up people (演示人口), vectorised: households of members, head first, with valid resident ID numbers,
Faker zh_CN names, sexes, birth dates, mobile numbers, deposits, loans and credit lines, penetration flags and
tags. A million people take seconds: every attribute is drawn for everyone at once with numpy.

Where people live is the caller's: the demo county puts households in its villages, the geo benchmark draws
points of its own. draw_people asks the caller for the coordinates (locate) at a fixed point of its random
draws, so the same seed gives the same people whatever the caller does with them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from faker import Faker

from demo.errors import DemoDataError
from domain.credit.classification import LoanClass
from geo.demo_grid import COUNTY_CODE

HOUSEHOLD_SIZE_SHARES = (0.14, 0.30, 0.24, 0.20, 0.12)  # 1 to 5 members
MALE_HEAD_SHARE = 0.85
CHILD_KEEPS_SURNAME_SHARE = 0.9
MOBILE_PREFIXES = (
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182", "183", "187",
    "188", "130", "131", "132", "155", "156", "166", "185", "186", "133", "153", "173", "177", "180", "181",
    "189", "199",
)  # fmt: skip
PHONE_SHARE = 0.90
BORROWER_SHARE = 0.25
PRE_APPROVED_HEAD_SHARE = 0.40  # whole-village credit for households that have not borrowed yet
LOAN_CLASS_SHARES = {
    LoanClass.PASS: 0.93, LoanClass.SPECIAL_MENTION: 0.04, LoanClass.SUBSTANDARD: 0.015,
    LoanClass.DOUBTFUL: 0.01, LoanClass.LOSS: 0.005,
}  # fmt: skip
FLAG_SHARES = {"has_ebanking": 0.55, "has_third_party_payment": 0.45, "has_social_security_card": 0.80}
TAG_SHARES = {"种植户": 0.35, "养殖户": 0.12, "个体工商户": 0.08, "务工": 0.25, "新市民": 0.05, "电商": 0.04}
CORE_BANKING_SHARE = 0.5  # of customers without a loan; borrowers are all in the core-banking file
SEQUENCE_SLOTS = 499  # ID sequence numbers per birth day and sex: men 001–997, women 002–998
# ISO 7064 MOD 11-2, as GB 11643 uses it: digit i of 17 weighs 2^(17 - i) mod 11; the check character makes
# the weighted sum ≡ 1 (mod 11), X standing for 10
_ID_WEIGHTS = 2 ** np.arange(17, 0, -1, dtype=np.int64) % 11
_ID_CHECK = np.array([str((12 - remainder) % 11).replace("10", "X") for remainder in range(11)])

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Dates = npt.NDArray[np.datetime64]
Texts = npt.NDArray[np.str_]
Objects = npt.NDArray[np.object_]


@dataclass(frozen=True)
class Members:
    """Who belongs where: person i is member position[i] (0 the head, 1 the spouse, 2… the children) of
    household[i]; households follow one another, their members together."""

    household: Ints
    position: Ints

    @classmethod
    def of(cls, sizes: Ints) -> Members:
        household = np.repeat(np.arange(len(sizes)), sizes)
        first = np.cumsum(sizes) - sizes
        return cls(household=household, position=np.arange(len(household)) - first[household])

    @property
    def head(self) -> Bools:
        head: Bools = self.position == 0
        return head


# (lon, lat) of every member, NaN where unknown; called once, after sexes and birth dates are drawn
Locate = Callable[[Members], Floats]


@dataclass(frozen=True)
class People:
    """One row per person, in household order. Amounts are in yuan, rounded to the fen."""

    members: Members
    male: Bools
    birth_date: Dates
    location: Floats  # (n, 2): lon, lat
    id_number: Texts
    name: Texts
    phone: Objects  # str, or None for someone without a mobile number
    deposit_balance: Floats
    loan_balance: Floats
    credit_line: Floats
    loan_class: Objects  # LoanClass of a borrower, None for everyone else
    in_core_banking: Bools  # in the core-banking file, rather than known from a survey
    flags: dict[str, Bools]  # FLAG_SHARES' names
    tags: Objects  # ",种植户,务工," — "," for none, for a portable LIKE

    def __len__(self) -> int:
        return len(self.male)


def household_sizes(people: int, rng: np.random.Generator) -> Ints:
    """Household sizes adding up to exactly the number of people."""
    size = rng.choice(np.arange(1, len(HOUSEHOLD_SIZE_SHARES) + 1), size=people, p=HOUSEHOLD_SIZE_SHARES)
    total = np.cumsum(size)
    count = int(np.searchsorted(total, people)) + 1
    size = size[:count]
    size[-1] -= total[count - 1] - people
    return size


def running_count(key: Ints) -> Ints:
    """For every element, how many elements before it share its key: 0, 1, 2 …"""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    rank = np.empty_like(key)
    rank[order] = np.arange(len(key)) - np.searchsorted(ordered, ordered)
    return rank


def draw_people(sizes: Ints, locate: Locate, faker: Faker, rng: np.random.Generator) -> People:
    """The members of households of the given sizes: a head, a spouse of the other sex and of about the
    head's age, then grown children mostly sharing the head's surname."""
    members = Members.of(sizes)
    count = len(members.household)
    male = _sexes(members, len(sizes), rng)
    birth = _birth_dates(members, sizes, rng)
    location = locate(members)
    id_number = resident_ids(birth, male, rng)
    name = _names(members, male, faker, rng)
    phone = _phones(count, rng)
    deposit, loan, credit_line, loan_class, in_core_banking = _finances(members.head, rng)
    flags = {flag: rng.random(count) < share for flag, share in FLAG_SHARES.items()}
    return People(
        members=members,
        male=male,
        birth_date=birth,
        location=location,
        id_number=id_number,
        name=name,
        phone=phone,
        deposit_balance=deposit,
        loan_balance=loan,
        credit_line=credit_line,
        loan_class=loan_class,
        in_core_banking=in_core_banking,
        flags=flags,
        tags=_tags(count, rng),
    )


def _sexes(members: Members, households: int, rng: np.random.Generator) -> Bools:
    """Most heads are men (户主); a spouse is of the other sex; children either."""
    male_head = rng.random(households) < MALE_HEAD_SHARE
    child_male = rng.random(len(members.position)) < 0.5
    head_male = male_head[members.household]
    sexes: Bools = np.select([members.position == 0, members.position == 1], [head_male, ~head_male], child_male)
    return sexes


def _birth_dates(members: Members, sizes: Ints, rng: np.random.Generator) -> Dates:
    """Born 1940–2005: heads of three or more before 1981, so that their grown children are adults too."""
    position, count = members.position, len(members.position)
    head_year = np.where(sizes >= 3, rng.integers(1945, 1981, len(sizes)), rng.integers(1940, 2004, len(sizes)))
    year = head_year[members.household] + np.select(
        [position == 0, position == 1], [0, rng.integers(-4, 5, count)], rng.integers(22, 33, count)
    )
    start = (np.clip(year, 1940, 2005) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    dates: Dates = start + rng.integers(0, 365, count).astype("timedelta64[D]")
    return dates


def resident_ids(birth: Dates, male: Bools, rng: np.random.Generator) -> Texts:
    """Valid, distinct ID numbers of the county: people born the same day and of the same sex get distinct
    sequence numbers, odd for men and even for women, starting from a random slot per day and sex."""
    key = birth.astype(np.int64) * 2 + male
    rank = running_count(key)
    if rank.max() >= SEQUENCE_SLOTS:
        raise DemoDataError("too many people born on one day for distinct ID numbers / 同日出生人数过多")
    start = rng.integers(0, SEQUENCE_SLOTS, int(key.max()) + 1)
    # keys before 1970 are negative: they count from the table's end, as numpy indexes, wrapped if need be
    sequence = (start[key % len(start)] + rank * 13) % SEQUENCE_SLOTS * 2 + np.where(male, 1, 2)
    return id_numbers(COUNTY_CODE, birth, sequence)


def id_numbers(region: str, birth: Dates, sequence: Ints) -> Texts:
    """18-digit resident ID numbers (GB 11643): region, birth date, sequence number, check character."""
    born = birth.astype("datetime64[D]")
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
    birth_digits = (year * 10_000 + month * 100 + day) * 1_000 + sequence
    first17 = int(region) * 10**11 + birth_digits
    weighted = sum((first17 // 10 ** (16 - i) % 10) * int(weight) for i, weight in enumerate(_ID_WEIGHTS))
    numbers: Texts = np.char.add(np.char.zfill(first17.astype(str), 17), _ID_CHECK[weighted % 11])
    return numbers


def _names(members: Members, male: Bools, faker: Faker, rng: np.random.Generator) -> Texts:
    """Faker-drawn pools combined with numpy: most children take the head's surname, spouses keep theirs."""
    position, count = members.position, len(members.position)
    surnames = np.array([faker.last_name() for _ in range(600)])
    male_given, female_given = (_given_names(draw, rng) for draw in (faker.first_name_male, faker.first_name_female))
    own = surnames[rng.integers(len(surnames), size=count)]
    heads = own[np.flatnonzero(position == 0)]
    keeps_head_surname = (position >= 2) & (rng.random(count) < CHILD_KEEPS_SURNAME_SHARE)
    surname = np.where(keeps_head_surname, heads[members.household], own)
    given = np.where(
        male,
        male_given[rng.integers(len(male_given), size=count)],
        female_given[rng.integers(len(female_given), size=count)],
    )
    names: Texts = np.char.add(surname, given)
    return names


def _given_names(draw: Callable[[], str], rng: np.random.Generator, size: int = 1500) -> Texts:
    """Faker knows a few dozen given names per sex; pairs of their characters give a county's variety."""
    known = np.array([draw() for _ in range(size)])
    characters = np.array(sorted({c for name in known.tolist() for c in name}))
    pairs = np.char.add(rng.choice(characters, size), rng.choice(characters, size))
    return np.concatenate([known, pairs])


def _phones(count: int, rng: np.random.Generator) -> Objects:
    prefix = np.array(MOBILE_PREFIXES)[rng.integers(len(MOBILE_PREFIXES), size=count)]
    line = np.char.zfill(rng.integers(10**8, size=count).astype(str), 8)
    has_phone = rng.random(count) < PHONE_SHARE
    phones: Objects = np.full(count, None, dtype=object)
    phones[has_phone] = np.char.add(prefix, line)[has_phone]
    return phones


def _finances(head: Bools, rng: np.random.Generator) -> tuple[Floats, Floats, Floats, Objects, Bools]:
    """Deposits log-normal (most a few thousand yuan, a few over a million); a quarter borrow 10k–500k, with a
    credit line above the loan and a five-tier class; whole-village credit pre-approves many other heads.
    Returns deposits, loans, credit lines, loan classes and who is in the core-banking file."""
    count = len(head)
    deposit = np.round(rng.lognormal(np.log(6000), 1.6, count), 2)
    borrower = rng.random(count) < BORROWER_SHARE
    loan = np.where(borrower, np.round(np.exp(rng.uniform(np.log(1e4), np.log(5e5), count)), -2), 0.0)
    pre_approved = ~borrower & head & (rng.random(count) < PRE_APPROVED_HEAD_SHARE)
    credit_line = np.select(
        [borrower, pre_approved],
        [np.ceil(loan * rng.uniform(1.0, 1.5, count) / 1e4) * 1e4, rng.integers(3, 31, count) * 1e4],
        0.0,
    )
    drawn_class = rng.choice(list(LOAN_CLASS_SHARES), size=count, p=list(LOAN_CLASS_SHARES.values()))
    loan_class: Objects = np.full(count, None, dtype=object)
    loan_class[borrower] = drawn_class[borrower]
    in_core_banking = borrower | (rng.random(count) < CORE_BANKING_SHARE)
    return deposit, loan, credit_line, loan_class, in_core_banking


def _tags(count: int, rng: np.random.Generator) -> Objects:
    has_tag = rng.random((count, len(TAG_SHARES))) < np.array(list(TAG_SHARES.values()))
    combination = has_tag @ (1 << np.arange(len(TAG_SHARES)))
    spelled = np.array(
        [
            "," + "".join(f"{tag}," for bit, tag in enumerate(TAG_SHARES) if combo >> bit & 1)
            for combo in range(1 << len(TAG_SHARES))
        ],
        dtype=object,
    )
    tags: Objects = spelled[combination]
    return tags
