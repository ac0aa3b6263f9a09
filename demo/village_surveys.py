"""The demo's household surveys (入户调查表): what a collector would write down in a demo village's kitchens, made
from the households the county already holds — the members with their real ID numbers and relations to the
head, the household's phone and address, land, crops, livestock, operations, income and expenses, assets, debts
elsewhere and the collector's soft information (人品, 口碑, a rating, the rare risk noted).

Seeded: the same generator gives the same surveys; amounts follow the household's size and the head's deposits
so the pre-approved limits come out spread the way a village's would.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from domain.customers.masking import age
from domain.village_credit.surveys import Crop, Debt, Livestock, Member, Relation, Survey
from models import Customer

CROPS = ("小麦", "水稻", "玉米", "大豆", "花生", "山芋", "蔬菜大棚", "桃树")
ANIMALS = ("生猪", "羊", "鸡", "鸭", "肉牛")
OPERATIONS = ("", "", "", "农资小店", "网店(电商)销售土特产", "农机作业服务", "家庭农场", "养殖专业户", "外出务工")
CHARACTER = ("为人踏实,勤劳肯干", "为人本分,讲信用", "性格开朗,乐于助人", "做事稳重,家庭和睦")
REPUTATION = ("邻里口碑好", "村干部评价好", "在村里威望较高", "口碑一般")
RATINGS = ("A", "B", "C", "D")  # the collector's grade of the household (采集人评级)
RATING_SHARES = (0.3, 0.45, 0.2, 0.05)
LENDERS = ("邮储银行", "农业银行", "小额贷款公司", "亲友借款")


def _relation(member: dict[str, Any], head: dict[str, Any], on: date) -> Relation:
    years, head_years = age(member["birth_date"], on), age(head["birth_date"], on)
    if abs(years - head_years) <= 12 and member["sex"] != head["sex"]:
        return Relation.SPOUSE
    if head_years - years >= 45:
        return Relation.GRANDCHILD
    if head_years - years >= 16:
        return Relation.CHILD
    if years - head_years >= 16:
        return Relation.PARENT
    return Relation.SIBLING if abs(years - head_years) <= 15 else Relation.OTHER


async def village_surveys(village_id: int, surveyed_on: datetime, rng: np.random.Generator) -> list[Survey]:
    """A survey for every household of the village whose head is an adult on file, in household order."""
    in_village = Customer.filter(village_id=village_id, household_id__isnull=False)
    rows = await in_village.order_by("household_id", "id").values(
        "id_number", "name", "birth_date", "sex", "phone", "address", "lon", "lat", "household_id",
        "is_household_head", "deposit_balance",
    )  # fmt: skip
    households: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        households[row["household_id"]].append(row)
    on = surveyed_on.date()
    surveys = []
    for number, (household_id, people) in enumerate(sorted(households.items())):
        head = next((p for p in people if p["is_household_head"]), None)
        if head is None or age(head["birth_date"], on) < 18:
            continue
        surveys.append(_survey(household_id, number, head, people, surveyed_on, on, rng))
    return surveys


def _survey(
    household_id: int,
    number: int,
    head: dict[str, Any],
    people: list[dict[str, Any]],
    surveyed_on: datetime,
    on: date,
    rng: np.random.Generator,
) -> Survey:
    members = [Member(head["name"], head["id_number"], Relation.HEAD, phone=head["phone"])]
    members += [
        Member(p["name"], p["id_number"], _relation(p, head, on), phone=p["phone"]) for p in people if p is not head
    ]
    land = Decimal(int(rng.integers(2, 30))) + Decimal("0.5") * int(rng.integers(0, 2))
    rented = Decimal(int(rng.integers(0, 40))) if rng.random() < 0.2 else Decimal(0)
    earners = max(1, sum(1 for p in people if 18 <= age(p["birth_date"], on) <= 65))
    income = Decimal(int(rng.normal(30000, 9000) * earners + float(land + rented) * 900)).max(Decimal(6000))
    expenses = (income * Decimal(str(round(rng.uniform(0.35, 0.8), 2)))).quantize(Decimal(1))
    crops = tuple(
        Crop(str(name), (land / 2).quantize(Decimal("0.1")))
        for name in rng.choice(CROPS, size=int(rng.integers(1, 3)), replace=False)
    )
    livestock = (Livestock(str(rng.choice(ANIMALS)), int(rng.integers(5, 60))),) if rng.random() < 0.35 else ()
    debts = (Debt(str(rng.choice(LENDERS)), Decimal(int(rng.integers(5, 80)) * 1000)),) if rng.random() < 0.25 else ()
    return Survey(
        client_id=f"demo-{household_id}",
        client_version=1,
        surveyed_at=surveyed_on + timedelta(minutes=25 * number),
        members=tuple(members),
        phone=head["phone"],
        address=head["address"],
        lon=head["lon"],
        lat=head["lat"],
        land_contracted_mu=land,
        land_rented_mu=rented,
        crops=crops,
        livestock=livestock,
        operations=str(rng.choice(OPERATIONS)),
        annual_income=income,
        annual_expenses=expenses,
        house_value=Decimal(int(rng.integers(8, 60)) * 10000),
        vehicle_value=Decimal(int(rng.integers(0, 15)) * 10000) if rng.random() < 0.5 else Decimal(0),
        machinery_value=Decimal(int(rng.integers(1, 20)) * 5000) if rng.random() < 0.3 else Decimal(0),
        debts=debts,
        character=str(rng.choice(CHARACTER)),
        reputation=str(rng.choice(REPUTATION)),
        collector_rating=str(rng.choice(RATINGS, p=RATING_SHARES)),
        risk_flags=("GAMBLING",) if rng.random() < 0.02 else (),
    )
