"""Personal data under PIPL's minimum-necessary rule, tried as an attacker would: nothing masked can be rebuilt
from what else is shown, no filter confirms a masked value, every response that carries personal data in clear
leaves an audit row naming the customers and fields (and carries nothing if that row cannot be written), a
duplicate filing names nothing of the existing customer, and head office can query who read whose data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from graphql import get_named_type, is_leaf_type

from domain.customers.idcard import check_char
from models import AuditLog, Customer
from schema import schema
from tests.factories import ROLES, Api, World, gid
from tests.schema.test_authorization import CREATE, create_input

# every field of Customer that is a scalar (or a list of scalars), read from the schema itself so that a field
# added later is covered without editing this test
SCALARS = sorted(
    name
    for name, field in schema._schema.type_map["Customer"].fields.items()  # type: ignore[attr-defined]
    if is_leaf_type(get_named_type(field.type))
)
ALL_FIELDS = "query($id: ID!) { customer(id: $id) { " + " ".join(SCALARS) + " } }"
BANDS = {"<18": (0, 17), "18-29": (18, 29), "30-39": (30, 39), "40-49": (40, 49), "50-59": (50, 59),
         "60-69": (60, 69), "70+": (70, 125)}  # fmt: skip


def candidate_id_numbers(shown: dict[str, Any], today: date) -> int:
    """How many valid 18-digit numbers agree with everything the response shows: the visible digits, the check
    digit, the sex, the birth date or else the age band. The fewer, the closer to rebuilt."""
    number: str = shown["idNumber"]
    known = {i: ch for i, ch in enumerate(number) if ch != "*"}
    low, high = BANDS[shown["ageBand"]]
    first = today.replace(year=today.year - high - 1) + timedelta(days=1)
    last = today.replace(year=today.year - low)
    count = 0
    day = first
    while day <= last:
        if shown.get("birthDate") in (None, day.isoformat()):
            digits = f"{day:%Y%m%d}"
            if all(known.get(6 + i, d) == d for i, d in enumerate(digits)):
                first17 = number[:6] + digits + number[14:17]
                if "*" not in first17 and check_char(first17) == number[17]:
                    count += 1
        day += timedelta(days=1)
    return count


def test_the_schema_exposes_the_fields_this_test_reads() -> None:
    assert {"idNumber", "birthDate", "sex", "ageBand", "phone", "address", "lon", "lat"} <= set(SCALARS)


@pytest.mark.parametrize("user", ROLES)
async def test_no_masked_field_can_be_rebuilt_from_the_visible_ones(api: Api, world: World, user: str) -> None:
    """All the scalar fields at once: whatever a smaller selection shows, this one shows too, so a masked
    value that cannot be narrowed down from all of them cannot be from any combination."""
    customer = world.customers["c1a"]
    body = await api.as_(user, ALL_FIELDS, {"id": gid("Customer", customer.id)})
    shown = body["data"]["customer"] if body.get("data") else None
    if shown is None:  # out of this role's reach altogether
        assert user in {"president2", "manager1b", "manager2a", "admin", "investigator", "approver", "backoffice"}
        return
    if not shown["masked"]:
        assert user in {"head", "manager1a"}
        assert shown["idNumber"] == customer.id_number
        return
    assert (shown["birthDate"], shown["sex"], shown["lon"], shown["lat"]) == (None, None, None, None)
    assert shown["ageBand"] == "40-49"
    assert shown["idNumber"][6:14] == "********"
    assert candidate_id_numbers(shown, date.today()) >= 300
    assert shown["phone"].count("*") == 4
    texts = " ".join(str(v) for v in shown.values())
    assert customer.id_number not in texts
    assert customer.phone not in texts
    assert customer.address not in texts


async def test_a_president_cannot_search_by_phone_or_id_number_with_any_number_of_aliases(
    api: Api, world: World
) -> None:
    guesses = " ".join(
        f'g{i}: customers(nodeId: $n, filter: {{phone: "1381234{i:04d}"}}) {{ totalCount edges {{ node {{ id }} }} }}'
        for i in range(5670, 5680)
    )
    body = await api.as_("president1", f"query($n: ID!) {{ {guesses} }}", {"n": gid("GridNode", world.county.id)})
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    by_id = await api.as_(
        "president1",
        "query($n: ID!, $f: CustomerFilterInput) { customers(nodeId: $n, filter: $f) { totalCount } }",
        {"n": gid("GridNode", world.township1.id), "f": {"idNumber": world.customers["c1a"].id_number}},
    )
    assert by_id["errors"][0]["extensions"] | {"messageZh": None} == {
        "code": "FORBIDDEN", "field": None, "messageZh": None, "messageEn": "not allowed to search customers by "
        "ID number or phone",
    }  # fmt: skip


async def test_a_manager_searching_by_phone_finds_only_the_customers_they_manage(api: Api, world: World) -> None:
    query = "query($n: ID!, $f: CustomerFilterInput) { customers(nodeId: $n, filter: $f) { totalCount } }"
    county = gid("GridNode", world.county.id)
    # a customer of manager1a's village managed by someone else: visible to manager1a, but masked, so a search
    # by their phone must not find them
    other = await Customer.create(
        id_number="32032419800101" + "001" + check_char("32032419800101001"), name="赵六", birth_date=date(1980, 1, 1),
        sex="MALE", phone="13700007777", address="张庄村", village=world.village1a, manager=world.staff["manager1b"],
        source="SURVEY",
    )  # fmt: skip
    seen = await api.as_(
        "manager1a", "query($id: ID!) { customer(id: $id) { masked } }", {"id": gid("Customer", other.id)}
    )
    assert seen["data"]["customer"] == {"masked": True}
    body = await api.as_("manager1a", query, {"n": county, "f": {"phone": "13700007777"}})
    assert body["data"]["customers"]["totalCount"] == 0
    mine = await api.as_("manager1a", query, {"n": county, "f": {"phone": world.customers["c1a"].phone}})
    assert mine["data"]["customers"]["totalCount"] == 1


PAGE = "query($n: ID!) { customers(nodeId: $n, first: 10) { edges { node { name idNumber phone } } } }"


async def test_a_page_of_customers_in_clear_writes_one_audit_row_per_customer_naming_the_fields(
    api: Api, world: World
) -> None:
    body = await api.as_("head", PAGE, {"n": gid("GridNode", world.county.id)})
    assert len(body["data"]["customers"]["edges"]) == 3
    rows = await AuditLog.filter(action="personal_data.read").order_by("target_id")
    assert [(r.actor_username, r.target_type, int(r.target_id), r.changes) for r in rows] == sorted(
        ("head", "Customer", c.id, {"fields": ["idNumber", "phone"]}) for c in world.customers.values()
    )
    assert len({r.request_id for r in rows}) == 1


async def test_a_masked_page_and_a_page_without_personal_fields_write_no_such_row(api: Api, world: World) -> None:
    await api.as_("president1", PAGE, {"n": gid("GridNode", world.township1.id)})
    await api.as_("head", "query($n: ID!) { customers(nodeId: $n) { edges { node { name } } } }",
                  {"n": gid("GridNode", world.county.id)})  # fmt: skip
    assert await AuditLog.filter(action="personal_data.read").count() == 0


async def test_no_personal_data_leaves_when_its_audit_row_cannot_be_written(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr("schema.platform.extensions.record_disclosures", broken)
    body = await api.as_("head", PAGE, {"n": gid("GridNode", world.county.id)})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert world.customers["c1a"].id_number not in str(body)


async def test_a_duplicate_filing_names_nothing_of_the_existing_customer_and_is_recorded(
    api: Api, world: World
) -> None:
    existing = world.customers["c1a"]
    body = await api.as_("manager2a", CREATE, {"input": create_input(world, idNumber=existing.id_number,
                         villageId=gid("GridNode", world.village2a.id))})  # fmt: skip
    error = body["data"]["createCustomer"]
    assert (error["code"], error["field"]) == ("DUPLICATE_ID_NUMBER", "idNumber")
    assert error["messageEn"] == "already a customer of the bank; ask your branch president to transfer them to you"
    assert "张庄" not in error["messageZh"]
    assert "manager1a" not in str(error)
    attempt = await AuditLog.get(action="customer.create.duplicate")
    assert (attempt.actor_username, attempt.target_id) == ("manager2a", str(existing.id))
    assert attempt.changes == {"idNumber": existing.id_number[:6] + "********" + existing.id_number[-4:]}
    assert await Customer.filter(id_number=existing.id_number).count() == 1


AUDIT = """query($f: AuditFilterInput) { auditLog(filter: $f, first: 10) { totalCount
  edges { node { actorUsername action targetType targetId changes } } } }"""


@pytest.mark.parametrize("user", ROLES)
async def test_head_office_reads_who_read_whose_data_and_nobody_else_does(api: Api, world: World, user: str) -> None:
    await api.as_("head", PAGE, {"n": gid("GridNode", world.county.id)})
    c1a = world.customers["c1a"]
    body = await api.as_(user, AUDIT, {"f": {"customerId": gid("Customer", c1a.id), "action": "personal_data.read"}})
    if user == "head":
        assert body["data"]["auditLog"]["totalCount"] == 1
        assert body["data"]["auditLog"]["edges"][0]["node"] == {
            "actorUsername": "head", "action": "personal_data.read", "targetType": "Customer",
            "targetId": str(c1a.id), "changes": {"fields": ["idNumber", "phone"]},
        }  # fmt: skip
    else:
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
