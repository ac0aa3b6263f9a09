"""Resident ID numbers (GB 11643) against a table of real-format valid and invalid examples."""

from datetime import date

import pytest

from domain.customers.errors import CustomerErrorCode
from domain.customers.idcard import (
    check_char,
    make_id_number,
    normalize_id_number,
    parse_id_number,
    stored_birth_date,
)
from domain.customers.regions import division_codes, is_division_code
from domain.errors import DomainError

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("number", "birth", "sex"),
    [
        ("11010519491231002X", date(1949, 12, 31), "FEMALE"),  # the standard's own worked example
        ("320324198506150013", date(1985, 6, 15), "MALE"),
        ("320324198506150021", date(1985, 6, 15), "FEMALE"),
        ("44030820000229001X", date(2000, 2, 29), "MALE"),  # leap day
        ("11010519491231002x", date(1949, 12, 31), "FEMALE"),  # lower-case x accepted
        (" 320324198506150013 ", date(1985, 6, 15), "MALE"),  # surrounding spaces trimmed
    ],
)
def test_valid_numbers_derive_birth_date_and_sex(number: str, birth: date, sex: str) -> None:
    parsed = parse_id_number(number, today=TODAY)
    assert (parsed.birth_date, parsed.sex, parsed.region) == (birth, sex, number.strip()[:6])
    assert parsed.number == number.strip().upper()
    assert stored_birth_date(parsed.number) == birth  # read back from the stored number, as screening does


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("", "must be 17 digits"),
        ("32032419850615001", "must be 17 digits"),  # 17 characters
        ("3203241985061500111", "must be 17 digits"),  # 19 characters
        ("32032419850615001A", "must be 17 digits"),
        ("3203241985O615001X", "must be 17 digits"),  # letter O for zero
        ("990324198506150017", "unknown region"),  # no province 99
        ("320024198506150012", "unknown region"),  # province-level code is not a residence
        ("320324198502300014", "birth date does not exist"),  # 30 February
        ("320324190002290015", "birth date does not exist"),  # 1900 was not a leap year
        ("320324189912310016", "out of range"),
        ("320324203001010016", "out of range"),  # in the future
        ("320324198506150012", "check digit"),
        ("110105194912310021", "check digit"),  # the worked example with a wrong check character
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(number: str, reason: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_id_number(number, today=TODAY)
    assert caught.value.code == CustomerErrorCode.INVALID_ID_NUMBER
    assert caught.value.field == "idNumber"
    assert reason in caught.value.message_en
    assert caught.value.message_zh.startswith("身份证号码无效")


def test_check_char_matches_the_standard_example() -> None:
    assert check_char("11010519491231002") == "X"


def test_made_numbers_are_valid_and_carry_the_sex() -> None:
    man = make_id_number("320324", date(1970, 1, 2), 17)
    woman = make_id_number("320324", date(1970, 1, 2), 18)
    assert parse_id_number(man, today=TODAY).sex == "MALE"
    assert parse_id_number(woman, today=TODAY).sex == "FEMALE"


@pytest.mark.parametrize(
    "typed",
    [
        "３２０３２４１９８５０６１５００１３",  # full-width digits from a Chinese input method
        "320324１９８５０６１５００１３",  # half typed one way, half the other
        "٣٢٠٣٢٤١٩٨٥٠٦١٥٠٠١٣",  # Arabic-Indic digits
        "\u3000320324198506150013\u3000",  # ideographic spaces around it
    ],
)
def test_non_ascii_digits_are_read_as_ascii(typed: str) -> None:
    assert normalize_id_number(typed) == "320324198506150013"
    assert parse_id_number(typed, today=TODAY).number == "320324198506150013"


def test_a_full_width_or_lower_case_final_x_is_upper_case_ascii() -> None:
    assert normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"
    assert normalize_id_number("１１０１０５１９４９１２３１００２Ｘ") == "11010519491231002X"
    assert parse_id_number("１１０１０５１９４９１２３１００２ｘ", today=TODAY).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("region", "birth"),
    [
        ("320325", date(1985, 3, 1)),  # 邳县, abolished in 1992 (now 邳州市 320382): still on older cards
        ("110103", date(1970, 5, 5)),  # 崇文区, merged into 东城区 in 2010
        ("320382", date(1996, 1, 1)),  # 邳州市, in force
        ("320301", date(1990, 7, 7)),  # 徐州市 市辖区
    ],
)
def test_current_and_historic_region_codes_are_accepted(region: str, birth: date) -> None:
    number = make_id_number(region, birth, 11)
    assert parse_id_number(number, today=TODAY).region == region


@pytest.mark.parametrize(
    "region",
    [
        "320399",  # province and prefecture exist, the county never did
        "329901",  # no such prefecture in Jiangsu
        "990101",  # no such province
        "320390",
    ],
)
def test_region_codes_never_in_the_list_are_refused(region: str) -> None:
    number = make_id_number(region, date(1985, 6, 15), 11)
    with pytest.raises(DomainError) as caught:
        parse_id_number(number, today=TODAY)
    assert (caught.value.code, caught.value.message_en) == (
        CustomerErrorCode.INVALID_ID_NUMBER,
        "invalid ID number: unknown region code",
    )


def test_the_demo_and_test_regions_are_in_the_list() -> None:
    from geo.demo_grid import COUNTY_CODE

    assert COUNTY_CODE == "320324"
    assert is_division_code("320324")  # 睢宁县, the demo county and the factories' region
    assert is_division_code("320303")  # 云龙区, used by the demo tests as a region outside the county
    assert len(division_codes()) == 7185
