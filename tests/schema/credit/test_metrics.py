"""The credit factory's process metrics through GraphQL: six applications and two drawdowns taken through the
process by their own people, their steps then put at known times, so that every percentile, time-limit breach,
backlog, rate and headline count is checked exactly and against a direct count; each role's reach; periods
refused; and a statement count that does not grow with the applications or the villages."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.access import Actor, Role
from domain.credit.workflow import ApplicationState
from models import (
    ApplicationEvent,
    CreditApplication,
    CreditLine,
    Drawdown,
    DrawdownEvent,
    GridLevel,
    GridNode,
    Staff,
)
from resolvers.credit import policy
from resolvers.credit.metrics import lending_reach, process_reach
from tests.conftest import QueryCounter
from tests.credit_flow import (
    application_input,
    approve_every_tier,
    credit_world,
    decide,
    disburse,
    give_report,
    investigate,
    investigation_input,
    pk_of,
    request_drawdown,
    submit,
    to_approval,
    to_investigation,
)
from tests.factories import ROLES, Api, World, make_customer, make_node, make_staff

METRICS = """query($node: String, $from: Date!, $to: Date!, $product: String) {
  creditProcessMetrics(gridNodeCode: $node, from: $from, to: $to, productCode: $product) {
    from to gridNode { name } productCode
    headline { ...Counts }
    byChild { node { name code } counts { ...Counts } }
    turnaround { cases p50Minutes p90Minutes }
    stages { stage applicationState drawdownState finished { cases p50Minutes p90Minutes } open
             slaBreaches { finished open total } }
    backlog { applications { state count } byInvestigator { investigator { displayName username } count }
              byTierAuthority { authority count } drawdowns { state count } }
    products { productCode nameZh submitted admissionRefused approved rejected decided approvalRate rejectionRate
               admissionRefusalRate }
  } }
fragment Counts on HeadlineCounts {
  applications investigations linesGranted lineAmount drawdownsDisbursed disbursedAmount }"""

TODAY = datetime.now(UTC).date()
PERIOD = {"from": (TODAY - timedelta(days=30)).isoformat(), "to": TODAY.isoformat()}


async def _metrics(api: Api, user: str, **variables: Any) -> dict[str, Any]:
    body = await api.as_(user, METRICS, {**PERIOD, **variables})
    assert "errors" not in body, body
    return body["data"]["creditProcessMetrics"]  # type: ignore[no-any-return]


async def _retime(application_id: str, base: datetime, *offsets: int) -> None:
    """Put the application's steps at base + each offset in minutes, oldest first; its submission at the first."""
    pk = pk_of(application_id)
    events = await ApplicationEvent.filter(application_id=pk).order_by("id")
    assert len(events) == len(offsets), [e.action for e in events]
    for event, offset in zip(events, offsets, strict=True):
        await ApplicationEvent.filter(id=event.id).update(at=base + timedelta(minutes=offset))
    await CreditApplication.filter(id=pk).update(submitted_at=base + timedelta(minutes=offsets[0]))


async def _retime_drawdown(drawdown_id: str, base: datetime, *offsets: int) -> None:
    events = await DrawdownEvent.filter(drawdown_id=pk_of(drawdown_id)).order_by("id")
    assert len(events) == len(offsets), [e.action for e in events]
    for event, offset in zip(events, offsets, strict=True):
        await DrawdownEvent.filter(id=event.id).update(at=base + timedelta(minutes=offset))


