"""Finding the same person surveyed twice: measured on a seeded labelled set (homophones, similar-shaped
characters, swapped given names, a phone digit off, mistyped ID numbers against same-surname villages,
neighbours sharing a phone and namesakes), and the single slips each explained in both languages."""

from __future__ import annotations

from datetime import date

from demo.duplicates import labelled_set
from domain.village_credit.dedup import (
    THRESHOLD,
    PersonRecord,
    Rule,
    calibrate,
    find_duplicates,
    measure,
    naive_duplicates,
    normalize_address,
    normalize_name,
)

BORN = date(1980, 3, 1)


def _pair(a: PersonRecord, b: PersonRecord) -> list[str]:
    found = find_duplicates([a, b])
    assert len(found) == 1, found
    return [r.code for r in found[0].reasons]


def test_precision_and_recall_on_the_labelled_set() -> None:
    labelled = labelled_set(3000, seed=2026)
    measured = measure(find_duplicates(labelled.people), labelled.true_pairs)
    assert len(labelled.true_pairs) > 400
    assert measured.precision >= 0.99, measured
    assert measured.recall >= 0.95, measured


def test_the_threshold_is_the_calibrated_one() -> None:
    labelled = labelled_set(1500, seed=7)
    assert calibrate(find_duplicates(labelled.people, threshold=0.0), labelled.true_pairs) <= THRESHOLD


def test_blocking_finds_what_scoring_every_pair_finds() -> None:
    labelled = labelled_set(300, seed=3)
    blocked = {(m.a.ref, m.b.ref) for m in find_duplicates(labelled.people)}
    naive = {(min(m.a.ref, m.b.ref), max(m.a.ref, m.b.ref)) for m in naive_duplicates(labelled.people)}
    assert {(min(a, b), max(a, b)) for a, b in blocked} == naive


def test_the_same_id_number_in_two_households_is_certain() -> None:
    a = PersonRecord(1, 10, "320324198003011234", "张大山", "13812340000", "张庄村三组8号", BORN)
    b = PersonRecord(2, 20, "３２０３２４１９８００３０１１２３４", "李四", None, "", BORN)
    [match] = find_duplicates([a, b])
    assert (match.rule, match.score, [r.code for r in match.reasons]) == (Rule.EXACT_ID, 1.0, ["SAME_ID_NUMBER"])


def test_a_homophone_with_the_same_phone_is_explained() -> None:
    a = PersonRecord(1, 10, "320324198003011234", "张明华", "13812340000", "张庄村三组8号", BORN)
    b = PersonRecord(2, 20, "320324198003011250", "张鸣华", "13812340000", "张庄村3组8号", BORN)
    [match] = find_duplicates([a, b])
    assert match.rule == Rule.NAME_PHONE
    assert match.reasons[0].en == "same phone"
    assert match.reasons[1].zh == "姓名有一个同音字不同(明/鸣)"
    assert match.reasons[1].en == "the names differ in one similar-sounding character (明/鸣)"


def test_the_records_order_does_not_change_the_match_or_how_it_is_worded() -> None:
    """The database hands the surveys back in no set order: the pair is scored the same way round whatever
    order the records come in, the person with the smaller ref first."""
    a = PersonRecord(1, 10, "320324198003011234", "张明华", "13812340000", "张庄村三组8号", BORN)
    b = PersonRecord(2, 20, "320324198003011250", "张鸣华", "13812340000", "张庄村3组8号", BORN)
    [forward] = find_duplicates([a, b])
    [backward] = find_duplicates([b, a])
    assert (backward.a.ref, backward.b.ref) == (forward.a.ref, forward.b.ref) == (1, 2)
    assert backward.reasons == forward.reasons
    assert backward.reasons[1].en == "the names differ in one similar-sounding character (明/鸣)"


def test_a_similar_shaped_character_a_swap_and_a_phone_digit_off() -> None:
    a = PersonRecord(1, 10, "320324198003011234", "王己红", "13812340000", "张庄村三组8号", BORN)
    b = PersonRecord(2, 20, "320324198003011250", "王已红", "13812340000", "张庄村三组8号", BORN)
    assert "NAME_SIMILAR_SHAPE" in _pair(a, b)
    c = PersonRecord(3, 30, "320324198003011234", "刘伟明", "13812340000", "张庄村三组8号", BORN)
    d = PersonRecord(4, 40, "320324198003011277", "刘明伟", "13812340009", "张庄村三组8号", BORN)
    assert {"NAME_SWAPPED", "PHONE_ONE_DIGIT", "SAME_BIRTH_DATE"} <= set(_pair(c, d))


def test_hard_negatives_are_not_duplicates() -> None:
    head = PersonRecord(1, 10, "320324198003011234", "张大山", "13812340000", "张庄村三组8号", BORN)
    neighbour = PersonRecord(2, 20, "320324197505051234", "张小梅", "13812340000", "张庄村三组9号", date(1975, 5, 5))
    namesake = PersonRecord(3, 30, "320324199001011234", "张大山", "13900000000", "张庄村三组10号", date(1990, 1, 1))
    spouse = PersonRecord(4, 10, "320324198003011250", "张大山", "13812340000", "张庄村三组8号", BORN)
    assert find_duplicates([head, neighbour, namesake, spouse]) == []


def test_names_and_addresses_have_one_spelling() -> None:
    assert normalize_name(" 張 大山 ") == "张大山"
    assert normalize_address("张庄村 三组 ８号") == normalize_address("张庄村3组8号")
