"""The work in progress today (在途业务): about 200 applications at scale 1 (never fewer than 20) in every stage
of the credit factory, so that every demo login signs in to real work — refused at admission, waiting for
assignment, under investigation, waiting at each approval tier, rejected, withdrawn, approved with a line, and
drawdowns priced, signed, checked and disbursed.

Unlike the book, this goes through the platform's own use cases (resolvers/credit), each step by the demo staff
member whose post it is, signed in as the platform signs them in (actor_for): the village's customer manager
takes the application and has the contract signed, the assignment job runs in this process as it does without
Redis and gives each application to a skilled investigator, who files the report; the approvers, the branch
president and head office decide their tiers; one back-office person checks and another disburses. The
drawdowns' e-contracts are real PDFs. Everything here is stamped with the clock, as any use case's work is; the
applications waiting for assignment are taken last, and the service's own relay assigns them once it runs.

A third of the applications come from the villages of the demo customer manager login, and those waiting for
the branch president from the township of the demo president login, so that both have work of their own; every
investigator keeps at least one application under investigation, and the demo back-office login has drawdowns
to check and to disburse."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from demo.errors import DemoDataError
from demo.writer import Progress
from domain.access import Actor, Role
from domain.credit.enums import GuaranteeType, RepaymentMethod
from domain.credit.investigation import GuarantorFigures, HouseholdRating, IncomeSource, InvestigationReport
from models import CreditApplication, CreditLine, Customer, Drawdown, Staff
from resolvers.credit import approval, drawdowns, intake, investigation
from resolvers.credit.applications import catalogue
from resolvers.credit.approval import Verdict
from resolvers.platform import outbox
from resolvers.platform.auth import actor_for
from workers.settings import register_kinds
from workers.tasks import by_name

if TYPE_CHECKING:
    from demo.generate import CountyPlan

PER_SCALE = 200
FEWEST = 20
LOGIN_SHARE = 1 / 3  # of the applicants, customers of the demo customer manager login


class Stage(StrEnum):
    """Where an application of the pipeline is left."""

    REFUSED = "refused at admission"
    WAITING = "waiting for assignment"
    INVESTIGATING = "under investigation"
    AT_APPROVER = "waiting at the approver tier"
    AT_BRANCH_PRESIDENT = "waiting at the branch president tier"
    AT_HEAD_OFFICE = "waiting at the head-office tier"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LINE = "approved, its line not drawn yet"
    PRICED = "drawdown priced"
    SIGNED = "drawdown signed"
    CHECKED = "drawdown checked"
    DISBURSED = "drawdown disbursed"


SHARES = {
    Stage.REFUSED: 0.07, Stage.WAITING: 0.06, Stage.INVESTIGATING: 0.15, Stage.AT_APPROVER: 0.12,
    Stage.AT_BRANCH_PRESIDENT: 0.06, Stage.AT_HEAD_OFFICE: 0.03, Stage.REJECTED: 0.03, Stage.WITHDRAWN: 0.03,
    Stage.LINE: 0.1, Stage.PRICED: 0.08, Stage.SIGNED: 0.08, Stage.CHECKED: 0.08, Stage.DISBURSED: 0.11,
}  # fmt: skip
# decided on the application as it is taken; the others share the "ordinary" applications once they are assigned
SPECIAL = (Stage.REFUSED, Stage.WAITING, Stage.AT_BRANCH_PRESIDENT, Stage.AT_HEAD_OFFICE)
# an ordinary application: a product, the guarantee it takes and the tier-0 range of amounts
ORDINARY = (("puhui", GuaranteeType.CREDIT), ("liushui", GuaranteeType.CREDIT), ("shimin", GuaranteeType.CREDIT),
            ("lianbao", GuaranteeType.GUARANTOR))  # fmt: skip
REASONS = {
    Stage.REJECTED: "负债偏高,还款能力不足 / debts too high for the income",
    Stage.WITHDRAWN: "客户资金需求已解决,撤回申请 / the customer no longer needs the money",
}


@dataclass
class Case:
    stage: Stage
    customer_id: int
    product: str
    amount: int
    guarantee: GuaranteeType
    term: int = 12
    collateral: int | None = None
    income: int = 0
    guarantor_id: int | None = None
    application_id: int = 0


def stage_counts(total: int) -> dict[Stage, int]:
    """How many applications stop at each stage: at least one each."""
    return {stage: max(1, round(total * share)) for stage, share in SHARES.items()}


async def run_pipeline(plan: CountyPlan, scale: float, seed: int, today: date, progress: Progress) -> dict[str, int]:
    """Take the pipeline's applications through the use cases; returns how many stopped where. Its own random
    generator (of the seed) chooses who applies for what."""
    register_kinds()
    rng = np.random.default_rng([seed, 2])
    actors = {s.id: actor_for(s) for s in await Staff.all().prefetch_related("scope")}
    counts = stage_counts(max(FEWEST, round(PER_SCALE * scale)))
    cases = _cases(plan, counts, today, rng)
    progress(f"在途业务:受理 {len(cases)} 笔授信申请 / the work in progress: taking {len(cases)} applications")
    for case in (c for c in cases if c.stage != Stage.WAITING):
        await _take(case, actors)
    await run_queued_work()
    await _allot(cases, plan, actors)
    progress("在途业务:调查、审批与用信 / the work in progress: investigation, approval and drawdowns")
    crew = _Crew.of(actors)
    for case in cases:
        await _advance(case, actors, crew, rng)
    for case in (c for c in cases if c.stage == Stage.WAITING):
        await _take(case, actors)
    return {stage.value: sum(1 for c in cases if c.stage == stage) for stage in Stage}


async def run_queued_work() -> None:
    """Relay the outbox and run what it hands over in this process until nothing is left, as the service does
    without Redis: here, the assignment runs intake queued."""
    dispatcher = outbox.InProcessDispatcher(by_name())
    for _ in range(20):
        relayed = await outbox.relay_once(dispatcher)
        await dispatcher.idle()
        if relayed == 0:
            return


def _cases(plan: CountyPlan, counts: dict[Stage, int], today: date, rng: np.random.Generator) -> list[Case]:
    """Who applies for what: customers new to the book with a mobile number, in good standing and owing nobody
    (those refused are on the blacklist or overdue now), a third of them the demo customer manager login's."""
    customers = plan.customers
    reports = plan.book.reports
    login = next(s.id for s in plan.staffing.staff if s.username == _login(plan, Role.CUSTOMER_MANAGER))
    known = set(plan.book.decided.applications.columns["customer_id"]) | set(
        plan.book.decided.guarantees.columns["guarantor_id"]
    )
    born = np.array(customers["birth_date"], dtype="datetime64[D]")
    age = (np.datetime64(today, "D") - born).astype(np.int64) // 365

    def column(name: str) -> np.ndarray:
        return np.array([float(v) for v in reports[name]])

    overdue_now = column("current_overdue_amount") > 0
    blacklisted = np.array(reports["on_blacklist"], dtype=bool)
    clean = (
        (column("overdue_count_24m") == 0) & (column("credit_history_years") >= 2) & (column("loan_queries_3m") <= 3)
        & (column("total_debt") == 0) & ~overdue_now & ~blacklisted
    )  # fmt: skip
    # a mobile number is needed to sign: the e-contract names it
    new = (
        np.array([customer_id not in known for customer_id in customers["id"]])
        & (age >= 28)
        & (age <= 52)
        & (np.array([phone is not None for phone in customers["phone"]]))
    )
    mine = np.array(customers["manager_id"]) == login
    president = next(s for s in plan.staffing.staff if s.username == _login(plan, Role.BRANCH_PRESIDENT))
    township = {node for staff_id, node in plan.staffing.scope if staff_id == president.id}
    villages = [v.id for v in plan.grid.villages if v.parent_id in township]  # type: ignore[attr-defined]
    in_township = np.isin(customers["village_id"], villages)
    refused = blacklisted | overdue_now
    pools = {
        "good": _shuffled(np.flatnonzero(new & clean & ~mine & ~in_township), rng),
        "good_mine": _shuffled(np.flatnonzero(new & clean & mine), rng),
        "good_township": _shuffled(np.flatnonzero(new & clean & ~mine & in_township), rng),
        "refused": _shuffled(np.flatnonzero(refused & (age >= 25) & (age <= 55)), rng),
    }
    feeds = reports["feeds"]
    cases: list[Case] = []
    for stage, count in counts.items():
        for n in range(count):
            mine_first = stage == Stage.AT_BRANCH_PRESIDENT or (n % 3 == 0)
            preference = (
                ("good_mine", "good_township", "good") if mine_first else ("good", "good_township", "good_mine")
            )
            pool = next((pools[name] for name in preference if pools[name]), None)
            if stage == Stage.REFUSED:
                pool = pools["refused"]
            if not pool:
                continue  # a county too small for this many
            c = pool.pop()
            if stage == Stage.REFUSED:
                cases.append(Case(stage, c + 1, "puhui", 50_000, GuaranteeType.CREDIT, income=100_000))
            else:
                cases.append(_case(stage, c, feeds[c], customers, pools, rng))
    order = rng.permutation(len(cases))
    return [cases[i] for i in order.tolist()]