@pytest.fixture
async def story(api: Api, world: World) -> dict[str, str]:
    """普惠贷 applications in every part of the process, each step by its own person, then put at known times:

    - paid (张一, 张庄村, manager1a): assigned in 4 min, investigated in 90 (over the 60-minute limit), approved
      in 20; a ¥30,000 drawdown signed 30 min after it was priced (over 20), checked in 10, disbursed in 10 — 250
      minutes from submission to the money; a second drawdown priced 25 min ago, not signed yet (over 20);
    - rejected (李二, 李庄村, manager1b): assigned in 10 (over 5), investigated in 30, rejected after 40 (over 30);
    - investigating (王三, 王庄村, manager2a): assigned in 2, investigated for 178 min so far (over 60);
    - at_president (张一, ¥150,000): assigned in 6 (over 5), investigated in 50, the approver's tier in 20, at the
      branch president's tier for 10 min;
    - refused (钱六, 张庄村): refused at admission;
    - waiting (赵五, a 张庄村 customer managed by manager1b): waiting for an investigator for 1 min.
    """
    await credit_world(world)
    await make_staff("backoffice2", ["BACK_OFFICE"], [world.county])
    await make_staff("investigator2", ["CREDIT_INVESTIGATOR"], [world.county])  # no product skills: gets nothing
    world.customers["blacklisted"] = await make_customer(world.village1a, world.staff["manager1a"], "钱六")
    await give_report(world.customers["blacklisted"], on_blacklist=True)
    world.customers["neighbour"] = await make_customer(world.village1a, world.staff["manager1b"], "赵五")
    await give_report(world.customers["neighbour"])

    at_president = await to_investigation(api, world, amount="150000")
    at_president = await investigate(
        api, "investigator",
        investigation_input(at_president["id"], verifiedAnnualIncome="400000", recommendedLimit="150000",
                            adjustmentReason="经营稳定,收入可核实 / steady business, verified income"),
    )  # fmt: skip
    at_president = await decide(api, "approver", at_president["id"])
    assert at_president["waitingTier"] == {"authority": "BRANCH_PRESIDENT"}, at_president
    paid = await approve_every_tier(api, await to_approval(api, world))
    assert paid["state"] == "APPROVED", paid
    first = await request_drawdown(api, "manager1a", paid["id"], "30000")
    await disburse(api, "manager1a", first, world.customers["c1a"])
    second = await request_drawdown(api, "manager1a", paid["id"], "10000")
    rejected = await to_approval(api, world, user="manager1b", customer="c1b")
    assert (await decide(api, "approver", rejected["id"], "REJECT", "负债过高 / debts too high"))["state"] == "REJECTED"
    investigating = await to_investigation(api, world, user="manager2a", customer="c2a")
    refused = await submit(api, "manager1a", application_input(world, "blacklisted"))
    assert refused["state"] == "ADMISSION_REFUSED", refused
    waiting = await submit(api, "manager1b", application_input(world, "neighbour"))
    assert waiting["state"] == "AWAITING_ASSIGNMENT", waiting

    now = datetime.now(UTC)
    days_ago = now - timedelta(days=10)
    await _retime(paid["id"], days_ago, 0, 4, 94, 114)
    await _retime_drawdown(first["id"], days_ago, 200, 230, 240, 250)
    await _retime_drawdown(second["id"], now, -25)
    await _retime(rejected["id"], now - timedelta(days=9), 0, 10, 40, 80)
    await _retime(investigating["id"], now, -180, -178)
    await _retime(at_president["id"], now, -86, -80, -30, -10)
    await _retime(refused["id"], now - timedelta(days=8), 0)
    await _retime(waiting["id"], now, -1)
    return {"paid": paid["id"], "rejected": rejected["id"], "investigating": investigating["id"],
            "at_president": at_president["id"], "refused": refused["id"], "waiting": waiting["id"]}  # fmt: skip


def _counts(applications: int, investigations: int, lines: int = 0, disbursed: int = 0) -> dict[str, Any]:
    return {
        "applications": applications, "investigations": investigations,
        "linesGranted": lines, "lineAmount": f"{50000 * lines}.00",
        "drawdownsDisbursed": disbursed, "disbursedAmount": f"{30000 * disbursed}.00",
    }  # fmt: skip


def _stages(metrics: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        s["stage"]: (s["finished"]["cases"], s["finished"]["p50Minutes"], s["finished"]["p90Minutes"], s["open"],
                     s["slaBreaches"]["finished"], s["slaBreaches"]["open"], s["slaBreaches"]["total"])
        for s in metrics["stages"]
    }  # fmt: skip


