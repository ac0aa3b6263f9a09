"""Finding the same person surveyed twice (查重): in two households of a campaign, or in this campaign and another
of the county. Pure: records in, scored and explained matches out.

- **Certain**: the same normalised ID number in two surveys is the same person (rule EXACT_ID, score 1).
- **Probable**: a collector mistyped a digit of the ID number, wrote a homophone (同音字: 明/鸣) or a
  similar-shaped character (形近字: 己/已), swapped the two characters of a given name, or a digit of the phone.
  Records are put in blocks that such slips leave equal — name in pinyin + phone, name + address, name +
  birth date, and the phone's two halves + surname (a phone one digit off keeps one half) — and only pairs
  sharing a block are scored (rapidfuzz for the free text). A pair scoring at least THRESHOLD is queued for a
  person to confirm or reject, with the reasons in both languages ("same phone, the names differ in one
  similar-sounding character").

THRESHOLD was calibrated on the seeded labelled set (domain.village_credit.dedup_labelled): the lowest score
that keeps precision ≥ 99.5 % there (`calibrate`); the test measures precision and recall on a fresh set.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache

from pypinyin import Style, lazy_pinyin
from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio

from domain.customers.idcard import normalize_id_number
from domain.text import ascii_digits

THRESHOLD = 0.75
LARGEST_BLOCK = 200  # a block this big says nothing (a shared switchboard number): its pairs are not scored

# 形近字: characters collectors confuse by shape when copying a name from a household register
SIMILAR_SHAPES: tuple[str, ...] = (
    "己已巳", "未末", "日曰", "土士", "戊戌戍", "人入", "大太犬", "王玉主", "田由甲申", "刀力",
    "天夭", "候侯", "贝见", "鸟乌", "折拆", "兔免", "崇祟", "洒酒", "微徽", "建健", "玲铃伶",
    "峰锋蜂", "晴睛", "清倩", "杨扬", "张账", "李季", "刘浏", "陈阵", "茂戊", "秀透", "芳方",
    "红江", "华桦", "兰兰", "梅每", "英瑛", "军车", "明朋", "伟传", "霞瑕", "凤风", "荣荥",
    "淑叔", "桂挂", "辉晖", "丽丽", "萍苹", "燕雁", "波坡", "斌赋", "彬杉",
)  # fmt: skip
_SHAPE_GROUP = {ch: i for i, group in enumerate(SIMILAR_SHAPES) for ch in group}

# 繁体/异体 → 简体 for the characters seen in rural names and addresses (a full converter is not worth its weight)
_VARIANTS = str.maketrans(
    "張陳劉楊黃趙吳周鄭馮韓馬許鄧蕭葉蘇呂盧蔣謝魏錢孫朱羅沈閆龍鳳華國軍偉紅麗燕霞蘭亞東"
    "寶貴榮輝強傑勝濤鵬飛勇義學興順發財莊鄉鎮組號縣區門",
    "张陈刘杨黄赵吴周郑冯韩马许邓萧叶苏吕卢蒋谢魏钱孙朱罗沈闫龙凤华国军伟红丽燕霞兰亚东"
    "宝贵荣辉强杰胜涛鹏飞勇义学兴顺发财庄乡镇组号县区门",
)
_DROPPED = dict.fromkeys(map(ord, " \t\u3000·•.-_,，、()（）"), None)
_ADDRESS_NUMERALS = str.maketrans("一二三四五六七八九〇", "1234567890")


class Rule(StrEnum):
    """Why two surveys were put side by side (the strongest evidence)."""

    EXACT_ID = "EXACT_ID"  # the same ID number: certain
    NAME_PHONE = "NAME_PHONE"
    NAME_BIRTH_DATE = "NAME_BIRTH_DATE"
    NAME_ADDRESS = "NAME_ADDRESS"


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class PersonRecord:
    """A person as surveyed. `ref` names them (a member row, a generated person); `household` is their survey:
    two people of one household are never the same person."""

    ref: int
    household: int
    id_number: str
    name: str
    phone: str | None = None
    address: str = ""
    birth_date: date | None = None


@dataclass(frozen=True)
class Match:
    a: PersonRecord
    b: PersonRecord
    score: float
    rule: Rule
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


# --- normalisation -------------------------------------------------------------------------------------------


def normalize_name(raw: str) -> str:
    """A name's one spelling: full-width as half-width (NFKC), spaces and dots dropped, traditional as
    simplified for the common characters."""
    return unicodedata.normalize("NFKC", raw or "").translate(_DROPPED).translate(_VARIANTS)


def normalize_address(raw: str) -> str:
    """An address's one spelling: as a name, with Chinese numerals as digits (三组 and 3组 are one group)."""
    return normalize_name(raw).translate(_ADDRESS_NUMERALS)