def _case(
    stage: Stage, c: int, feeds: dict[str, int], customers: dict[str, list[object]], pools: dict[str, list[int]],
    rng: np.random.Generator,
) -> Case:  # fmt: skip
    if stage == Stage.AT_HEAD_OFFICE:  # a home mortgage above ¥1m passes three tiers
        return Case(stage, c + 1, "fangdi", 1_200_000, GuaranteeType.MORTGAGE, term=60, collateral=2_000_000,
                    income=500_000)  # fmt: skip
    if stage == Stage.AT_BRANCH_PRESIDENT:  # above the approver's ¥100,000
        amount = int(rng.integers(15, 26)) * 10_000
        return Case(stage, c + 1, "puhui", amount, GuaranteeType.CREDIT, term=24, income=amount)
    suits = [(code, guarantee) for code, guarantee in ORDINARY if _suits(code, feeds)]
    code, guarantee = suits[int(rng.integers(len(suits)))]
    amount = int(rng.integers(3, 6 if code == "lianbao" else 11)) * 10_000
    case = Case(stage, c + 1, code, amount, guarantee, income=amount)
    if guarantee == GuaranteeType.GUARANTOR:
        village, household = customers["village_id"][c], customers["household_id"][c]
        neighbour = next(
            (g for name in ("good", "good_township", "good_mine") for g in reversed(pools[name])
             if customers["village_id"][g] == village and customers["household_id"][g] != household), None,
        )  # fmt: skip
        if neighbour is None:
            return Case(stage, c + 1, "puhui", amount, GuaranteeType.CREDIT, income=amount)
        for pool in pools.values():
            if neighbour in pool:
                pool.remove(neighbour)
        case.guarantor_id = neighbour + 1
    return case


