"""The demo county (演示县): Suining County's grid, outlets, staff, households and customers and the bank's
loan book on them, made up but plausible, deterministic for a seed and a day and sized by a scale (1.0 ≈ 400
villages, 50,000 customers, 14,000 approved applications and 17,000 drawdowns over three years).

Everything is planned in memory first, ids included, so that materialized paths, grid scopes and foreign
keys are known before a row is written; then it is written in one transaction, one bulk insert per table.
The tables must be empty: the ids start at 1, and demo people must never mix with real ones. After that, the
work in progress today (demo.pipeline) goes through the platform's own use cases, each step by the person whose
post it is: that part is stamped with the clock, as any use case's work is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
from faker import Faker
from tortoise.transactions import in_transaction

from demo.county import GridPlan, OutletPlan, plan_grid, plan_outlets
from demo.credit import Book, BookCounts, plan_book
from demo.errors import DemoDataError
from demo.households import Columns, plan_customers, plan_households
from demo.pipeline import run_pipeline
from demo.staff import DEMO_PASSWORD, DemoLogin, Staffing, plan_staff
from demo.village_credit import run_village_credit
from demo.writer import Links, Objects, Progress, Rows, Write, refuse_unless_empty, tables_of, write_all
from domain.access import Role
from geo.demo_grid import COUNTY_NAME, build_demo_grid, read_county_outline
from models import Customer, GridNode, Household, Outlet, Staff
from resolvers.platform.db import connection

VILLAGES_PER_SCALE = 400
CUSTOMERS_PER_SCALE = 50_000


@dataclass(frozen=True)
class DemoCounts:
    townships: int
    villages: int
    groups: int
    outlets: int
    staff: int
    households: int
    customers: int


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    scale: float
    password: str
    logins: tuple[DemoLogin, ...]
    counts: DemoCounts
    book: BookCounts
    pipeline: dict[str, int]  # the live applications, by the stage they were left at
    today: date
    village: dict[str, int] = field(default_factory=dict)  # the demo village's campaign: households by state

    def describe(self) -> str:
        """One paragraph for the person who just generated the county, in Chinese and English."""
        c = self.counts
        president, manager = (
            next(login for login in self.logins if login.role == role)
            for role in (Role.BRANCH_PRESIDENT, Role.CUSTOMER_MANAGER)
        )
        return (
            f"演示县{COUNTY_NAME}(种子 {self.seed},规模 {self.scale:g}):"
            f"{c.townships} 个乡镇、{c.villages:,} 个村、{c.groups:,} 个村民小组,{c.outlets} 个网点,"
            f"{c.staff} 名员工,{c.households:,} 户 {c.customers:,} 名客户。"
            f"Demo county of {c.townships} townships, {c.villages:,} villages, {c.groups:,} village "
            f"groups, {c.outlets} outlets, {c.staff} staff, {c.households:,} households and "
            f"{c.customers:,} customers. {self._describe_book()} "
            f"Every demo user signs in with the password {self.password}; compare {president.username} "
            f"(branch president of {president.scope}) with {manager.username} (one of its customer managers)."
        )

    def _describe_book(self) -> str:
        b = self.book
        approved = b.applications.get("APPROVED", 0)
        npl_households = b.npl_households / b.borrowing_households if b.borrowing_households else 0.0
        npl_balance = float(b.npl_balance / b.balance) if b.balance else 0.0
        live = sum(self.pipeline.values())
        return (
            f"近三年台账:授信申请 {sum(b.applications.values()):,} 笔(批准 {approved:,} 笔),用信放款 "
            f"{b.drawdowns:,} 笔,贷款余额 {b.balance / 10**8:.2f} 亿元,不良户数占比 {npl_households:.2%}、"
            f"不良余额占比 {npl_balance:.2%};在途业务 {live} 笔。"
            f"The book of three years: {sum(b.applications.values()):,} applications ({approved:,} approved), "
            f"{b.drawdowns:,} drawdowns disbursed, ¥{b.balance / 10**6:,.0f} million outstanding, "
            f"non-performing {npl_households:.2%} of borrowing households and {npl_balance:.2%} of the balance; "
            f"{live} applications in progress." + self._describe_village()
        )

    def _describe_village(self) -> str:
        v = self.village
        if not v:
            return ""
        return (
            f" 整村授信:演示村调查 {v.get('surveyed', 0)} 户,签约 {v.get('SIGNED', 0)} 户并已首笔用信,活动已验收。"
            f"Whole-village credit: {v.get('surveyed', 0)} households surveyed in the demo village, "
            f"{v.get('SIGNED', 0)} signed with first loans drawn, the campaign accepted."
        )


@dataclass(frozen=True)
class CountyPlan:
    """Every row of the county. A table that joins it (the credit lines and loans of the customers, say) is
    one more field here, planned in plan_county after what it refers to, and one more entry in writes."""

    grid: GridPlan
    outlets: OutletPlan
    staffing: Staffing
    households: Columns
    customers: Columns
    book: Book

    @property
    def writes(self) -> list[Write]:
        """What the writer inserts, parents before children."""
        return [
            Objects(GridNode, self.grid.nodes),
            Objects(Outlet, self.outlets.outlets),
            Links(Outlet, "covers", self.outlets.coverage),
            Objects(Staff, self.staffing.staff),
            Links(Staff, "scope", self.staffing.scope),
            Rows(Household, self.households),
            Rows(Customer, self.customers),
            *self.book.writes,
        ]

    @property
    def counts(self) -> DemoCounts:
        return DemoCounts(
            townships=len(self.grid.townships),
            villages=len(self.grid.villages),
            groups=len(self.grid.groups),
            outlets=len(self.outlets.outlets),
            staff=len(self.staffing.staff),
            households=len(self.households["id"]),
            customers=len(self.customers["id"]),
        )


async def generate_demo(
    *, seed: int, scale: float = 1.0, progress: Progress = print, today: date | None = None, live: bool = True
) -> DemoSummary:
    """Write the demo county into an empty, migrated database and say how to sign in to it.

    Refuses (DemoDataError) when any of the tables it fills holds rows, which it finds out once the county is
    planned. The same seed, scale and day (`today`, by default the clock's) give the same rows, ids included;
    everything is written in one transaction, so a failure leaves nothing behind. Then, unless `live` is off,
    the work in progress goes through the use cases (demo.pipeline): rows after the county's, stamped with the
    clock, each use case its own transaction."""
    if scale <= 0:
        raise DemoDataError(f"规模必须为正数 / the scale must be positive, not {scale}")
    today = today or datetime.now(UTC).date()
    plan = plan_county(seed, scale, progress, today)
    writes = plan.writes
    async with in_transaction() as conn:
        await refuse_unless_empty(conn, tables_of(writes))
        await write_all(conn, writes, progress)
    # the planner's statistics, as after any bulk load: without them PostgreSQL (whose autovacuum may be off,
    # or not yet round) plans the grid pages for empty tables
    await connection().execute_script("ANALYZE")
    progress("演示数据已写入 / the demo county is written")
    # the whole-village campaigns first: their screening runs the queued work in this process, which must not
    # assign the application the pipeline leaves waiting for assignment
    manager = next(login.username for login in plan.staffing.logins if login.role == Role.CUSTOMER_MANAGER)
    village = await run_village_credit(manager, seed, progress) if live else {}
    pipeline = await run_pipeline(plan, scale, seed, today, progress) if live else {}
    return DemoSummary(
        seed=seed, scale=scale, password=DEMO_PASSWORD, logins=plan.staffing.logins, counts=plan.counts,
        book=plan.book.counts(np.array(plan.customers["household_id"])), pipeline=pipeline, today=today,
        village=village,
    )  # fmt: skip


def plan_county(seed: int, scale: float, progress: Progress, today: date) -> CountyPlan:
    """The county for a seed, scale and day. One random generator and one Faker, both seeded, are drawn from in
    a fixed order — grid, outlets, staff, households, customers, the book — which is what makes the rows
    repeat."""
    rng = np.random.default_rng(seed)
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    villages = max(round(VILLAGES_PER_SCALE * scale), 1)
    customers = max(round(CUSTOMERS_PER_SCALE * scale), 1)
    progress(f"绘制乡镇与村的网格 / drawing townships and about {villages} villages")
    grid = plan_grid(build_demo_grid(read_county_outline(), seed=seed, village_count=villages), rng)
    outlets = plan_outlets(grid, rng)
    progress("安排网点与员工 / staffing the outlets")
    staffing = plan_staff(grid, outlets.outlets, faker, rng)
    progress(f"生成 {customers:,} 名客户 / making up {customers:,} customers")
    households = plan_households(grid, customers, rng)
    people = plan_customers(households, grid, staffing.village_manager, faker, rng)
    progress("编制三年信贷台账 / planning three years of the loan book")
    book = plan_book(grid, staffing, people, today, rng, progress)
    return CountyPlan(
        grid=grid,
        outlets=outlets,
        staffing=staffing,
        households=households.columns,
        customers={**people, **book.projection},
        book=book,
    )
