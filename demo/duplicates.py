"""A labelled set for the survey de-duplication (查重标注集), seeded: villages of households with valid ID numbers
and Faker zh_CN names, some households surveyed twice with the slips collectors make, and the hard cases that
are not duplicates. The test measures precision and recall on it; the benchmark de-duplicates 200,000 households.

True duplicates (the same person in a second survey): the ID number as before or with a sequence digit
mistyped (still a valid number), one character of the name replaced by a homophone (同音字) or a similar-shaped
character (形近字) or the given name's two characters swapped, the phone one digit off, the address rewritten
(三组 / 3组, full-width digits, spaces). Hard negatives: villages of two or three surnames, neighbours sharing
a phone, namesakes in the same village born on other days.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from faker.providers.person.zh_CN import Provider as ChineseNames

from domain.customers.idcard import make_id_number
from domain.village_credit.dedup import SIMILAR_SHAPES, PersonRecord, _char_pinyin

REGION = "320324"  # 睢宁县
HOUSEHOLDS_PER_VILLAGE = 300
DUPLICATE_SHARE = 0.05
SHARED_PHONE_SHARE = 0.03
NAMESAKE_SHARE = 0.03
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_NUMERALS = "〇一二三四五六七八九"
_PHONE_PREFIXES = ("134", "135", "138", "139", "150", "151", "152", "158", "159", "182", "187", "188", "189", "199")
_TOWNS = ("王集", "双沟", "官山", "凌城", "古邳", "魏集", "姚集", "沙集", "梁集", "庆安", "邱集", "岚山")


@dataclass(frozen=True)
class LabelledSet:
    people: list[PersonRecord]
    true_pairs: set[tuple[int, int]]  # refs, smaller first
    households: int


def _given_chars() -> list[str]:
    chars = list(dict.fromkeys(ChineseNames.first_names))
    return [c for c in chars if len(c) == 1]


def _surnames() -> tuple[list[str], list[float]]:
    names = [n for n in ChineseNames.last_names if len(n) == 1]
    return names, [float(ChineseNames.last_names[n]) for n in names]


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.given = _given_chars()
        self.surnames, self.weights = _surnames()
        by_sound: dict[str, list[str]] = defaultdict(list)
        for ch in self.given:
            by_sound[_char_pinyin(ch)].append(ch)
        self.homophones = {ch: [o for o in by_sound[_char_pinyin(ch)] if o != ch] for ch in self.given}
        self.shapes = {ch: [o for o in g if o != ch] for g in SIMILAR_SHAPES for ch in g}
        self.taken: set[str] = set()

    def name(self, surname: str) -> str:
        count = 1 if self.rng.random() < 0.3 else 2
        return surname + "".join(self.rng.choice(self.given) for _ in range(count))

    def id_number(self, birth: date, male: bool) -> str:
        """A number nobody else has: one person, one number."""
        while True:
            number = make_id_number(REGION, birth, self.rng.randrange(500) * 2 + (1 if male else 0))
            if number not in self.taken:
                self.taken.add(number)
                return number

    def phone(self) -> str:
        return self.rng.choice(_PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def birth(self, year_from: int, year_to: int) -> date:
        start = date(year_from, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(year_to, 12, 31) - start).days))

    # --- the slips of a second survey -------------------------------------------------------------------

    def misspell(self, name: str) -> str:
        roll = self.rng.random()
        positions = list(range(1, len(name)))
        self.rng.shuffle(positions)
        if roll < 0.3:
            for i in positions:
                if self.homophones.get(name[i]):
                    return name[:i] + self.rng.choice(self.homophones[name[i]]) + name[i + 1 :]
        elif roll < 0.5:
            for i in positions:
                if self.shapes.get(name[i]):
                    return name[:i] + self.rng.choice(self.shapes[name[i]]) + name[i + 1 :]
        elif roll < 0.65 and len(name) == 3 and name[1] != name[2]:
            return name[0] + name[2] + name[1]
        return name

    def mistype_id(self, number: str) -> str:
        if self.rng.random() < 0.3:
            return number
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        while True:
            wrong = (int(number[14:17]) + self.rng.choice((10, 20, 100, 200))) % 1000  # a tens or hundreds digit
            mistyped = make_id_number(number[:6], birth, wrong)
            if mistyped not in self.taken:  # a slip that lands on someone else's number is not this test's case
                self.taken.add(mistyped)
                return mistyped

    def mistype_phone(self, phone: str | None) -> str | None:
        if phone is None or self.rng.random() > 0.3:
            return phone
        i = self.rng.randrange(3, 11)
        digit = str((int(phone[i]) + self.rng.randrange(1, 10)) % 10)
        return phone[:i] + digit + phone[i + 1 :]

    def rewrite_address(self, address: str) -> str:
        roll = self.rng.random()
        if roll < 0.3:
            return "".join(_NUMERALS[int(c)] if c.isdigit() and i < len(address) - 3 else c for i, c in
                           enumerate(address))  # fmt: skip
        if roll < 0.5:
            return address.translate(_FULL_WIDTH)
        if roll < 0.65:
            return address.replace("村", "村 ", 1)
        return address


def labelled_set(households: int, seed: int = 11) -> LabelledSet:
    """`households` surveys (about three people each) plus the second surveys of DUPLICATE_SHARE of them."""
    make = _Maker(seed)
    rng = make.rng
    people: list[PersonRecord] = []
    originals: list[list[PersonRecord]] = []
    village_people: list[PersonRecord] = []
    village_heads_phones: list[str] = []
    ref = 0
    for h in range(households):
        if h % HOUSEHOLDS_PER_VILLAGE == 0:
            village = h // HOUSEHOLDS_PER_VILLAGE
            town = _TOWNS[village % len(_TOWNS)]
            surnames = rng.choices(make.surnames, make.weights, k=3)
            village_people, village_heads_phones = [], []
        group, number = rng.randrange(1, 10), rng.randrange(1, 80)
        address = f"睢宁县{town}镇第{village}村{group}组{number}号"
        head_surname = rng.choice(surnames) if rng.random() < 0.7 else rng.choices(make.surnames, make.weights)[0]
        if village_heads_phones and rng.random() < SHARED_PHONE_SHARE:
            phone = rng.choice(village_heads_phones)  # a neighbour's phone
        else:
            phone = make.phone()
        village_heads_phones.append(phone)
        head_birth = make.birth(1955, 1995)
        members: list[tuple[str, date, bool, str | None]] = []
        if village_people and rng.random() < NAMESAKE_SHARE:
            head_name = rng.choice(village_people).name  # a namesake born another day
        else:
            head_name = make.name(head_surname)
        members.append((head_name, head_birth, True, phone))
        if rng.random() < 0.85:
            spouse_birth = head_birth + timedelta(days=rng.randrange(-1500, 1500))
            spouse_phone = phone if rng.random() < 0.4 else make.phone()
            members.append((make.name(rng.choice(make.surnames)), spouse_birth, False, spouse_phone))
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            child_birth = make.birth(min(head_birth.year + 20, 2020), min(head_birth.year + 35, 2024))
            members.append((make.name(head_name[0]), child_birth, rng.random() < 0.5, None))
        household: list[PersonRecord] = []
        for name, birth, male, member_phone in members:
            record = PersonRecord(ref, h, make.id_number(birth, male), name, member_phone, address, birth)
            ref += 1
            household.append(record)
        people.extend(household)
        village_people.extend(household)
        originals.append(household)
    truth: set[tuple[int, int]] = set()
    chosen = rng.sample(range(households), int(households * DUPLICATE_SHARE))
    for offset, h in enumerate(chosen):
        second = households + offset
        for person in originals[h]:
            copy = PersonRecord(
                ref,
                second,
                make.mistype_id(person.id_number),
                make.misspell(person.name),
                make.mistype_phone(person.phone),
                make.rewrite_address(person.address),
                person.birth_date,
            )
            truth.add((person.ref, ref))
            ref += 1
            people.append(copy)
    return LabelledSet(people, truth, households + len(chosen))