def _suits(code: str, feeds: dict[str, int]) -> bool:
    if code == "liushui":
        return feeds.get("qr_turnover_months", 0) >= 6 and feeds.get("qr_monthly_turnover_avg", 0) >= 5000
    if code == "shimin":
        return feeds.get("social_security_months", 0) >= 12
    return True


def _shuffled(indexes: np.ndarray, rng: np.random.Generator) -> list[int]:
    return [int(i) for i in rng.permutation(indexes)]


def _method(product: str) -> RepaymentMethod:
    return catalogue().current(product, date.today()).repayment_methods[0]


def _login(plan: CountyPlan, role: Role) -> str:
    return next(login.username for login in plan.staffing.logins if login.role == role)


async def _take(case: Case, actors: dict[int, Actor]) -> None:
    """Intake by the customer's own customer manager."""
    customer = await Customer.get(id=case.customer_id)
    marketer = actors[customer.manager_id]  # type: ignore[attr-defined]
    taken = await intake.submit_application(marketer, intake.ApplicationDraft(
        client_id=f"live-{uuid.uuid4()}", customer_id=case.customer_id, product_code=case.product,
        amount=Decimal(case.amount), term_months=case.term, repayment_method=_method(case.product),
        guarantee_type=case.guarantee, purpose="经营周转 / working capital",
        collateral_value=Decimal(case.collateral) if case.collateral else None,
    ))  # fmt: skip
    case.application_id = taken.application.id


