"""Assignment to credit investigators: who is eligible (each rule, and how outlet and grid combine), who is chosen
(load, then same outlet, then staff id; never the marketer; most urgent application first), the explanation of
each choice and of each application left over, a branch president's reassignment checks, and, over random
counties with fixed seeds, the run against a plain scan of every investigator: the same choices, whatever the
input order, balanced within one case."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from domain.credit.assignment import (
    AssignmentPlan,
    Exclusion,
    Investigator,
    Tier,
    UnassignedReason,
    WaitingApplication,
    assign,
    check_bulk_reassignment,
    check_reassignment,
    eligible,
    exclusion,
    sla_order,
    tier,
)
from domain.credit.errors import CreditErrorCode
from domain.errors import DomainError, ErrorCode

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
NAMES_ZH = {"puhui": "普惠贷", "cheyi": "车易贷", "fangdi": "房抵贷"}


def investigator(staff_id: int = 7, **changes: object) -> Investigator:
    """At outlet 1, covering township /1/4/, skilled in puhui, active, nothing open."""
    fields: dict[str, object] = {
        "staff_id": staff_id,
        "outlet_id": 1,
        "scope_paths": ("/1/4/",),
        "product_skills": frozenset({"puhui"}),
        "open_cases": 0,
        "at_risk_cases": 0,
        "active": True,
    }
    return Investigator(**(fields | changes))  # type: ignore[arg-type]


def application(application_id: int, **changes: object) -> WaitingApplication:
    """A puhui application from village /1/4/17/, taken at outlet 1, marketed by customer manager 900."""
    fields: dict[str, object] = {
        "application_id": application_id,
        "product_code": "puhui",
        "village_path": "/1/4/17/",
        "outlet_id": 1,
        "marketer_id": 900,
        "waiting_since": NOW - timedelta(hours=1),
        "sla_due": NOW + timedelta(hours=1),
    }
    return WaitingApplication(**(fields | changes))  # type: ignore[arg-type]


def chosen(plan: AssignmentPlan) -> list[tuple[int, int]]:
    return [(a.application_id, a.staff_id) for a in plan.assignments]


# eligibility


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, None),
        ({"active": False}, Exclusion.INACTIVE),
        ({"product_skills": frozenset({"cheyi"})}, Exclusion.NO_PRODUCT_SKILL),
        ({"product_skills": frozenset()}, Exclusion.NO_PRODUCT_SKILL),
        ({"outlet_id": 2, "scope_paths": ("/1/5/",)}, Exclusion.NOT_COVERING),
        ({"outlet_id": 2, "scope_paths": ()}, Exclusion.NOT_COVERING),
        ({"outlet_id": 2, "scope_paths": ("/1/4/1/",)}, Exclusion.NOT_COVERING),  # /1/4/17/ is not under /1/4/1/
        ({"outlet_id": 2, "scope_paths": ("/1/4/17/3/",)}, Exclusion.NOT_COVERING),  # a village group only
        ({"outlet_id": 2, "scope_paths": ("/1/5/", "/1/4/17/")}, None),  # grid: the village itself
        ({"outlet_id": 2, "scope_paths": ("/1/",)}, None),  # grid: the whole county
        ({"outlet_id": 1, "scope_paths": ()}, None),  # outlet alone is enough
        ({"staff_id": 900}, Exclusion.MARKETER),
        ({"active": False, "product_skills": frozenset(), "outlet_id": 2}, Exclusion.INACTIVE),  # the first rule
        ({"product_skills": frozenset(), "outlet_id": 2, "staff_id": 900}, Exclusion.NO_PRODUCT_SKILL),
        ({"outlet_id": 2, "scope_paths": (), "staff_id": 900}, Exclusion.NOT_COVERING),
    ],
)
def test_each_rule_of_eligibility(changes: dict[str, object], expected: Exclusion | None) -> None:
    candidate = investigator(**changes)  # type: ignore[arg-type]
    assert exclusion(candidate, application(1)) == expected
    assert eligible(candidate, application(1)) is (expected is None)


def test_the_outlet_or_the_grid_decides_the_tier() -> None:
    assert tier(investigator(7), application(1)) is Tier.SAME_OUTLET
    assert tier(investigator(7, scope_paths=()), application(1)) is Tier.SAME_OUTLET
    assert tier(investigator(7, outlet_id=2), application(1)) is Tier.GRID


def test_malformed_facts_are_refused() -> None:
    with pytest.raises(ValueError, match="at-risk cases"):
        investigator(7, open_cases=1, at_risk_cases=2)
    with pytest.raises(ValueError, match="at-risk cases"):
        investigator(7, open_cases=-1, at_risk_cases=-1)
    with pytest.raises(ValueError, match="not a grid path"):
        investigator(7, scope_paths=("/1/4",))
    with pytest.raises(ValueError, match="not a grid path"):
        application(1, village_path="1/4/17/")
    with pytest.raises(ValueError, match="listed twice"):
        assign([application(1), application(1)], [investigator(7)], now=NOW)
    with pytest.raises(ValueError, match="listed twice"):
        assign([application(1)], [investigator(7), investigator(7)], now=NOW)


# choosing


def test_the_lowest_load_is_chosen_and_at_risk_cases_count_double() -> None:
    busy_but_safe = investigator(7, open_cases=4)  # load 4
    fewer_but_late = investigator(8, open_cases=3, at_risk_cases=2)  # load 5
    plan = assign([application(1)], [fewer_but_late, busy_but_safe], now=NOW)
    assert chosen(plan) == [(1, 7)]
    assert plan.assignments[0].open_cases_before == 4


def test_a_grid_investigator_with_less_work_beats_the_outlet() -> None:
    plan = assign(
        [application(1)], [investigator(7, open_cases=3), investigator(8, outlet_id=2, open_cases=2)], now=NOW
    )
    assert chosen(plan) == [(1, 8)]


def test_on_equal_load_the_outlet_comes_first_then_the_lower_staff_id() -> None:
    grid = investigator(5, outlet_id=2, open_cases=2)
    outlet_high, outlet_low = investigator(9, open_cases=2), investigator(8, open_cases=2)
    plan = assign([application(1)], [grid, outlet_high, outlet_low], now=NOW)
    assert chosen(plan) == [(1, 8)]


def test_never_the_marketer_even_with_the_lowest_load() -> None:
    marketer = investigator(7)
    plan = assign(
        [application(1, marketer_id=7), application(2, marketer_id=7)],
        [marketer, investigator(8, open_cases=5)],
        now=NOW,
    )
    assert chosen(plan) == [(1, 8), (2, 8)]
    assert [a.open_cases_before for a in plan.assignments] == [5, 6]


def test_the_load_grows_as_the_run_goes() -> None:
    plan = assign([application(n) for n in range(1, 6)], [investigator(7), investigator(8, open_cases=2)], now=NOW)
    assert chosen(plan) == [(1, 7), (2, 7), (3, 7), (4, 8), (5, 7)]
    assert [a.open_cases_before for a in plan.assignments] == [0, 1, 2, 2, 3]


def test_the_most_urgent_application_goes_first() -> None:
    late = application(3, sla_due=NOW + timedelta(minutes=10))
    waited_longer = application(2, sla_due=NOW + timedelta(hours=2), waiting_since=NOW - timedelta(hours=5))
    lower_id = application(1, sla_due=NOW + timedelta(hours=2), waiting_since=NOW - timedelta(hours=3))
    higher_id = application(4, sla_due=NOW + timedelta(hours=2), waiting_since=NOW - timedelta(hours=3))
    assert [a.application_id for a in sla_order([higher_id, lower_id, waited_longer, late])] == [3, 2, 1, 4]
    # the least-loaded investigator takes the most urgent one
    plan = assign([higher_id, lower_id, late, waited_longer], [investigator(8, open_cases=1), investigator(7)], now=NOW)
    assert chosen(plan) == [(3, 7), (2, 7), (1, 8), (4, 7)]


# explanations


def explained(plan: AssignmentPlan) -> list[tuple[str, str]]:
    return [(a.reason_zh, a.reason_en) for a in plan.assignments]


def test_a_choice_on_load_is_explained() -> None:
    plan = assign(
        [application(1)],
        [investigator(7, open_cases=3), investigator(8, open_cases=4)],
        now=NOW,
        product_names_zh=NAMES_ZH,
    )
    assert explained(plan) == [
        (
            "同网点、具备普惠贷产品技能、在办 3 件、负荷 3(最低)",
            "same outlet, product skill puhui, 3 open cases, load 3, the lowest",
        )
    ]


def test_cases_near_their_sla_are_explained_in_the_load() -> None:
    plan = assign(
        [application(1)],
        [investigator(7, outlet_id=2, open_cases=1, at_risk_cases=1), investigator(8, open_cases=5)],
        now=NOW,
        product_names_zh=NAMES_ZH,
    )
    assert explained(plan) == [
        (
            "网格覆盖该村、具备普惠贷产品技能、在办 1 件(其中临近时限 1 件)、负荷 2(最低)",
            "covers the village, product skill puhui, 1 open case (1 near the SLA), load 2, the lowest",
        )
    ]


def test_tie_breaks_are_explained() -> None:
    outlet_over_grid = assign(
        [application(1)], [investigator(5, outlet_id=2), investigator(9)], now=NOW, product_names_zh=NAMES_ZH
    )
    assert explained(outlet_over_grid) == [
        (
            "同网点、具备普惠贷产品技能、在办 0 件、负荷 0(并列最低,同网点优先)",
            "same outlet, product skill puhui, 0 open cases, load 0, tied for the lowest, same outlet preferred",
        )
    ]
    by_staff_id = assign([application(1)], [investigator(9), investigator(8)], now=NOW)
    assert explained(by_staff_id) == [
        (
            "同网点、具备puhui产品技能、在办 0 件、负荷 0(并列最低,工号较小)",
            "same outlet, product skill puhui, 0 open cases, load 0, tied for the lowest, lower staff id",
        )
    ]


def test_the_only_candidate_and_a_late_application_are_explained() -> None:
    plan = assign(
        [application(1, sla_due=NOW - timedelta(minutes=1), marketer_id=8)],
        [investigator(7, open_cases=2), investigator(8)],
        now=NOW,
        product_names_zh=NAMES_ZH,
    )
    assert explained(plan) == [
        (
            "已超时限;同网点、具备普惠贷产品技能、在办 2 件、负荷 2(唯一符合条件)",
            "past its SLA; same outlet, product skill puhui, 2 open cases, load 2, the only one eligible",
        )
    ]


@pytest.mark.parametrize(
    ("investigators", "code", "reason_zh", "reason_en"),
    [
        (
            [],
            UnassignedReason.NO_ACTIVE_INVESTIGATOR,
            "没有在岗的授信经理",
            "no credit investigator is active",
        ),
        (
            [investigator(7, active=False)],
            UnassignedReason.NO_ACTIVE_INVESTIGATOR,
            "没有在岗的授信经理",
            "no credit investigator is active",
        ),
        (
            [investigator(7, product_skills=frozenset({"cheyi"})), investigator(8, active=False)],
            UnassignedReason.NO_PRODUCT_SKILL,
            "没有具备普惠贷产品技能的在岗授信经理",
            "no active investigator has the product skill puhui",
        ),
        (
            [investigator(7, outlet_id=2, scope_paths=("/1/5/",)), investigator(8, product_skills=frozenset())],
            UnassignedReason.NOT_COVERED,
            "具备普惠贷产品技能的授信经理都不在受理网点,网格范围也不含申请人所在村",
            "no investigator with the product skill puhui is at the outlet that took it or covers its village",
        ),
        (
            [investigator(900), investigator(8, outlet_id=2, scope_paths=("/1/5/",))],
            UnassignedReason.ONLY_THE_MARKETER,
            "唯一符合条件的授信经理是该申请的营销人",
            "the only eligible investigator marketed it",
        ),
    ],
)
def test_an_application_nobody_may_take_says_which_rule_left_nobody(
    investigators: list[Investigator], code: UnassignedReason, reason_zh: str, reason_en: str
) -> None:
    plan = assign([application(1)], investigators, now=NOW, product_names_zh=NAMES_ZH)
    assert plan.assignments == ()
    assert [(u.application_id, u.reason_code, u.reason_zh, u.reason_en) for u in plan.unassigned] == [
        (1, code, reason_zh, reason_en)
    ]


def test_unassigned_applications_do_not_stop_the_others() -> None:
    plan = assign(
        [application(1, product_code="fangdi"), application(2), application(3, marketer_id=7)],
        [investigator(7)],
        now=NOW,
    )
    assert chosen(plan) == [(2, 7)]
    assert [(u.application_id, u.reason_code) for u in plan.unassigned] == [
        (1, UnassignedReason.NO_PRODUCT_SKILL),
        (3, UnassignedReason.ONLY_THE_MARKETER),
    ]


# reassignment


def test_a_reassignment_to_an_eligible_investigator_with_a_reason_passes() -> None:
    check_reassignment(application(1), investigator(7, outlet_id=2), "  原授信经理休假 ")
    check_reassignment(application(1), investigator(7), "x" * 200)
    check_bulk_reassignment([application(1), application(2)], investigator(7), "休假")


@pytest.mark.parametrize(
    ("reason", "code", "message_en"),
    [
        ("", CreditErrorCode.REASSIGN_REASON_REQUIRED, "a reassignment needs a reason"),
        (" \t\n ", CreditErrorCode.REASSIGN_REASON_REQUIRED, "a reassignment needs a reason"),
        ("x" * 201, ErrorCode.VALUE_TOO_LONG, "the reason may have at most 200 characters"),
        (
            "休假\u202e",
            ErrorCode.INVALID_VALUE,
            "the reason contains a control or invisible character (U+202E)",
        ),
    ],
)
def test_a_reassignment_needs_a_short_plain_reason(reason: str, code: str, message_en: str) -> None:
    with pytest.raises(DomainError) as caught:
        check_reassignment(application(1), investigator(7), reason)
    assert (caught.value.code, caught.value.field, caught.value.message_en) == (code, "reason", message_en)
    with pytest.raises(DomainError) as bulk:
        check_bulk_reassignment([application(1)], investigator(7), reason)
    assert (bulk.value.code, bulk.value.field) == (code, "reason")


@pytest.mark.parametrize(
    ("changes", "message_zh", "message_en"),
    [
        (
            {"active": False},
            "申请1不能改派给该授信经理:不在岗",
            "application 1 cannot go to this investigator: not active",
        ),
        (
            {"product_skills": frozenset({"cheyi"})},
            "申请1不能改派给该授信经理:不具备普惠贷产品技能",
            "application 1 cannot go to this investigator: without the product skill puhui",
        ),
        (
            {"outlet_id": 2, "scope_paths": ("/1/5/",)},
            "申请1不能改派给该授信经理:不在受理网点,网格范围也不含申请人所在村",
            "application 1 cannot go to this investigator: neither at the outlet that took it nor covering its village",
        ),
        (
            {"staff_id": 900},
            "申请1不能改派给该授信经理:其为该申请的营销人,营销与调查须分离",
            "application 1 cannot go to this investigator: "
            "its marketer, and marketing and investigation are kept apart",
        ),
    ],
)
def test_a_reassignment_to_an_ineligible_investigator_is_refused(
    changes: dict[str, object], message_zh: str, message_en: str
) -> None:
    with pytest.raises(DomainError) as caught:
        check_reassignment(application(1), investigator(**changes), "休假", product_name_zh="普惠贷")  # type: ignore[arg-type]
    error = caught.value
    assert (error.code, error.field, error.message_zh, error.message_en) == (
        CreditErrorCode.INVESTIGATOR_NOT_ELIGIBLE,
        "investigatorId",
        message_zh,
        message_en,
    )


def test_a_bulk_reassignment_is_refused_at_the_first_application_the_investigator_may_not_take() -> None:
    applications = [application(1), application(2, product_code="fangdi"), application(3, marketer_id=7)]
    with pytest.raises(DomainError) as caught:
        check_bulk_reassignment(applications, investigator(7), "休假", product_names_zh=NAMES_ZH)
    assert (caught.value.code, caught.value.field, caught.value.message_en) == (
        CreditErrorCode.INVESTIGATOR_NOT_ELIGIBLE,
        "investigatorId",
        "application 2 cannot go to this investigator: without the product skill fangdi",
    )
    with pytest.raises(DomainError) as empty:
        check_bulk_reassignment([], investigator(7), "休假")
    assert (empty.value.code, empty.value.field) == (ErrorCode.INVALID_VALUE, "applications")


# properties over random counties (fixed seeds)

SEEDS = range(40)


def random_county(seed: int, *, equal_loads: bool) -> tuple[list[WaitingApplication], list[Investigator]]:
    """Two townships of three villages, three outlets, three products; a few investigators also market."""
    rng = random.Random(seed)
    villages = [f"/1/{t}/{t * 10 + v}/" for t in (2, 3) for v in range(3)]
    products = ["puhui", "cheyi", "fangdi"]
    staff = []
    for n in range(rng.randint(2, 14)):
        open_cases = 3 if equal_loads else rng.randint(0, 6)
        staff.append(
            Investigator(
                staff_id=10 + n,
                outlet_id=rng.randint(1, 3),
                scope_paths=tuple(rng.sample(["/1/", "/1/2/", "/1/3/", *villages], rng.choice((0, 1, 1, 2)))),
                product_skills=frozenset(rng.sample(products, rng.randint(1, 3))),
                open_cases=open_cases,
                at_risk_cases=1 if equal_loads else rng.randint(0, min(open_cases, 2)),
                active=rng.random() > 0.1,
            )
        )
    applications = []
    for n in range(rng.randint(1, 80)):
        since = NOW - timedelta(minutes=rng.randint(0, 600))
        applications.append(
            WaitingApplication(
                application_id=100 + n,
                product_code=rng.choice(products),
                village_path=rng.choice(villages),
                outlet_id=rng.randint(1, 3),
                marketer_id=rng.choice([i.staff_id for i in staff]) if rng.random() < 0.2 else 900,
                waiting_since=since,
                # few distinct due times, so that the waiting time and the id break ties
                sla_due=since.replace(minute=0) + timedelta(hours=rng.choice((1, 2))),
            )
        )
    return applications, staff


def scan_every_investigator(
    applications: list[WaitingApplication], staff: list[Investigator]
) -> list[tuple[int, int, str]]:
    """The rule as the issue words it, looking at every investigator for every application: (application,
    investigator, how the explanation ends)."""
    loads = {i.staff_id: i.load for i in staff}
    choices = []
    for app in sla_order(applications):
        ranked = sorted((loads[i.staff_id], tier(i, app), i.staff_id) for i in staff if eligible(i, app))
        if not ranked:
            continue
        if len(ranked) == 1:
            why = "the only one eligible"
        elif ranked[1][0] > ranked[0][0]:
            why = "the lowest"
        elif ranked[1][1] > ranked[0][1]:
            why = "tied for the lowest, same outlet preferred"
        else:
            why = "tied for the lowest, lower staff id"
        choices.append((app.application_id, ranked[0][2], why))
        loads[ranked[0][2]] += 1
    return choices


@pytest.mark.parametrize("seed", SEEDS)
def test_the_run_makes_the_choices_of_a_scan_over_every_investigator(seed: int) -> None:
    applications, staff = random_county(seed, equal_loads=False)
    plan = assign(applications, staff, now=NOW)
    expected = scan_every_investigator(applications, staff)
    assert chosen(plan) == [(application_id, staff_id) for application_id, staff_id, _ in expected]
    assert [a.reason_en.rsplit(", load ", 1)[1].split(", ", 1)[1] for a in plan.assignments] == [
        why for _, _, why in expected
    ]
    by_id = {i.staff_id: i for i in staff}
    by_app = {a.application_id: a for a in applications}
    for assignment in plan.assignments:
        app = by_app[assignment.application_id]
        assert eligible(by_id[assignment.staff_id], app)
        assert assignment.staff_id != app.marketer_id
    for left in plan.unassigned:
        assert not any(eligible(i, by_app[left.application_id]) for i in staff)
    assert len(plan.assignments) + len(plan.unassigned) == len(applications)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_same_input_in_any_order_gives_the_same_plan(seed: int) -> None:
    applications, staff = random_county(seed, equal_loads=False)
    plan = assign(applications, staff, now=NOW)
    rng = random.Random(seed)
    for _ in range(3):
        rng.shuffle(applications)
        rng.shuffle(staff)
        assert assign(applications, staff, now=NOW) == plan


def final_loads_by_class(
    applications: list[WaitingApplication], staff: list[Investigator], plan: AssignmentPlan
) -> list[list[tuple[int, int]]]:
    """(final load, cases given) of each active investigator, grouped by the set of applications they may take."""
    given = Counter(a.staff_id for a in plan.assignments)
    classes: dict[frozenset[int], list[tuple[int, int]]] = defaultdict(list)
    for i in staff:
        takes = frozenset(a.application_id for a in applications if eligible(i, a))
        if takes:
            classes[takes].append((i.load + given[i.staff_id], given[i.staff_id]))
    return list(classes.values())


@pytest.mark.parametrize("seed", SEEDS)
def test_investigators_eligible_for_the_same_applications_end_within_one_case(seed: int) -> None:
    applications, staff = random_county(seed, equal_loads=True)
    plan = assign(applications, staff, now=NOW)
    for members in final_loads_by_class(applications, staff, plan):
        loads = [load for load, _ in members]
        assert max(loads) - min(loads) <= 1, members


@pytest.mark.parametrize("seed", SEEDS)
def test_from_unequal_loads_nobody_given_a_case_ends_more_than_one_above_their_class(seed: int) -> None:
    applications, staff = random_county(seed, equal_loads=False)
    plan = assign(applications, staff, now=NOW)
    for members in final_loads_by_class(applications, staff, plan):
        lowest = min(load for load, _ in members)
        assert all(load - lowest <= 1 for load, given in members if given), members


def test_a_large_even_queue_is_shared_evenly() -> None:
    staff = [investigator(10 + n, outlet_id=1 + n % 2, scope_paths=("/1/",)) for n in range(10)]
    applications = [application(n, village_path=f"/1/4/{17 + n % 5}/") for n in range(1, 1001)]
    plan = assign(applications, staff, now=NOW)
    assert sorted(Counter(a.staff_id for a in plan.assignments).values()) == [100] * 10


def test_a_reassignment_to_the_investigator_who_has_it_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        check_reassignment(application(1), investigator(7), "休假", current_investigator_id=7)
    assert (caught.value.code, caught.value.field, caught.value.message_en) == (
        CreditErrorCode.ALREADY_WITH_INVESTIGATOR,
        "investigatorId",
        "application 1 is already with this investigator",
    )
    check_reassignment(application(1), investigator(7), "休假", current_investigator_id=8)