def normalize_phone_digits(raw: str | None) -> str:
    digits = "".join(ch for ch in ascii_digits(raw or "") if ch.isdigit())
    return digits[-11:] if len(digits) >= 11 else digits


@cache
def _char_pinyin(ch: str) -> str:
    return lazy_pinyin(ch, style=Style.NORMAL, errors="default")[0]


def name_pinyin(name: str) -> tuple[str, ...]:
    """The syllables of a name without tones: homophones (同音字) share them."""
    return tuple(_char_pinyin(ch) for ch in name)


def name_key(name: str) -> str:
    """Surname's pinyin, then the given name's syllables sorted: a homophone or a swapped given name keeps it."""
    syllables = name_pinyin(name)
    if not syllables:
        return ""
    return syllables[0] + ":" + "-".join(sorted(syllables[1:]))


def address_key(address: str) -> str:
    """Down to the village group (组) when written, else the first 12 characters: neighbours share it."""
    cut = address.find("组")
    return address[: cut + 1] if 0 <= cut <= 30 else address[:12]


# --- blocking ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    record: PersonRecord
    id_number: str
    name: str
    phone: str
    address: str
    pinyin: tuple[str, ...]


def _prepare(record: PersonRecord) -> _Prepared:
    name = normalize_name(record.name)
    return _Prepared(
        record,
        normalize_id_number(record.id_number),
        name,
        normalize_phone_digits(record.phone),
        normalize_address(record.address),
        name_pinyin(name),
    )


def blocking_keys(p: _Prepared) -> Iterator[str]:
    key = ":".join(p.pinyin[:1]) + "|" + "-".join(sorted(p.pinyin[1:]))
    surname = p.pinyin[0] if p.pinyin else ""
    if p.phone:
        yield f"np|{key}|{p.phone}"
        yield f"p1|{surname}|{p.phone[:6]}"  # one digit off in the last five: the first six still agree
        yield f"p2|{surname}|{p.phone[6:]}"
    if p.record.birth_date is not None:
        yield f"nb|{key}|{p.record.birth_date.isoformat()}"
        # a similar-shaped character changes the pinyin: surname and birth date still agree
        yield f"sb|{surname}|{p.record.birth_date.isoformat()}|{len(p.name)}"
    if p.address:
        yield f"na|{key}|{address_key(p.address)}"


def block_shard(key: str, shards: int) -> int:
    """Which of `shards` chunks owns a block: the same on every process and run."""
    return zlib.crc32(key.encode()) % shards


# --- scoring -------------------------------------------------------------------------------------------------


def _same_shape_group(a: str, b: str) -> bool:
    return a in _SHAPE_GROUP and _SHAPE_GROUP.get(a) == _SHAPE_GROUP.get(b)