async def _allot(cases: list[Case], plan: CountyPlan, actors: dict[int, Actor]) -> None:
    """Share the ordinary stages among the ordinary applications now that they are assigned: first one under
    investigation for each investigator, then the drawdowns to sign for the demo customer manager, then the
    rest in the order taken."""
    ordinary = [c for c in cases if c.stage not in SPECIAL]
    stages = sorted((c.stage for c in ordinary), key=list(Stage).index)
    investigator_of = dict(
        await CreditApplication.filter(id__in=[c.application_id for c in ordinary]).values_list("id", "investigator_id")
    )
    left = list(ordinary)
    chosen: dict[int, Stage] = {}
    for staff_id in sorted(s for s, a in actors.items() if a.has(Role.CREDIT_INVESTIGATOR)):
        theirs = next((c for c in left if investigator_of.get(c.application_id) == staff_id), None)
        if theirs is not None and Stage.INVESTIGATING in stages:
            stages.remove(Stage.INVESTIGATING)
            chosen[id(theirs)] = Stage.INVESTIGATING
            left.remove(theirs)
    login = next(s.id for s in plan.staffing.staff if s.username == _login(plan, Role.CUSTOMER_MANAGER))
    managed = dict(await Customer.filter(id__in=[c.customer_id for c in left]).values_list("id", "manager_id"))
    for stage in (Stage.PRICED, Stage.SIGNED):
        theirs = next((c for c in left if managed.get(c.customer_id) == login), None)
        if theirs is not None and stage in stages:
            stages.remove(stage)
            chosen[id(theirs)] = stage
            left.remove(theirs)
    for case, stage in zip(left, stages, strict=True):
        chosen[id(case)] = stage
    for case in ordinary:
        case.stage = chosen[id(case)]


@dataclass(frozen=True)
class _Crew:
    approvers: list[Actor]
    back_office: list[Actor]
    head_office: Actor
    presidents: list[Actor]

    @classmethod
    def of(cls, actors: dict[int, Actor]) -> _Crew:
        def holding(role: Role) -> list[Actor]:
            return [a for _, a in sorted(actors.items()) if a.has(role)]

        return cls(holding(Role.APPROVER), holding(Role.BACK_OFFICE), holding(Role.HEAD_OFFICE)[0],
                   holding(Role.BRANCH_PRESIDENT))  # fmt: skip

    def deciding(self, authority: str, village_path: str, pick: int) -> Actor:
        if authority == Role.HEAD_OFFICE:
            return self.head_office
        if authority == Role.BRANCH_PRESIDENT:
            return next(p for p in self.presidents if any(village_path.startswith(s) for s in p.scope_paths))
        return self.approvers[pick % len(self.approvers)]


async def _advance(case: Case, actors: dict[int, Actor], crew: _Crew, rng: np.random.Generator) -> None:
    """Take an application from where intake and the assignment left it to its stage."""
    if case.stage in (Stage.REFUSED, Stage.WAITING):
        return
    application = await CreditApplication.get(id=case.application_id).select_related("village")
    marketer = actors[application.marketer_id]  # type: ignore[attr-defined]
    if case.stage == Stage.WITHDRAWN:
        await approval.withdraw(marketer, application.id, REASONS[Stage.WITHDRAWN])
        return
    if application.state == "AWAITING_ASSIGNMENT":
        raise DemoDataError(f"no investigator could take application {application.id} ({application.product_code})")
    investigator: int | None = application.investigator_id  # type: ignore[attr-defined]
    if investigator is not None:
        if case.stage == Stage.INVESTIGATING:
            return
        await investigation.submit_investigation(actors[investigator], application.id, await _report(case))
    pick = int(rng.integers(1000))
    stop_at = {Stage.AT_APPROVER: Role.APPROVER, Stage.AT_BRANCH_PRESIDENT: Role.BRANCH_PRESIDENT,
               Stage.AT_HEAD_OFFICE: Role.HEAD_OFFICE}.get(case.stage)  # fmt: skip
    path = application.village.path  # type: ignore[union-attr]
    while True:
        application = await CreditApplication.get(id=case.application_id)
        if application.state != "AWAITING_APPROVAL" or application.tier_authority == stop_at:
            break
        decider = crew.deciding(str(application.tier_authority), path, pick)
        verdict = Verdict.REJECT if case.stage == Stage.REJECTED else Verdict.APPROVE
        await approval.decide(decider, application.id, verdict, REASONS.get(case.stage, ""))
    if case.stage in (Stage.PRICED, Stage.SIGNED, Stage.CHECKED, Stage.DISBURSED):
        await _draw(case, marketer, crew, pick)


