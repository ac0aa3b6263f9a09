"""The staff policy: its predicate and its query filter name the same colleagues, for many drawn actors and
staff records; and the rules it states, on the small county."""

from __future__ import annotations

import random

import pytest

from domain.access import Actor, Role
from models import GridLevel, GridNode, Outlet, Staff
from resolvers.platform.auth import actor_for
from resolvers.staff import policy
from tests.factories import World, make_node, make_staff


async def drawn_bank(rng: random.Random) -> list[Staff]:
    """A county of 3 townships of 3 villages, 3 outlets, and 40 staff with drawn roles, outlets and scopes."""
    county = await make_node("县", GridLevel.COUNTY)
    nodes: list[GridNode] = [county]
    for t in range(3):
        township = await make_node(f"镇{t}", GridLevel.TOWNSHIP, county)
        nodes.append(township)
        nodes.extend([await make_node(f"村{t}{v}", GridLevel.VILLAGE, township) for v in range(3)])
    outlets = [await Outlet.create(code=f"O{i}", name=f"网点{i}") for i in range(3)]
    roles = list(Role)
    staff = []
    for n in range(40):
        held = rng.sample(roles, rng.choice([1, 1, 1, 2]))
        scope = rng.sample(nodes, rng.choice([0, 1, 1, 2]))
        outlet = rng.choice([None, *outlets])
        staff.append(await make_staff(f"s{n:02d}", [r.value for r in held], scope, outlet=outlet))
    return staff


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_predicate_and_filter_always_agree(world: World, seed: int) -> None:
    await drawn_bank(random.Random(seed))
    everyone = await Staff.all().prefetch_related("scope")
    facts = [policy.facts_of(s) for s in everyone]
    for member in everyone:
        actor = actor_for(member)
        by_predicate = {f.staff_id for f in facts if policy.may_see(actor, f)}
        by_filter = set(await Staff.filter(policy.visible(actor)).values_list("id", flat=True))
        assert by_filter == by_predicate, (member.username, member.roles)


async def visible_names(actor: Actor) -> list[str]:
    return sorted(await Staff.filter(policy.visible(actor)).values_list("username", flat=True))


CENTRAL = ["approver", "backoffice", "investigator"]
EVERYONE = sorted(["head", "admin", "president1", "president2", "manager1a", "manager1b", "manager2a", *CENTRAL])


@pytest.mark.parametrize(
    ("user", "names"),
    [
        ("head", EVERYONE),
        ("admin", EVERYONE),
        ("president1", sorted([*CENTRAL, "manager1a", "manager1b", "president1"])),
        ("president2", sorted([*CENTRAL, "manager2a", "president2"])),
        ("manager1a", sorted([*CENTRAL, "manager1a", "president1"])),
        ("manager2a", sorted([*CENTRAL, "manager2a", "president2"])),
        # the central posts work across the county: its scope overlaps everyone's who has one
        ("approver", sorted([n for n in EVERYONE if n not in ("head", "admin")])),
    ],
)
async def test_who_sees_whom_in_the_county(world: World, user: str, names: list[str]) -> None:
    member = await Staff.get(username=user).prefetch_related("scope")
    assert await visible_names(actor_for(member)) == names


async def test_colleagues_of_the_same_outlet_see_each_other(world: World) -> None:
    outlet = await Outlet.create(code="O1", name="王集网点")
    await Staff.filter(username__in=["manager1a", "manager2a"]).update(outlet_id=outlet.id)
    member = await Staff.get(username="manager1a").prefetch_related("scope")

    assert "manager2a" in await visible_names(actor_for(member))


def test_login_names_are_shown_to_the_administrator_and_to_oneself() -> None:
    admin = Actor(staff_id=1, username="admin", roles=frozenset({Role.ADMIN}))
    head = Actor(staff_id=2, username="head", roles=frozenset({Role.HEAD_OFFICE}))

    assert policy.shows_login_name(admin, 7) is True
    assert policy.shows_login_name(head, 7) is False
    assert policy.shows_login_name(head, 2) is True