def _name_evidence(a: _Prepared, b: _Prepared) -> tuple[float, Reason | None]:
    if a.name == b.name:
        return 1.0, Reason("SAME_NAME", "姓名相同", "same name")
    if len(a.name) == len(b.name) and len(a.name) >= 3 and a.name[0] == b.name[0] and a.name[1:] == b.name[:0:-1]:
        return 0.9, Reason(
            "NAME_SWAPPED", f"名字两字顺序颠倒({a.name}/{b.name})", "the given name's characters are swapped"
        )
    if len(a.name) == len(b.name):
        differing = [(x, y) for x, y in zip(a.name, b.name, strict=True) if x != y]
        if len(differing) == 1:
            x, y = differing[0]
            if _char_pinyin(x) == _char_pinyin(y):
                return 0.92, Reason(
                    "NAME_HOMOPHONE",
                    f"姓名有一个同音字不同({x}/{y})",
                    f"the names differ in one similar-sounding character ({x}/{y})",
                )
            if _same_shape_group(x, y):
                return 0.9, Reason(
                    "NAME_SIMILAR_SHAPE",
                    f"姓名有一个形近字不同({x}/{y})",
                    f"the names differ in one similar-looking character ({x}/{y})",
                )
            return 0.55, Reason("NAME_ONE_CHARACTER", f"姓名有一个字不同({x}/{y})", "the names differ in one character")
    similarity = ratio(" ".join(a.pinyin), " ".join(b.pinyin)) / 100
    return similarity * 0.7, None


def _phone_evidence(a: _Prepared, b: _Prepared) -> tuple[float, Reason | None]:
    if not a.phone or not b.phone:
        return 0.0, None
    if a.phone == b.phone:
        return 1.0, Reason("SAME_PHONE", "手机号相同", "same phone")
    if len(a.phone) == len(b.phone) and Levenshtein.distance(a.phone, b.phone, score_cutoff=1) <= 1:
        return 0.8, Reason("PHONE_ONE_DIGIT", "手机号仅一位不同", "the phones differ in one digit")
    return 0.0, None


def _id_evidence(a: _Prepared, b: _Prepared) -> tuple[float, Reason | None]:
    if len(a.id_number) == len(b.id_number) == 18 and Levenshtein.distance(a.id_number, b.id_number) <= 2:
        return 1.0, Reason("ID_NUMBER_CLOSE", "身份证号仅一两位不同", "the ID numbers differ in one or two digits")
    return 0.0, None


def score_pair(a: _Prepared, b: _Prepared) -> Match | None:
    """A pair's score in [0, 1] and its explanation; None when the names are too far apart to be one person."""
    if a.id_number and a.id_number == b.id_number:
        reason = Reason("SAME_ID_NUMBER", "身份证号相同", "same ID number")
        return Match(a.record, b.record, 1.0, Rule.EXACT_ID, (reason,))
    name, name_reason = _name_evidence(a, b)
    if name < 0.5:
        return None
    phone, phone_reason = _phone_evidence(a, b)
    same_birth = a.record.birth_date is not None and a.record.birth_date == b.record.birth_date
    address = ratio(a.address, b.address) / 100 if a.address and b.address else 0.0
    id_close, id_reason = _id_evidence(a, b)
    # a namesake born on another day is another person, whatever else agrees (father and son, two neighbours)
    if a.record.birth_date and b.record.birth_date and not same_birth:
        return None
    evidence = 0.45 * name + 0.2 * phone + 0.15 * address + 0.1 * id_close + (0.2 if same_birth else 0.0)
    score = round(min(evidence, 0.99), 3)  # 1 is kept for the certain: the same ID number
    reasons = [r for r in (phone_reason, name_reason) if r is not None]
    if same_birth:
        reasons.append(Reason("SAME_BIRTH_DATE", "出生日期相同", "same birth date"))
    if address >= 0.85:
        reasons.append(Reason("SIMILAR_ADDRESS", "住址相近", "similar address"))
    if id_reason is not None:
        reasons.append(id_reason)
    if phone >= 0.8:
        rule = Rule.NAME_PHONE
    elif same_birth:
        rule = Rule.NAME_BIRTH_DATE
    else:
        rule = Rule.NAME_ADDRESS
    return Match(a.record, b.record, score, rule, tuple(reasons))


