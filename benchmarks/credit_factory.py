"""The credit factory end to end, on PostgreSQL with the workers running: applications driven from intake to
disbursement through the GraphQL API, each step by its own role, against the same steps called on the use
cases directly (the API's cost); the assignment of every waiting application by the job; the decision chain per
application; and e-contract PDFs per second.

The run, on a database of its own (created on the PostgreSQL server given, dropped afterwards):
  1. a county of 20 townships and 200 villages, 20 customer managers, N customers with their credit-bureau
     summaries, 500 credit investigators (every product, the whole county), approvers, branch presidents and
     two back-office staff;
  2. intake of N applications through GraphQL while no worker runs, so that all N wait for assignment; then a
     worker (`palmcredit worker` on Redis) is started and the run assigns them: its time from start to finish,
     and the balance (no eligible investigator more than one case above another);
  3. for each application, in order: the investigation report, the approval at each tier, the drawdown request
     (pricing, the schedule and the contract PDF), the signature, the back office's check, the disbursement by a
     second back-office person — every one a GraphQL mutation with that person's token, timed;
  4. the same steps for a sample of further applications calling the use cases directly;
  5. the five-decision chain per application (as benchmarks/decision_chain.py) and contract PDFs per second
     (as benchmarks/credit/contract_pdfs.py), in this process.

Targets: assignment of 10,000 waiting applications across 500 investigators under 1 s; the chain ≥ 20,000/s per
core with p99 under 1 ms; ≥ 20 contract PDFs/s. Ends with one JSON line.

    python benchmarks/credit_factory.py                       # 10,000 applications
    python benchmarks/credit_factory.py --small               # 100 applications, 50 investigators
    python benchmarks/credit_factory.py --applications 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REDIS_URL = os.environ.get("PALMCREDIT_BENCH_REDIS", "redis://127.0.0.1:6379/14")
os.environ["REDIS_URL"] = REDIS_URL  # the service's settings are read at import: the outbox relays to arq

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from tortoise import Tortoise  # noqa: E402
from tortoise.functions import Count  # noqa: E402

from app import create_app  # noqa: E402
from domain.credit.enums import GuaranteeType, RepaymentMethod  # noqa: E402
from domain.credit.investigation import HouseholdRating, IncomeSource, InvestigationReport  # noqa: E402
from domain.customers.idcard import make_id_number  # noqa: E402
from models import (  # noqa: E402
    CreditApplication,
    CreditLine,
    CreditReport,
    Customer,
    GridLevel,
    GridNode,
    Job,
    Staff,
)
from resolvers.credit import approval, drawdowns, intake, investigation  # noqa: E402
from resolvers.platform import auth  # noqa: E402
from resolvers.platform.migrate import run_migrations  # noqa: E402
from settings import SETTINGS, tortoise_config  # noqa: E402
from workers.settings import start_background  # noqa: E402

CSRF = {"X-Palmcredit-Request": "1"}
PRODUCT = "puhui"
TOWNSHIPS, VILLAGES_PER_TOWNSHIP, MANAGERS = 20, 10, 20


def gid(type_name: str, pk: int) -> str:
    from strawberry.relay import to_base64

    return to_base64(type_name, pk)


def pk_of(global_id: str) -> int:
    from strawberry.relay import GlobalID

    return int(GlobalID.from_id(global_id).node_id)


# --- the database and the county ---------------------------------------------------------------------------


async def create_database(admin_url: str) -> tuple[str, str]:
    name = f"palmcredit_bench_cf_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, f"{admin_url.rsplit('/', 1)[0]}/{name}"


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def build_county(customers: int, investigators: int) -> dict[str, Any]:
    """The county, its staff and `customers` customers with clean bureau summaries, by bulk insert."""
    county = await GridNode.create(name="睢宁县", level=GridLevel.COUNTY, code="320324", path="/", depth=0)
    county.path = f"/{county.id}/"
    await county.save(update_fields=["path"])
    villages, townships = [], []
    for t in range(TOWNSHIPS):
        township = await GridNode.create(
            name=f"镇{t:02d}", level=GridLevel.TOWNSHIP, code=f"320324{t:03d}", parent=county, path="/", depth=1
        )
        township.path = f"{county.path}{township.id}/"
        await township.save(update_fields=["path"])
        townships.append(township)
        for v in range(VILLAGES_PER_TOWNSHIP):
            village = await GridNode.create(
                name=f"村{t:02d}{v:02d}",
                level=GridLevel.VILLAGE,
                code=f"320324{t:03d}{v:03d}",
                parent=township,
                path="/",
                depth=2,
            )
            village.path = f"{township.path}{village.id}/"
            await village.save(update_fields=["path"])
            villages.append(village)
    password = auth.hash_password("bench-password-2026")

    async def hire(username: str, role: str, scope: list[GridNode], **extra: Any) -> Staff:
        staff = await Staff.create(
            username=username, display_name=username, roles=[role], password_hash=password, **extra
        )
        if scope:
            await staff.scope.add(*scope)
        return staff

    per_manager = len(villages) // MANAGERS
    managers = [
        await hire(f"manager{m:02d}", "CUSTOMER_MANAGER", villages[m * per_manager : (m + 1) * per_manager])
        for m in range(MANAGERS)
    ]
    presidents = [
        await hire(f"president{t:02d}", "BRANCH_PRESIDENT", [township]) for t, township in enumerate(townships)
    ]
    skills = ["puhui", "cheyi", "liushui", "shimin", "lianbao", "dianshang", "fangdi"]
    pool = [
        await hire(f"investigator{i:03d}", "CREDIT_INVESTIGATOR", [county], product_skills=skills)
        for i in range(investigators)
    ]
    approvers = [await hire(f"approver{a}", "APPROVER", [county]) for a in range(5)]
    back_office = [await hire(f"backoffice{b}", "BACK_OFFICE", [county]) for b in range(2)]
    head = await hire("head", "HEAD_OFFICE", [])
    rows = []
    for n in range(customers):
        village = villages[n % len(villages)]
        birth = date(1970 + n % 30, 1 + n % 12, 1 + n % 28)
        number = make_id_number("320324", birth, n % 999)
        rows.append(
            Customer(
                id=n + 1,
                id_number=number,
                name=f"客户{n:05d}",
                birth_date=birth,
                sex="MALE" if n % 2 else "FEMALE",
                phone=f"138{n:08d}",
                address=f"{village.name}{n}号",
                village_id=village.id,
                manager_id=managers[(n % len(villages)) // per_manager].id,
                source="SURVEY",
                deposit_balance=Decimal(20000 + n % 50 * 1000),
            )
        )
    await Customer.bulk_create(rows, batch_size=2000)
    today = datetime.now(UTC).date()
    await CreditReport.bulk_create(
        [
            CreditReport(customer_id=c.id, reported_on=today, credit_history_years=6, total_debt=Decimal(10000))
            for c in rows
        ],
        batch_size=2000,
    )
    await Tortoise.get_connection("default").execute_script("ANALYZE")
    staff = {s.id: s for s in await Staff.all().prefetch_related("scope")}
    return {
        "customers": [(c.id, c.manager_id, c.name, c.id_number) for c in rows],
        "tokens": {sid: token_for(s) for sid, s in staff.items()},
        "actors": {sid: auth.actor_for(s) for sid, s in staff.items()},
        "presidents": {p.scope_paths[0]: p.staff_id for p in (auth.actor_for(staff[x.id]) for x in presidents)},
        "approvers": [a.id for a in approvers],
        "back_office": [b.id for b in back_office],
        "head": head.id,
        "investigators": [i.id for i in pool],
    }


def token_for(staff: Staff) -> str:
    """A token as signing in would issue it (without the password check: the staff are the benchmark's own)."""
    return auth._issue(staff, datetime.now(UTC)).token


# --- the steps ----------------------------------------------------------------------------------------------

INTAKE = """mutation($i: SubmitCreditApplicationInput!) { submitCreditApplication(input: $i) {
  __typename ... on CreditApplication { id state } ... on CreditError { code message } } }"""
INVESTIGATE = """mutation($i: SubmitInvestigationInput!) { submitInvestigation(input: $i) {
  __typename ... on CreditApplication { id state waitingTier { authority } } ... on CreditError { code message } } }"""
DECIDE = """mutation($i: DecideCreditApplicationInput!) { decideCreditApplication(input: $i) {
  __typename ... on CreditApplication { id state waitingTier { authority } line { id } }
  ... on CreditError { code message } } }"""
DRAW = """mutation($i: RequestDrawdownInput!) { requestDrawdown(input: $i) {
  __typename ... on Drawdown { id state contractSha256 } ... on CreditError { code message } } }"""
SIGN = """mutation($i: SignContractInput!) { signContract(input: $i) {
  __typename ... on Drawdown { id state } ... on CreditError { code message } } }"""
CHECK = """mutation($id: ID!) { checkDrawdown(drawdownId: $id, approve: true) {
  __typename ... on Drawdown { id state } ... on CreditError { code message } } }"""
DISBURSE = """mutation($id: ID!) { disburseDrawdown(drawdownId: $id) {
  __typename ... on Drawdown { id state } ... on CreditError { code message } } }"""


def amount_for(n: int) -> int:
    """Most within the approver's tier; every fifth also passes the branch president (¥100,001–300,000)."""
    return 150_000 if n % 5 == 0 else 30_000 + (n % 7) * 10_000


def report_values(now: datetime) -> dict[str, Any]:
    return {
        "visitedAt": now.isoformat(),
        "visitLon": 117.94,
        "visitLat": 33.91,
        "incomeSource": "SALARIED",
        "incomeYears": 6,
        "verifiedAnnualIncome": "200000",
        "totalAssets": "900000",
        "totalDebts": "10000",
        "householdRating": "GOOD",
        "inCreditVillage": False,
    }


def signature_values(drawdown: dict[str, Any], name: str, number: str, now: datetime) -> dict[str, Any]:
    return {
        "drawdownId": drawdown["id"],
        "contractSha256": drawdown["contractSha256"],
        "signerName": name,
        "signerIdNumber": number,
        "method": "FACE_RECOGNITION",
        "recording": {
            "sha256": "a" * 64,
            "durationSeconds": 240,
            "recordedAt": (now - timedelta(minutes=2)).isoformat(),
        },
    }


class Timings:
    def __init__(self) -> None:
        self.by_step: dict[str, list[float]] = {}

    async def time(self, step: str, call: Awaitable[Any]) -> Any:
        t0 = time.perf_counter()
        result = await call
        self.by_step.setdefault(step, []).append(time.perf_counter() - t0)
        return result

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for step, xs in self.by_step.items():
            q = statistics.quantiles(xs, n=100) if len(xs) > 1 else [xs[0]] * 99
            out[step] = {
                "n": len(xs),
                "p50_ms": round(q[49] * 1000, 2),
                "p99_ms": round(q[98] * 1000, 2),
                "total_s": round(sum(xs), 2),
            }
        return out


async def graphql_path(
    http: httpx.AsyncClient, world: dict[str, Any], applications: list[dict[str, Any]], timings: Timings
) -> None:
    """Every application after assignment, step by step through the API, each by its role."""
    tokens = world["tokens"]

    async def call(step: str, staff_id: int, query: str, variables: dict[str, Any], field: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {tokens[staff_id]}", **CSRF}
        response = await timings.time(
            step, http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        )
        body = response.json()
        result = body.get("data", {}).get(field) if body.get("data") else None
        if result is None or result.get("__typename") == "CreditError":
            raise RuntimeError(f"{step}: {body}")
        return result  # type: ignore[no-any-return]

    for a in applications:
        now = datetime.now(UTC)
        row = await CreditApplication.get(id=pk_of(a["id"]))
        result = await call(
            "investigate",
            row.investigator_id,
            INVESTIGATE,  # type: ignore[attr-defined]
            {"i": {"applicationId": a["id"], **report_values(now)}},
            "submitInvestigation",
        )
        deciders = iter(world["approvers"])
        while result["state"] == "AWAITING_APPROVAL":
            authority = result["waitingTier"]["authority"]
            decider = (
                next(deciders)
                if authority == "APPROVER"
                else (
                    world["presidents"][await _township_path(row)] if authority == "BRANCH_PRESIDENT" else world["head"]
                )
            )
            result = await call(
                "approve",
                decider,
                DECIDE,
                {"i": {"applicationId": a["id"], "verdict": "APPROVE"}},
                "decideCreditApplication",
            )
        line = result["line"]["id"]
        marketer = row.marketer_id  # type: ignore[attr-defined]
        drawdown = await call(
            "request_drawdown",
            marketer,
            DRAW,
            {
                "i": {
                    "clientId": f"bench-draw-{pk_of(a['id']):06d}",
                    "lineId": line,
                    "amount": str(a["amount"] // 2),
                    "termMonths": 12,
                    "repaymentMethod": "EQUAL_INSTALMENTS",
                }
            },
            "requestDrawdown",
        )
        await call(
            "sign", marketer, SIGN, {"i": signature_values(drawdown, a["name"], a["id_number"], now)}, "signContract"
        )
        await call("check", world["back_office"][0], CHECK, {"id": drawdown["id"]}, "checkDrawdown")
        await call("disburse", world["back_office"][1], DISBURSE, {"id": drawdown["id"]}, "disburseDrawdown")


async def _township_path(application: CreditApplication) -> str:
    village = await GridNode.get(id=application.village_id)  # type: ignore[attr-defined]
    return village.path.rsplit("/", 2)[0] + "/"


async def direct_path(world: dict[str, Any], applications: list[dict[str, Any]], timings: Timings) -> None:
    """The same steps on the use cases, with the same people."""
    actors = world["actors"]
    for a in applications:
        now = datetime.now(UTC)
        row = await CreditApplication.get(id=a["pk"])
        report = InvestigationReport(
            visited_at=now,
            visit_lon=117.94,
            visit_lat=33.91,
            income_source=IncomeSource.SALARIED,
            income_years=6,
            verified_annual_income=Decimal(200000),
            total_assets=Decimal(900000),
            total_debts=Decimal(10000),
            household_rating=HouseholdRating.GOOD,
            in_credit_village=False,
        )
        await timings.time(
            "investigate", investigation.submit_investigation(actors[row.investigator_id], row.id, report)
        )  # type: ignore[attr-defined]
        deciders = iter(world["approvers"])
        row = await CreditApplication.get(id=a["pk"])
        while row.state == "AWAITING_APPROVAL":
            authority = row.tier_authority
            decider = (
                next(deciders)
                if authority == "APPROVER"
                else (
                    world["presidents"][await _township_path(row)] if authority == "BRANCH_PRESIDENT" else world["head"]
                )
            )
            row = await timings.time("approve", approval.decide(actors[decider], row.id, approval.Verdict.APPROVE))
        line = await CreditLine.get(application_id=row.id)
        marketer = actors[row.marketer_id]  # type: ignore[attr-defined]
        draft = drawdowns.DrawdownDraft(
            client_id=f"direct-{row.id}-abc",
            line_id=line.id,
            amount=Decimal(a["amount"] // 2),
            term_months=12,
            repayment_method=RepaymentMethod.EQUAL_INSTALMENTS,
        )
        drawdown = await timings.time("request_drawdown", drawdowns.request_drawdown(marketer, draft))
        signature = drawdowns.Signature(
            contract_sha256=drawdown.contract_sha256,
            signer_name=a["name"],
            signer_id_number=a["id_number"],
            method=drawdowns.SigningMethod.FACE_RECOGNITION,
            recording=drawdowns.Recording("a" * 64, 240, now - timedelta(minutes=2)),
        )
        await timings.time("sign", drawdowns.sign(marketer, drawdown.id, signature))
        await timings.time("check", drawdowns.check(actors[world["back_office"][0]], drawdown.id, True))
        await timings.time("disburse", drawdowns.disburse(actors[world["back_office"][1]], drawdown.id))


# --- the worker ---------------------------------------------------------------------------------------------


def start_worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL}
    return subprocess.Popen(  # noqa: S603 — our own command line
        [str(Path(sys.executable).parent / "palmcredit"), "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("PALMCREDIT_BENCH_WORKER_LOG", os.devnull), "wb"),
        start_new_session=True,
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)


async def wait_for(condition: Callable[[], Awaitable[bool]], limit_s: float, what: str) -> float:
    started = time.perf_counter()
    while not await condition():
        if time.perf_counter() - started > limit_s:
            raise RuntimeError(f"{what} did not happen within {limit_s:.0f} s")
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def flush_redis() -> None:
    from redis.asyncio import Redis

    client: Any = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


# --- the run ------------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    n, sample, investigators = args.applications, args.direct, args.investigators
    name, url = await create_database(args.database_url)
    worker = None
    try:
        await run_migrations(url)
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        await flush_redis()
        t0 = time.perf_counter()
        world = await build_county(n + sample, investigators)
        print(
            f"county of {len(world['customers']):,} customers and {investigators} investigators "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        background = await start_background(SETTINGS)  # relays the outbox to arq, as the service does
        app = create_app(SETTINGS, manage_orm=False)
        figures: dict[str, Any] = {"benchmark": "credit_factory", "applications": n, "investigators": investigators}
        graphql_timings, direct_timings = Timings(), Timings()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
            apps_in: list[dict[str, Any]] = []
            started = time.perf_counter()
            for number, (customer_id, manager_id, customer_name, id_number) in enumerate(world["customers"][:n]):
                values = {
                    "clientId": f"bench-intake-{customer_id:06d}",
                    "customerId": gid("Customer", customer_id),
                    "productCode": PRODUCT,
                    "amount": str(amount_for(number)),
                    "termMonths": 24,
                    "repaymentMethod": "EQUAL_INSTALMENTS",
                    "guaranteeType": "CREDIT",
                }
                headers = {"Authorization": f"Bearer {world['tokens'][manager_id]}", **CSRF}
                response = await graphql_timings.time(
                    "intake", http.post("/graphql", json={"query": INTAKE, "variables": {"i": values}}, headers=headers)
                )
                taken = response.json()["data"]["submitCreditApplication"]
                if taken.get("state") != "AWAITING_ASSIGNMENT":
                    raise RuntimeError(f"intake: {taken}")
                apps_in.append(
                    {"id": taken["id"], "amount": amount_for(number), "name": customer_name, "id_number": id_number}
                )
            intake_s = time.perf_counter() - started
            print(f"intake: {n:,} applications through GraphQL in {intake_s:.1f} s, all waiting for assignment")

            async def all_assigned() -> bool:
                return not await CreditApplication.filter(state="AWAITING_ASSIGNMENT").exists()

            worker = start_worker(url)
            wall = await wait_for(all_assigned, 600, "the assignment")

            async def runs_finished() -> bool:
                return not await Job.filter(kind="credit_assignment", status__in=["PENDING", "RUNNING"]).exists()

            await wait_for(runs_finished, 120, "the assignment run's finish")
            done = await Job.filter(kind="credit_assignment", status="SUCCEEDED").all()
            job = max(done, key=lambda j: int((j.result or {}).get("assigned", 0)))
            run_s = round((job.finished_at - job.started_at).total_seconds(), 3)  # type: ignore[operator]
            print(f"assignment runs: {len(done)}, the largest assigned {job.result.get('assigned')}")
            loads = list(
                await CreditApplication.filter(state="INVESTIGATING")
                .annotate(c=Count("id"))
                .group_by("investigator_id")
                .values_list("c", flat=True)
            )
            spread = (max(loads) - min(loads)) if len(loads) == investigators else max(loads)
            print(
                f"assignment: {n:,} waiting applications across {investigators} investigators: the run took "
                f"{run_s:.2f} s (target < 1 s), all assigned {wall:.1f} s after the worker started; "
                f"cases per investigator {min(loads)}–{max(loads)} (spread {spread}, target <= 1)"
            )
            figures.update(
                {
                    "intake_s": round(intake_s, 2),
                    "assignment_run_s": run_s,
                    "assignment_wall_s": round(wall, 2),
                    "assignment_spread": spread,
                }
            )

            if args.assignment_only:
                await background.stop()
                return figures
            started = time.perf_counter()
            await graphql_path(http, world, apps_in, graphql_timings)
            path_s = time.perf_counter() - started + intake_s
            print(
                f"graphql: {n:,} applications from intake to disbursement in {path_s:.1f} s of steps "
                f"({n / path_s:.1f} applications/s, without the assignment's wait)"
            )

            direct_customers = world["customers"][n : n + sample]
            direct_apps = []
            for number, (customer_id, manager_id, customer_name, id_number) in enumerate(direct_customers):
                draft = intake.ApplicationDraft(
                    client_id=f"direct-intake-{customer_id:06d}",
                    customer_id=customer_id,
                    product_code=PRODUCT,
                    amount=Decimal(amount_for(number)),
                    term_months=24,
                    repayment_method=RepaymentMethod.EQUAL_INSTALMENTS,
                    guarantee_type=GuaranteeType.CREDIT,
                )
                taken = await direct_timings.time(
                    "intake", intake.submit_application(world["actors"][manager_id], draft)
                )
                direct_apps.append(
                    {
                        "pk": taken.application.id,
                        "amount": amount_for(number),
                        "name": customer_name,
                        "id_number": id_number,
                    }
                )
            await wait_for(all_assigned, 600, "the assignment of the direct sample")
            started = time.perf_counter()
            await direct_path(world, direct_apps, direct_timings)
        await background.stop()
        figures.update(report(graphql_timings, direct_timings, n, sample, path_s))
        return figures
    finally:
        if worker is not None:
            stop_worker(worker)
        await Tortoise.close_connections()
        await drop_database(args.database_url, name)


def report(graphql: Timings, direct: Timings, n: int, sample: int, path_s: float) -> dict[str, Any]:
    ours, base = graphql.summary(), direct.summary()
    print(f"\n{'step':<18} {'graphql p50':>12} {'p99':>9} {'direct p50':>11} {'p99':>9} {'ratio':>7}")
    figures: dict[str, Any] = {"applications_per_s": round(n / path_s, 2)}
    for step, g in ours.items():
        d = base.get(step)
        ratio = round(d["p50_ms"] / g["p50_ms"], 3) if d else None
        print(
            f"{step:<18} {g['p50_ms']:>10.2f}ms {g['p99_ms']:>7.2f}ms "
            f"{(d or {}).get('p50_ms', 0):>9.2f}ms {(d or {}).get('p99_ms', 0):>7.2f}ms {ratio or 0:>7.2f}"
        )
        figures[f"{step}_p50_ms"], figures[f"{step}_p99_ms"] = g["p50_ms"], g["p99_ms"]
        if d:
            figures[f"{step}_direct_p50_ms"], figures[f"{step}_ratio"] = d["p50_ms"], ratio
    graphql_per_app = sum(s["total_s"] for s in ours.values()) / n
    direct_per_app = sum(s["total_s"] for s in base.values()) / sample if sample else None
    if direct_per_app:
        figures["api_cost_ratio"] = round(direct_per_app / graphql_per_app, 3)
        print(
            f"per application: graphql {graphql_per_app * 1000:.1f} ms, direct {direct_per_app * 1000:.1f} ms, "
            f"ratio direct ÷ graphql {figures['api_cost_ratio']:.2f}"
        )
    return figures


def in_process_figures(small: bool) -> dict[str, Any]:
    from benchmarks.credit.contract_pdfs import measure as measure_pdfs
    from benchmarks.decision_chain import make_applications, timed
    from domain.credit.decision_chain import chain
    from domain.credit.decisions import DecisionBook

    book = DecisionBook.from_directory()
    applications = make_applications(1_000, 20261202)
    chains = timed(2_000 if small else 50_000, applications, lambda a: chain(book, a))
    pdfs = measure_pdfs(20 if small else 200)
    print(
        f"decision chain: {chains['chains_per_s']:,.0f} chains/s, p99 {chains['p99_ms']:.3f} ms (targets >= 20,000/s, "
        f"< 1 ms); contract PDFs: {pdfs['contracts_per_s']:.1f}/s (target >= 20/s)"
    )
    return {
        "chains_per_s": round(chains["chains_per_s"], 1),
        "chain_p99_ms": round(chains["p99_ms"], 3),
        "contract_pdfs_per_s": pdfs["contracts_per_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="100 applications, 50 investigators")
    parser.add_argument("--applications", type=int, default=None, help="applications through GraphQL (10,000)")
    parser.add_argument("--direct", type=int, default=None, help="applications on the use cases (a tenth)")
    parser.add_argument("--assignment-only", action="store_true", help="stop after intake and the assignment")
    parser.add_argument("--investigators", type=int, default=None, help="credit investigators (500)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PALMCREDIT_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server to create the benchmark's database on (as an administrator)",
    )
    args = parser.parse_args()
    args.applications = args.applications or (100 if args.small else 10_000)
    args.direct = args.direct if args.direct is not None else max(10, args.applications // 10)
    args.investigators = args.investigators or (50 if args.small else 500)
    figures = asyncio.run(run(args))
    if not args.assignment_only:
        figures.update(in_process_figures(args.small))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