async def test_head_office_sees_every_figure_exactly(api: Api, world: World, story: dict[str, str]) -> None:
    metrics = await _metrics(api, "head")
    assert metrics["headline"] == _counts(6, 3, 1, 1)
    assert metrics["byChild"] == [
        {"node": {"name": "王集镇", "code": world.township1.code}, "counts": _counts(5, 3, 1, 1)},
        {"node": {"name": "双沟镇", "code": world.township2.code}, "counts": _counts(1, 0)},
    ]
    assert metrics["turnaround"] == {"cases": 1, "p50Minutes": 250.0, "p90Minutes": 250.0}
    # stage: (finished, p50, p90, open now, breaches finished, open, total)
    assert _stages(metrics) == {
        "ASSIGNMENT": (4, 4.0, 10.0, 1, 2, 0, 2),  # 2, 4, 6, 10 minutes; the limit is 5
        "INVESTIGATION": (3, 50.0, 90.0, 1, 1, 1, 2),  # 30, 50, 90; 178 so far; the limit is 60
        "APPROVAL": (3, 20.0, 40.0, 1, 1, 0, 1),  # 20, 20 (the approver's tier), 40; 10 so far; the limit is 30
        "CONTRACT": (1, 30.0, 30.0, 1, 1, 1, 2),  # 30; 25 so far; the limit is 20
        "BACK_OFFICE_CHECK": (1, 10.0, 10.0, 0, 0, 0, 0),
        "DISBURSEMENT": (1, 10.0, 10.0, 0, 0, 0, 0),  # exactly at its 10-minute limit is not over it
    }
    assert [(s["stage"], s["applicationState"], s["drawdownState"]) for s in metrics["stages"]][::2] == [
        ("ASSIGNMENT", "AWAITING_ASSIGNMENT", None), ("APPROVAL", "AWAITING_APPROVAL", None),
        ("BACK_OFFICE_CHECK", None, "SIGNED"),
    ]  # fmt: skip
    assert metrics["backlog"] == {
        "applications": [{"state": "AWAITING_ASSIGNMENT", "count": 1}, {"state": "INVESTIGATING", "count": 1},
                         {"state": "AWAITING_APPROVAL", "count": 1}],
        "byInvestigator": [{"investigator": {"displayName": "Investigator", "username": None}, "count": 1}],
        "byTierAuthority": [{"authority": "BRANCH_PRESIDENT", "count": 1}],
        "drawdowns": [{"state": "PRICED", "count": 1}, {"state": "SIGNED", "count": 0},
                      {"state": "CHECKED", "count": 0}],
    }  # fmt: skip
    assert metrics["products"] == [
        {"productCode": "puhui", "nameZh": "普惠贷", "submitted": 6, "admissionRefused": 1, "approved": 1,
         "rejected": 1, "decided": 2, "approvalRate": 0.5, "rejectionRate": 0.5, "admissionRefusalRate": 1 / 6},
    ]  # fmt: skip


async def test_the_figures_agree_with_direct_counts(api: Api, world: World, story: dict[str, str]) -> None:
    metrics = await _metrics(api, "head")
    start = datetime.combine(TODAY - timedelta(days=30), datetime.min.time(), UTC)
    lines = await CreditLine.filter(created_at__gte=start).values_list("amount", flat=True)
    disbursed = await DrawdownEvent.filter(to_state="DISBURSED", at__gte=start).values_list("drawdown_id", flat=True)
    amounts = await Drawdown.filter(id__in=disbursed).values_list("amount", flat=True)
    assert metrics["headline"] == {
        "applications": await CreditApplication.filter(submitted_at__gte=start).count(),
        "investigations": await ApplicationEvent.filter(action="submit_investigation", at__gte=start).count(),
        "linesGranted": len(lines),
        "lineAmount": str(sum(lines, Decimal("0.00"))),
        "drawdownsDisbursed": len(amounts),
        "disbursedAmount": str(sum(amounts, Decimal("0.00"))),
    }
    backlog = {r["state"]: r["count"] for r in metrics["backlog"]["applications"]}
    for state, count in backlog.items():
        assert count == await CreditApplication.filter(state=state).count(), state
    investigating = await CreditApplication.filter(state="INVESTIGATING").values_list("investigator_id", flat=True)
    assert len(investigating) == metrics["backlog"]["byInvestigator"][0]["count"]
    drawdowns = {r["state"]: r["count"] for r in metrics["backlog"]["drawdowns"]}
    assert drawdowns == {s: await Drawdown.filter(state=s).count() for s in ("PRICED", "SIGNED", "CHECKED")}
    (puhui,) = metrics["products"]
    assert puhui["admissionRefused"] == await CreditApplication.filter(state="ADMISSION_REFUSED").count()
    assert puhui["approved"] == await CreditApplication.filter(state="APPROVED").count()
    assert puhui["rejected"] == await CreditApplication.filter(state="REJECTED").count()
    # a product none of these are of, and the same figures when the product is named
    other = await _metrics(api, "head", product="cheyi")
    assert (other["headline"], other["products"], other["turnaround"]["cases"]) == (_counts(0, 0), [], 0)
    assert (await _metrics(api, "head", product="puhui"))["headline"] == metrics["headline"]


