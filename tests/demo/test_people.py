"""The vectorised population generator: valid resident ID numbers, the household layout, the caller's
coordinates, repeatability."""

from __future__ import annotations

from datetime import date

import numpy as np
from faker import Faker

from demo.people import Floats, Members, People, draw_people, household_sizes, id_numbers
from domain.customers.idcard import make_id_number, parse_id_number

TODAY = date(2026, 1, 1)


def people(seed: int, count: int = 3000) -> tuple[Members, People]:
    rng = np.random.default_rng(seed)
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    seen: list[Members] = []

    def locate(members: Members) -> Floats:
        seen.append(members)
        return np.column_stack([members.household * 1.0, members.position * 1.0])

    drawn = draw_people(household_sizes(count, rng), locate, faker, rng)
    return seen[0], drawn


def test_id_numbers_are_the_ones_the_domain_makes() -> None:
    births = np.array(["1940-01-01", "1969-12-31", "1970-01-01", "1988-02-29", "2005-12-31"], dtype="datetime64[D]")
    for sequence in (1, 2, 37, 998):
        numbers = id_numbers("320324", births, np.full(len(births), sequence))
        expected = [make_id_number("320324", day, sequence) for day in births.tolist()]
        assert numbers.tolist() == expected
    with_x = id_numbers("320324", np.array(["1953-12-23"], dtype="datetime64[D]"), np.array([192]))
    assert with_x.tolist() == ["32032419531223192X"] == [make_id_number("320324", date(1953, 12, 23), 192)]


def test_sizes_add_up_and_members_follow_their_household() -> None:
    sizes = household_sizes(1000, np.random.default_rng(3))
    assert sizes.sum() == 1000
    assert (sizes.min(), sizes.max()) == (1, 5)
    members = Members.of(np.array([2, 1, 3]))
    assert members.household.tolist() == [0, 0, 1, 2, 2, 2]
    assert members.position.tolist() == [0, 1, 0, 0, 1, 2]
    assert members.head.tolist() == [True, False, True, True, False, False]


def test_people_are_valid_and_located_where_the_caller_says() -> None:
    members, drawn = people(5)
    assert drawn.members.household.tolist() == members.household.tolist()
    assert np.array_equal(drawn.location, np.column_stack([members.household, members.position]))
    sexes = ["MALE" if male else "FEMALE" for male in drawn.male.tolist()]
    for number, birth, sex in zip(drawn.id_number.tolist(), drawn.birth_date.tolist(), sexes, strict=True):
        resident = parse_id_number(number, today=TODAY)
        assert (resident.region, resident.birth_date, resident.sex) == ("320324", birth, sex)
    assert len(set(drawn.id_number.tolist())) == len(drawn)
    spouse = np.flatnonzero(members.position == 1)
    assert (drawn.male[spouse] != drawn.male[spouse - 1]).all()
    borrower = drawn.loan_balance > 0
    assert [c is not None for c in drawn.loan_class.tolist()] == borrower.tolist()
    assert (drawn.credit_line[borrower] >= drawn.loan_balance[borrower]).all()
    assert drawn.in_core_banking[borrower].all()


def test_the_same_seed_draws_the_same_people() -> None:
    _, first = people(9)
    _, again = people(9)
    _, other = people(10)
    assert first.name.tolist() == again.name.tolist()
    assert first.id_number.tolist() == again.id_number.tolist()
    assert first.id_number.tolist() != other.id_number.tolist()