# --- finding -------------------------------------------------------------------------------------------------


def find_duplicates(
    records: Iterable[PersonRecord],
    *,
    probe: Callable[[PersonRecord], bool] | None = None,
    threshold: float = THRESHOLD,
    shard: tuple[int, int] | None = None,
) -> list[Match]:
    """Every pair of people in different households that are probably (or certainly) one person, best first.

    `probe` limits the pairs to those with at least one probing record (a campaign's own people, against the
    county's); `shard` = (part, shards) keeps only pairs owned by that part, so chunks share the work without
    finding a pair twice (a pair is owned by the shard of its smaller ref pair hash)."""
    prepared = [_prepare(r) for r in records]
    by_id: dict[str, list[_Prepared]] = defaultdict(list)
    blocks: dict[str, list[_Prepared]] = defaultdict(list)
    for p in prepared:
        if p.id_number:
            by_id[p.id_number].append(p)
        for key in blocking_keys(p):
            blocks[key].append(p)
    seen: set[tuple[int, int]] = set()
    found: list[Match] = []

    def consider(pairs: Iterable[tuple[_Prepared, _Prepared]]) -> None:
        for x, y in pairs:
            if x.record.household == y.record.household:
                continue
            if probe is not None and not (probe(x.record) or probe(y.record)):
                continue
            key = (x.record.ref, y.record.ref) if x.record.ref < y.record.ref else (y.record.ref, x.record.ref)
            if key in seen:
                continue
            seen.add(key)
            if shard is not None and zlib.crc32(f"{key[0]}:{key[1]}".encode()) % shard[1] != shard[0]:
                continue
            match = _scored(x, y)
            if match is not None and match.score >= threshold:
                found.append(match)

    for group in by_id.values():
        if len(group) > 1:
            consider(_pairs(group))
    for group in blocks.values():
        if 1 < len(group) <= LARGEST_BLOCK:
            consider(_pairs(group))
    found.sort(key=lambda m: (-m.score, m.a.ref, m.b.ref))
    return found


def _scored(x: _Prepared, y: _Prepared) -> Match | None:
    """The pair scored in ref order, so the reasons name the two the same way whatever order the records came
    in (the database hands the surveys back in none)."""
    return score_pair(x, y) if x.record.ref < y.record.ref else score_pair(y, x)


def _pairs(group: Sequence[_Prepared]) -> Iterator[tuple[_Prepared, _Prepared]]:
    for i, x in enumerate(group):
        for y in group[i + 1 :]:
            yield x, y


def naive_duplicates(records: Sequence[PersonRecord], *, threshold: float = THRESHOLD) -> list[Match]:
    """Every pair scored, no blocking: the baseline the benchmark measures blocking against."""
    prepared = [_prepare(r) for r in records]
    found = []
    for x, y in _pairs(prepared):
        if x.record.household != y.record.household:
            match = _scored(x, y)
            if match is not None and match.score >= threshold:
                found.append(match)
    return found


@dataclass(frozen=True)
class Measured:
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int


def measure(found: Iterable[Match], truth: set[tuple[int, int]]) -> Measured:
    """Precision and recall of matches against the labelled pairs (refs, smaller first)."""
    pairs = {(min(m.a.ref, m.b.ref), max(m.a.ref, m.b.ref)) for m in found}
    tp = len(pairs & truth)
    fp = len(pairs - truth)
    fn = len(truth - pairs)
    return Measured(tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0, tp, fp, fn)


def calibrate(scored: Sequence[Match], truth: set[tuple[int, int]], precision: float = 0.995) -> float:
    """The lowest threshold at which the matches (found with threshold 0) keep the precision asked for."""
    best = 1.0
    for threshold in sorted({m.score for m in scored}, reverse=True):
        if measure([m for m in scored if m.score >= threshold], truth).precision < precision:
            break
        best = threshold
    return best
