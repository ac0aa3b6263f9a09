"""The demo county (演示县): Suining County's grid, outlets, staff, households and customers, made up but
plausible, deterministic for a seed and sized by a scale (1.0 ≈ 400 villages and 50,000 customers).

Everything is planned in memory first, ids included, so that materialized paths, grid scopes and foreign
keys are known before a row is written; then it is written in one transaction, one bulk insert per table.
The tables must be empty: the ids start at 1, and demo people must never mix with real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faker import Faker
from tortoise.transactions import in_transaction

from demo.county import GridPlan, OutletPlan, plan_grid, plan_outlets
from demo.errors import DemoDataError
from demo.households import Columns, plan_customers, plan_households
from demo.staff import DEMO_PASSWORD, DemoLogin, Staffing, plan_staff
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
            f"{c.customers:,} customers. "
            f"Every demo user signs in with the password {self.password}; compare {president.username} "
            f"(branch president of {president.scope}) with {manager.username} (one of its customer managers)."
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


async def generate_demo(*, seed: int, scale: float = 1.0, progress: Progress = print) -> DemoSummary:
    """Write the demo county into an empty, migrated database and say how to sign in to it.

    Refuses (DemoDataError) when any of the tables it fills holds rows, which it finds out once the county is
    planned. The same seed and scale give the same rows, ids included; everything is written in one
    transaction, so a failure leaves nothing behind."""
    if scale <= 0:
        raise DemoDataError(f"规模必须为正数 / the scale must be positive, not {scale}")
    plan = plan_county(seed, scale, progress)
    writes = plan.writes
    async with in_transaction() as conn:
        await refuse_unless_empty(conn, tables_of(writes))
        await write_all(conn, writes, progress)
    # the planner's statistics, as after any bulk load: without them PostgreSQL (whose autovacuum may be off,
    # or not yet round) plans the grid pages for empty tables
    await connection().execute_script("ANALYZE")
    progress("演示数据已写入 / the demo county is written")
    return DemoSummary(seed=seed, scale=scale, password=DEMO_PASSWORD, logins=plan.staffing.logins, counts=plan.counts)


def plan_county(seed: int, scale: float, progress: Progress) -> CountyPlan:
    """The county for a seed and scale. One random generator and one Faker, both seeded, are drawn from in a
    fixed order — grid, outlets, staff, households, customers — which is what makes the rows repeat."""
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
    return CountyPlan(
        grid=grid,
        outlets=outlets,
        staffing=staffing,
        households=households.columns,
        customers=plan_customers(households, grid, staffing.village_manager, faker, rng),
    )
