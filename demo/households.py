"""The demo county's households and customers (农户与客户): households spread over the villages, numbered
within their village group and housed at a point inside their village; their members drawn by demo.people,
living at the household's address and (nearly) its location, served by their village's customer manager.
What they owe and the lines they hold are not drawn here: the loan book decides them (demo.credit)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from faker import Faker

from demo.county import GROUP_NAMES, GridPlan
from demo.people import Floats, Ints, Members, People, draw_people, household_sizes, running_count
from domain.customers.enums import CustomerSource, Placement, Sex
from geo.demo_grid import COUNTY_NAME, DECIMALS, sample_points, scatter_inside

MEMBER_SPREAD_DEGREES = 0.0002  # about 20 m between the houses of one household

Columns = dict[str, list[Any]]  # field name: one value per row


@dataclass(frozen=True)
class Households:
    columns: Columns  # Household fields
    village: Ints  # village index of every household
    size: Ints
    location: Floats  # (lon, lat) of the house, inside the village


def plan_households(grid: GridPlan, customers: int, rng: np.random.Generator) -> Households:
    """Households of one to five members spread over the villages by area, numbered within their village
    group, each at a point inside its village. Households are ordered by village, so that their ids run
    village by village."""
    size = household_sizes(customers, rng)
    weight = shapely.area(grid.village_polygons) * rng.lognormal(0.0, 0.4, len(grid.villages))
    village = np.sort(rng.choice(len(grid.villages), size=len(size), p=weight / weight.sum()))
    group_count = np.array([len(groups) for groups in grid.village_groups])
    group = (rng.random(len(size)) * group_count[village]).astype(np.int64)
    house_number = running_count(village * len(GROUP_NAMES) + group) + 1
    location = sample_points(
        grid.village_polygons, np.bincount(village, minlength=len(grid.villages)), rng, decimals=DECIMALS
    )
    address = [
        f"{COUNTY_NAME}{grid.townships[grid.village_township[v]].name}{grid.villages[v].name}{GROUP_NAMES[g]}{n}号"
        for v, g, n in zip(village.tolist(), group.tolist(), house_number.tolist(), strict=True)
    ]
    columns: Columns = {
        "id": list(range(1, len(size) + 1)),
        "village_id": [grid.villages[v].id for v in village.tolist()],
        "address": address,
    }
    return Households(columns=columns, village=village, size=size, location=location)


def plan_customers(
    households: Households, grid: GridPlan, village_manager: Ints, faker: Faker, rng: np.random.Generator
) -> Columns:
    """Every household's members as Customer fields, household by household, head first."""

    def near_the_house(members: Members) -> Floats:
        located = scatter_inside(
            households.location[members.household],
            grid.village_polygons[households.village[members.household]],
            MEMBER_SPREAD_DEGREES,
            rng,
            decimals=DECIMALS,
        )
        located[members.head] = households.location
        return located

    people = draw_people(households.size, near_the_house, faker, rng)
    village = households.village[people.members.household]
    return {
        "id": list(range(1, len(people) + 1)),
        **_personal(people),
        "address": [households.columns["address"][h] for h in people.members.household.tolist()],
        "lon": people.location[:, 0].tolist(),
        "lat": people.location[:, 1].tolist(),
        "village_id": [grid.villages[v].id for v in village.tolist()],
        "household_id": (people.members.household + 1).tolist(),
        "is_household_head": people.members.head.tolist(),
        "manager_id": village_manager[village].tolist(),
        "placement": [Placement.INSIDE] * len(people),
        **_finances(people),
        **{flag: values.tolist() for flag, values in people.flags.items()},
        "tags": people.tags.tolist(),
    }


def _personal(people: People) -> Columns:
    return {
        "id_number": people.id_number.tolist(),
        "name": people.name.tolist(),
        "birth_date": people.birth_date.tolist(),
        "sex": [Sex.MALE if male else Sex.FEMALE for male in people.male.tolist()],
        "phone": people.phone.tolist(),
    }


def _finances(people: People) -> Columns:
    return {
        "deposit_balance": _money(people.deposit_balance),
        "source": [
            CustomerSource.CORE_BANKING if core else CustomerSource.SURVEY for core in people.in_core_banking.tolist()
        ],
    }


def _money(amounts: npt.NDArray[np.float64]) -> list[Decimal]:
    return [Decimal(f"{amount:.2f}") for amount in amounts.tolist()]
