"""Every access policy's predicate and query filter agree: for many actors drawn at random (any mix of roles,
any grid scope, managing some customers or none) over a grid with customers in every kind of place (in a
village, in a group's village, unplaced, managed by someone or nobody), the records the predicate admits are
exactly the ones the filter lists, on the database under test."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.access import Actor, Role
from domain.credit.workflow import ApplicationState
from domain.village_credit.campaign_workflow import CampaignState
from models import AuditLog, CreditApplication, Customer, GridLevel, GridNode, Job, Notification, VillageCampaign
from resolvers.credit import policy as credit_policy
from resolvers.credit.applications import facts_with_path
from resolvers.customers import policy as customer_policy
from resolvers.grid import policy as grid_policy
from resolvers.platform import audit_log, job_policy, notification_policy
from resolvers.village_credit import policy as village_policy
from resolvers.village_credit.campaigns import facts_with_path as campaign_facts
from tests.factories import make_customer, make_node, make_staff

ACTORS = 120


@pytest.fixture
async def grid() -> list[GridNode]:
    county = await make_node("县", GridLevel.COUNTY)
    nodes = [county]
    for t in range(3):
        township = await make_node(f"镇{t}", GridLevel.TOWNSHIP, county)
        nodes.append(township)
        for v in range(3):
            village = await make_node(f"村{t}{v}", GridLevel.VILLAGE, township)
            nodes.append(village)
            nodes.append(await make_node(f"组{t}{v}", GridLevel.GROUP, village))
    return nodes


def _actor(rng: random.Random, nodes: list[GridNode], staff_ids: list[int]) -> Actor:
    roles = frozenset(rng.sample(list(Role), rng.choice([1, 1, 1, 2, 3])))
    scope = tuple(sorted({n.path for n in rng.sample(nodes, rng.choice([0, 1, 1, 2, 3]))}))
    return Actor(staff_id=rng.choice(staff_ids), username="x", roles=roles, scope_paths=scope)


async def test_customer_predicate_and_filter_agree(grid: list[GridNode]) -> None:
    rng = random.Random(20261201)
    managers = [await make_staff(f"m{i}", ["CUSTOMER_MANAGER"]) for i in range(4)]
    villages = [n for n in grid if n.level == GridLevel.VILLAGE]
    for i in range(60):
        await make_customer(rng.choice([*villages, None]), rng.choice([*managers, None]), f"客{i}")
    customers = await Customer.all().select_related("village")
    staff_ids = [m.id for m in managers] + [9999]
    checked = 0
    for _ in range(ACTORS):
        actor = _actor(rng, grid, staff_ids)
        admitted = {
            c.id
            for c in customers
            if customer_policy.may_see(
                actor,
                customer_policy.CustomerFacts(c.village.path if c.village else None, c.manager_id),  # type: ignore[attr-defined]
            )
        }
        listed = set(await Customer.filter(customer_policy.visible(actor)).values_list("id", flat=True))
        assert admitted == listed, (actor, sorted(admitted ^ listed))
        checked += len(admitted)
    assert checked > 0  # the draw admitted someone somewhere: the comparison was not all empty sets


async def test_customers_under_a_node_are_the_visible_ones_living_there(grid: list[GridNode]) -> None:
    """visible_under, the shorter filter a node's page and counts use, lists exactly the customers the predicate
    admits among those living under the node: for nodes inside the actor's scope (where it drops the scope
    filter), above it, beside it and outside it."""
    rng = random.Random(20261204)
    managers = [await make_staff(f"m{i}", ["CUSTOMER_MANAGER"]) for i in range(4)]
    villages = [n for n in grid if n.level == GridLevel.VILLAGE]
    for i in range(60):
        await make_customer(rng.choice([*villages, None]), rng.choice([*managers, None]), f"客{i}")
    customers = await Customer.all().select_related("village")
    staff_ids = [m.id for m in managers] + [9999]
    checked = inside = 0
    for _ in range(ACTORS):
        actor = _actor(rng, grid, staff_ids)
        node = rng.choice(grid)
        expected = {
            c.id
            for c in customers
            if c.village is not None
            and c.village.path.startswith(node.path)  # type: ignore[attr-defined]
            and customer_policy.may_see(
                actor,
                customer_policy.CustomerFacts(c.village.path, c.manager_id),  # type: ignore[attr-defined]
            )
        }
        listed = set(
            await Customer.filter(customer_policy.visible_under(actor, [node.path])).values_list("id", flat=True)
        )
        assert expected == listed, (actor, node.path, sorted(expected ^ listed))
        checked += len(expected)
        inside += any(node.path.startswith(p) for p in actor.scope_paths)
    assert checked > 0
    assert inside > 0  # some draws took the shorter filter


async def test_grid_node_predicates_and_filters_agree(grid: list[GridNode]) -> None:
    rng = random.Random(7)
    rows = await GridNode.all().values_list("id", "path")
    seen = kpis = 0
    for _ in range(ACTORS):
        actor = _actor(rng, grid, [1])
        visible = {i for i, path in rows if grid_policy.may_see(actor, path)}
        assert visible == set(await GridNode.filter(grid_policy.visible(actor)).values_list("id", flat=True))
        with_kpis = {i for i, path in rows if grid_policy.may_see_kpis(actor, path)}
        assert with_kpis == set(await GridNode.filter(grid_policy.kpis_visible(actor)).values_list("id", flat=True))
        assert with_kpis <= visible  # KPIs are only ever shown for a node one may see
        seen, kpis = seen + len(visible), kpis + len(with_kpis)
    assert seen > 0
    assert kpis > 0


async def test_job_and_notification_predicates_and_filters_agree(grid: list[GridNode]) -> None:
    rng = random.Random(13)
    people = [await make_staff(f"p{i}", ["CUSTOMER_MANAGER"]) for i in range(5)]
    ids = [p.id for p in people]
    for i in range(30):
        await Job.create(kind="kpi_rollup", created_by_id=rng.choice([*ids, None]), dedup_key=f"agree:{i}")
        await Notification.create(recipient_id=rng.choice(ids), kind="test", title="t")
    jobs = await Job.all().values_list("id", "created_by_id")
    notes = await Notification.all().values_list("id", "recipient_id")
    for _ in range(ACTORS):
        actor = _actor(rng, grid, ids)
        admitted = {i for i, creator in jobs if job_policy.may_see(actor, creator)}
        assert admitted == set(await Job.filter(job_policy.visible(actor)).values_list("id", flat=True))
        mine = {i for i, recipient in notes if notification_policy.may_see(actor, recipient)}
        assert mine == set(await Notification.filter(notification_policy.visible(actor)).values_list("id", flat=True))


async def test_personal_data_and_audit_log_predicates_and_filters_agree(grid: list[GridNode]) -> None:
    rng = random.Random(17)
    managers = [await make_staff(f"q{i}", ["CUSTOMER_MANAGER"]) for i in range(3)]
    villages = [n for n in grid if n.level == GridLevel.VILLAGE]
    for i in range(30):
        await make_customer(rng.choice(villages), rng.choice([*managers, None]), f"户{i}")
    await AuditLog.create(action="customer.read", target_type="Customer", target_id="1")
    customers = await Customer.all().select_related("village")
    entries = set(await AuditLog.all().values_list("id", flat=True))
    for _ in range(ACTORS):
        actor = _actor(rng, grid, [m.id for m in managers])
        seen = [c for c in customers if customer_policy.may_see(actor, _facts(c))]
        clear = {c.id for c in seen if customer_policy.sees_personal_data(actor, _facts(c))}
        listed = await Customer.filter(customer_policy.visible(actor), customer_policy.personal_data_visible(actor))
        assert clear == {c.id for c in listed}
        readable = entries if audit_log.may_read(actor) else set()
        assert readable == set(await AuditLog.filter(audit_log.visible(actor)).values_list("id", flat=True))


def _facts(customer: Customer) -> customer_policy.CustomerFacts:
    village = customer.village
    return customer_policy.CustomerFacts(village.path if village else None, customer.manager_id)  # type: ignore[attr-defined]


async def test_credit_application_predicate_and_filter_agree(grid: list[GridNode]) -> None:
    """Applications in every state, at every tier, with every mix of marketer, investigator and approvers."""
    rng = random.Random(20261202)
    people = [await make_staff(f"s{i}", ["CUSTOMER_MANAGER"]) for i in range(5)]
    ids = [p.id for p in people]
    villages = [n for n in grid if n.level == GridLevel.VILLAGE]
    at = datetime.now(UTC)
    for i in range(80):
        village = rng.choice(villages)
        customer = await make_customer(village, None, f"申{i}")
        await CreditApplication.create(
            client_id=f"agree-{i:04d}", customer=customer, village=rng.choice([village, None]),
            marketer_id=rng.choice(ids), investigator_id=rng.choice([*ids, None]),
            product_code="puhui", product_version=1, product_sha256="0" * 64, amount=Decimal(10000),
            term_months=12, repayment_method="EQUAL_INSTALMENTS", guarantee_type="CREDIT",
            state=rng.choice(list(ApplicationState)),
            tier_authority=rng.choice([None, "APPROVER", "BRANCH_PRESIDENT", "HEAD_OFFICE"]),
            approver_ids=rng.sample(ids, rng.choice([0, 1, 2])), reviewer_ids=rng.sample(ids, rng.choice([0, 1, 2])),
            submitted_at=at, state_since=at,
        )  # fmt: skip
    rows = await CreditApplication.all().select_related("village")
    checked = 0
    for _ in range(ACTORS):
        actor = _actor(rng, grid, ids)
        admitted = {
            a.id
            for a in rows
            if credit_policy.may_see(actor, facts_with_path(a, a.village.path if a.village else None))  # type: ignore[attr-defined]
        }
        listed = set(await CreditApplication.filter(credit_policy.visible(actor)).values_list("id", flat=True))
        assert admitted == listed, (actor, sorted(admitted ^ listed))
        shown = {
            a.id
            for a in rows
            if credit_policy.shows_applicant(actor, facts_with_path(a, a.village.path if a.village else None))  # type: ignore[attr-defined]
        }
        assert shown <= admitted  # the applicant is only ever shown in clear on an application one may see
        checked += len(admitted)
    assert checked > 0


async def test_village_campaign_predicates_and_filters_agree(grid: list[GridNode]) -> None:
    """Campaigns in every state, in every village, with every mix of collectors, reviewers and approver: the
    campaigns seen and the campaigns whose surveys are read in clear, by predicate and by filter."""
    rng = random.Random(20261203)
    people = [await make_staff(f"v{i}", ["CUSTOMER_MANAGER"]) for i in range(5)]
    ids = [p.id for p in people]
    villages = [n for n in grid if n.level == GridLevel.VILLAGE]
    at = datetime.now(UTC)
    for i in range(60):
        await VillageCampaign.create(
            village=rng.choice(villages), name=f"活动{i}", collector_ids=rng.sample(ids, rng.choice([1, 2])),
            reviewer_id=rng.choice(ids), second_reviewer_id=rng.choice([*ids, None]),
            approver_id=rng.choice([*ids, None]), created_by_id=ids[0], state=rng.choice(list(CampaignState)),
            created_at=at, state_since=at,
        )  # fmt: skip
    rows = await VillageCampaign.all().select_related("village")
    seen = clear = queues = 0
    for _ in range(ACTORS):
        actor = _actor(rng, grid, ids)
        facts = {c.id: campaign_facts(c, c.village.path) for c in rows}
        admitted = {i for i, f in facts.items() if village_policy.may_see(actor, f)}
        listed = set(await VillageCampaign.filter(village_policy.visible(actor)).values_list("id", flat=True))
        assert admitted == listed, (actor, sorted(admitted ^ listed))
        in_clear = {i for i in admitted if village_policy.sees_personal_data(actor, facts[i])}
        filtered = await VillageCampaign.filter(
            village_policy.visible(actor), village_policy.personal_data_visible(actor)
        )
        assert in_clear == {c.id for c in filtered}
        works = {i for i in admitted if village_policy.works_duplicates(actor, facts[i])}
        queue = await VillageCampaign.filter(village_policy.visible(actor), village_policy.duplicates_visible(actor))
        assert works == {c.id for c in queue}, (actor, sorted(works ^ {c.id for c in queue}))
        seen, clear, queues = seen + len(admitted), clear + len(in_clear), queues + len(works)
    assert seen > 0
    assert clear > 0
    assert queues > 0