async def _report(case: Case) -> InvestigationReport:
    """The investigator's report of a visit two hours ago: a steady salaried household, and the guarantor's
    figures for a guaranteed loan."""
    customer = await Customer.get(id=case.customer_id)
    guarantor = None
    if case.guarantor_id is not None:
        guarantor = GuarantorFigures(
            customer_id=case.guarantor_id, income_source=IncomeSource.SALARIED, income_years=8,
            verified_annual_income=Decimal(max(case.amount, 80_000)), total_assets=Decimal(1_000_000),
            total_debts=Decimal(0),
        )  # fmt: skip
    return InvestigationReport(
        visited_at=datetime.now(UTC) - timedelta(hours=2), visit_lon=customer.lon or 117.94,
        visit_lat=customer.lat or 33.91, income_source=IncomeSource.SALARIED, income_years=6,
        verified_annual_income=Decimal(case.income), total_assets=Decimal(case.income * 6),
        total_debts=Decimal(0), household_rating=HouseholdRating.EXCELLENT, in_credit_village=True,
        notes="实地走访,经营正常 / visited on site, business as usual", guarantor=guarantor,
    )  # fmt: skip


async def _draw(case: Case, marketer: Actor, crew: _Crew, pick: int) -> None:
    """Request, sign, check and disburse as far as the stage goes: the check by the second or third back-office
    person, so that the first (the demo login) may disburse what they checked; the disbursement by another."""
    line = await CreditLine.get(application_id=case.application_id)
    amount = Decimal(line.amount) * 8 // 10 // 1000 * 1000
    drawdown = await drawdowns.request_drawdown(marketer, drawdowns.DrawdownDraft(
        client_id=f"live-{uuid.uuid4()}", line_id=line.id, amount=amount, term_months=12,
        repayment_method=_method(case.product),
    ))  # fmt: skip
    if case.stage == Stage.PRICED:
        return
    customer = await Customer.get(id=case.customer_id)
    now = datetime.now(UTC)
    recording = drawdowns.Recording(
        sha256=hashlib.sha256(f"双录 {drawdown.contract_number}".encode()).hexdigest(), duration_seconds=300,
        recorded_at=now - timedelta(minutes=3),
    )  # fmt: skip
    await drawdowns.sign(marketer, drawdown.id, drawdowns.Signature(
        contract_sha256=drawdown.contract_sha256, signer_name=customer.name, signer_id_number=customer.id_number,
        method=drawdowns.SigningMethod.FACE_RECOGNITION, recording=recording,
    ))  # fmt: skip
    if case.stage == Stage.SIGNED:
        return
    checker = crew.back_office[1 + pick % (len(crew.back_office) - 1)]
    await drawdowns.check(checker, drawdown.id, True)
    if case.stage == Stage.CHECKED:
        return
    disburser = next(b for b in crew.back_office if b.staff_id != checker.staff_id)
    await drawdowns.disburse(disburser, drawdown.id)


async def live_counts() -> dict[str, int]:
    """The live applications by state and their drawdowns by state."""
    states = Counter(await CreditApplication.filter(client_id__startswith="live-").values_list("state", flat=True))
    drawn = Counter(await Drawdown.filter(client_id__startswith="live-").values_list("state", flat=True))
    return {**{f"application {k}": v for k, v in sorted(states.items())},
            **{f"drawdown {k}": v for k, v in sorted(drawn.items())}}  # fmt: skip