async def test_a_president_sees_their_villages_side_by_side(api: Api, world: World, story: dict[str, str]) -> None:
    branch = await _metrics(api, "president1")
    assert branch["headline"] == _counts(5, 3, 1, 1)
    assert [c["node"]["name"] for c in branch["byChild"]] == ["王集镇"]
    township = await _metrics(api, "president1", node=world.township1.code)
    assert township["gridNode"] == {"name": "王集镇"}
    assert [(c["node"]["name"], c["counts"]) for c in township["byChild"]] == [
        ("张庄村", _counts(4, 2, 1, 1)),  # paid, at_president, refused and waiting
        ("李庄村", _counts(1, 1)),  # rejected
    ]
    assert township["headline"] == branch["headline"]
    village = await _metrics(api, "president1", node=world.village1b.code)
    assert (village["headline"], village["byChild"]) == (_counts(1, 1), [])
    assert {r["state"]: r["count"] for r in village["backlog"]["applications"]} == {
        "AWAITING_ASSIGNMENT": 0, "INVESTIGATING": 0, "AWAITING_APPROVAL": 0,
    }  # fmt: skip
    # from the county down, a president still sees their own branch only
    county = await _metrics(api, "president1", node=world.county.code)
    assert (county["headline"], [c["node"]["name"] for c in county["byChild"]]) == (branch["headline"], ["王集镇"])
    other = await _metrics(api, "president2")
    assert (other["headline"], [c["node"]["name"] for c in other["byChild"]]) == (_counts(1, 0), ["双沟镇"])


@pytest.mark.parametrize(
    ("user", "code"),
    [("president1", "township2"), ("manager1a", "village1b"), ("manager2a", "township1"), ("head", None)],
)
async def test_a_node_out_of_sight_or_unknown_is_not_found(api: Api, world: World, user: str, code: str | None) -> None:
    node = getattr(world, code).code if code else "999999999"
    body = await api.as_(user, METRICS, {**PERIOD, "node": node})
    assert body["data"]["creditProcessMetrics"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["field"] == "gridNodeCode"


async def test_each_role_gets_its_own_work(api: Api, world: World, story: dict[str, str]) -> None:
    seen = {}
    for user in [*ROLES, "investigator2"]:
        metrics = await _metrics(api, user)
        backlog = {r["state"]: r["count"] for r in metrics["backlog"]["applications"]}
        seen[user] = (metrics["headline"]["applications"], metrics["headline"]["investigations"],
                      metrics["headline"]["linesGranted"], metrics["headline"]["drawdownsDisbursed"],
                      sum(backlog.values()), metrics["turnaround"]["cases"])  # fmt: skip
    # (applications, investigations, lines, disbursements, open applications, turnarounds)
    assert seen == {
        "head": (6, 3, 1, 1, 3, 1),
        "president1": (5, 3, 1, 1, 2, 1),
        "president2": (1, 0, 0, 0, 1, 0),
        "manager1a": (3, 2, 1, 1, 1, 1),  # not 赵五's, in their village but taken by manager1b
        "manager1b": (2, 1, 0, 0, 1, 0),
        "manager2a": (1, 0, 0, 0, 1, 0),
        "investigator": (4, 3, 1, 1, 2, 1),  # neither the refused nor the waiting one
        "investigator2": (0, 0, 0, 0, 0, 0),
        "approver": (3, 3, 1, 1, 1, 1),  # what they decided on; none waits at their tier now
        "backoffice": (0, 0, 1, 1, 0, 0),  # the lending side only
        "admin": (0, 0, 0, 0, 0, 0),
    }
    office = await _metrics(api, "backoffice")
    assert [d["count"] for d in office["backlog"]["drawdowns"]] == [1, 0, 0]
    assert {s["stage"]: s["finished"]["cases"] for s in office["stages"]} == {
        "ASSIGNMENT": 0, "INVESTIGATION": 0, "APPROVAL": 0, "CONTRACT": 1, "BACK_OFFICE_CHECK": 1, "DISBURSEMENT": 1,
    }  # fmt: skip
    admin = await _metrics(api, "admin")
    assert admin["products"] == []
    assert admin["backlog"]["byInvestigator"] == []
    assert [c["counts"] for c in admin["byChild"]] == [_counts(0, 0), _counts(0, 0)]
    # an investigator's backlog names themselves; their login name only to themselves
    mine = await _metrics(api, "investigator")
    assert mine["backlog"]["byInvestigator"] == [
        {"investigator": {"displayName": "Investigator", "username": "investigator"}, "count": 1}
    ]


async def test_the_reach_never_leaves_what_the_policy_shows(world: World, story: dict[str, str]) -> None:
    staff = {s.username: s for s in await Staff.all().prefetch_related("scope")}
    for user, member in staff.items():
        actor = Actor(member.id, user, frozenset(Role(r) for r in member.roles),
                      tuple(n.path for n in member.scope))  # fmt: skip
        seen = set(await CreditApplication.filter(policy.visible(actor)).values_list("id", flat=True))
        process = set(await CreditApplication.filter(process_reach(actor)).values_list("id", flat=True))
        lending = set(await CreditApplication.filter(lending_reach(actor)).values_list("id", flat=True))
        assert process <= lending <= seen, user


async def test_a_past_period_counts_nothing_but_the_backlog_is_now(
    api: Api, world: World, story: dict[str, str]
) -> None:
    long_ago = {"from": (TODAY - timedelta(days=400)).isoformat(), "to": (TODAY - timedelta(days=40)).isoformat()}
    metrics = await _metrics(api, "head", **long_ago)
    assert metrics["headline"] == _counts(0, 0)
    assert all(s["finished"]["cases"] == s["open"] == s["slaBreaches"]["total"] == 0 for s in metrics["stages"])
    assert [r["count"] for r in metrics["backlog"]["applications"]] == [1, 1, 1]


@pytest.mark.parametrize(
    ("first", "last", "code", "field"),
    [
        (date(2026, 3, 2), date(2026, 3, 1), "PERIOD_REVERSED", "from"),
        (date(2025, 1, 1), date(2026, 2, 6), "PERIOD_TOO_LONG", "to"),  # 401 days
    ],
)
async def test_a_bad_period_is_a_typed_error(
    api: Api, world: World, first: date, last: date, code: str, field: str
) -> None:
    body = await api.as_("head", METRICS, {"from": first.isoformat(), "to": last.isoformat()})
    assert body["data"]["creditProcessMetrics"] is None
    assert (body["errors"][0]["extensions"]["code"], body["errors"][0]["extensions"]["field"]) == (code, field)


async def test_a_period_of_400_days_and_one_of_a_single_day_are_answered(api: Api, world: World) -> None:
    longest = await _metrics(api, "head", **{"from": "2025-01-01", "to": "2026-02-05"})
    single = await _metrics(api, "head", **{"from": "2026-03-01", "to": "2026-03-01"})
    assert (longest["from"], longest["to"], single["from"], single["to"]) == (
        "2025-01-01", "2026-02-05", "2026-03-01", "2026-03-01",
    )  # fmt: skip
    assert single["headline"] == _counts(0, 0)


async def _seed(world: World, villages: list[GridNode], per_village: int) -> None:
    """Applications written straight to the tables, in every part of the process: waiting for an investigator,
    investigating, and approved with a line and a disbursed drawdown."""
    now = datetime.now(UTC)
    investigator, manager = world.staff["investigator"], world.staff["manager1a"]
    for village in villages:
        for i in range(per_village):
            state = [ApplicationState.AWAITING_ASSIGNMENT, ApplicationState.INVESTIGATING, ApplicationState.APPROVED][
                i % 3
            ]
            application = await CreditApplication.create(
                client_id=f"seed-{uuid.uuid4()}", customer=world.customers["c1a"], village=village,
                marketer=manager, investigator=investigator if state != "AWAITING_ASSIGNMENT" else None,
                product_code="puhui", product_version=1, product_sha256="0" * 64, amount=Decimal(50000),
                term_months=12, repayment_method="EQUAL_INSTALMENTS", guarantee_type="CREDIT", state=state,
                submitted_at=now - timedelta(hours=5), state_since=now,
            )  # fmt: skip
            steps = [("admit", None, "AWAITING_ASSIGNMENT"), ("assign", "AWAITING_ASSIGNMENT", "INVESTIGATING"),
                     ("submit_investigation", "INVESTIGATING", "AWAITING_APPROVAL"),
                     ("approve", "AWAITING_APPROVAL", "APPROVED")][: {"AWAITING_ASSIGNMENT": 1, "INVESTIGATING": 2,
                                                                       "APPROVED": 4}[state]]  # fmt: skip
            for n, (action, source, target) in enumerate(steps):
                await ApplicationEvent.create(application=application, action=action, from_state=source,
                                              to_state=target, at=now - timedelta(hours=5 - n))  # fmt: skip
            if state == ApplicationState.APPROVED:
                await _seed_loan(application, now)


async def _seed_loan(application: CreditApplication, now: datetime) -> None:
    line = await CreditLine.create(
        application=application, customer_id=application.customer_id, product_code="puhui", product_version=1,  # type: ignore[attr-defined]
        amount=Decimal(50000), revolving=True, valid_from=now.date(), valid_until=now.date() + timedelta(days=365),
        created_at=now - timedelta(hours=1),
    )  # fmt: skip
    drawdown = await Drawdown.create(
        client_id=f"seed-{application.id}", line=line, requested_by_id=application.marketer_id, amount=Decimal(30000),  # type: ignore[attr-defined]
        term_months=12, repayment_method="EQUAL_INSTALMENTS", repayment_day=20, annual_rate=Decimal("0.04"),
        value_date=now.date(), state="DISBURSED", contract_number=f"JK-SEED-{application.id}",
        contract_sha256="0" * 64, contract_pages=3, requested_at=now, state_since=now,
    )  # fmt: skip
    for n, (action, source, target) in enumerate(
        [("request", None, "PRICED"), ("sign", "PRICED", "SIGNED"), ("check", "SIGNED", "CHECKED"),
         ("disburse", "CHECKED", "DISBURSED")]
    ):  # fmt: skip
        await DrawdownEvent.create(drawdown=drawdown, action=action, from_state=source, to_state=target,
                                   actor_id=application.marketer_id, at=now - timedelta(minutes=40 - 10 * n))  # type: ignore[attr-defined]  # fmt: skip


async def test_the_statements_do_not_grow_with_the_applications_or_the_villages(
    api: Api, world: World, count_queries: QueryCounter
) -> None:
    await credit_world(world)
    await _seed(world, [world.village1a, world.village1b, world.village2a], 3)
    variables = {"node": world.county.code}
    await _metrics(api, "head", **variables)  # signs in and caches the scope
    count_queries.statements.clear()
    few = await _metrics(api, "head", **variables)
    statements = list(count_queries.statements)
    more = [await make_node(f"新村{i}", GridLevel.VILLAGE, world.township2) for i in range(3)]
    await _seed(world, [world.village1a, world.village1b, world.village2a, *more], 3)
    count_queries.statements.clear()
    many = await _metrics(api, "head", **variables)
    assert len(count_queries.statements) == len(statements), count_queries.statements
    assert (few["headline"]["applications"], many["headline"]["applications"]) == (9, 27)
    assert [c["counts"]["drawdownsDisbursed"] for c in many["byChild"]] == [4, 5]
    # the token check, the node, its children, eight aggregations (the period's events, lines and disbursements,
    # the turnaround, the two stage readings, the two backlogs) and the investigators in one batch
    assert len(statements) == 12, statements
