"""The demo county (演示县): Suining County's grid, outlets, staff, households and customers, made up but
plausible, deterministic for a seed and sized by a scale (1.0 ≈ 400 villages and 50,000 customers).

Everything is planned in memory first, ids included, so that materialized paths, grid scopes and foreign
keys are known before a row is written; then it is written in one transaction, one bulk insert per table.
The tables must be empty: the ids start at 1, and demo people must never mix with real ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import shapely
from faker import Faker
from shapely.geometry import mapping
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields.relational import ManyToManyFieldInstance
from tortoise.models import Model
from tortoise.transactions import in_transaction

from domain.access import Role
from domain.credit.classification import LoanClass
from domain.customers.enums import CustomerSource, Placement, Sex
from domain.customers.idcard import make_id_number
from geo.demo_grid import (
    COUNTY_CODE,
    COUNTY_NAME,
    DECIMALS,
    DemoGrid,
    build_demo_grid,
    read_county_outline,
    sample_points,
    scatter_inside,
)
from models import Customer, GridLevel, GridNode, Household, Outlet, Staff
from resolvers.platform.auth import hash_password
from resolvers.platform.db import dialect, placeholders

DEMO_PASSWORD = "palm-demo-2026"  # noqa: S105 — printed for every demo user on purpose
VILLAGES_PER_SCALE = 400
CUSTOMERS_PER_SCALE = 50_000
BANK_NAME = "睢宁农商银行"
WHOLE_BANK = "全行 / whole bank"

GROUP_NAMES = ("一组", "二组", "三组", "四组")
BRANCH_STREETS = ("人民路", "建设路", "解放路", "中山路", "府前路", "新华街")
CENTRAL_STAFF = (
    (Role.CREDIT_INVESTIGATOR, "investigator", 6),
    (Role.APPROVER, "approver", 3),
    (Role.BACK_OFFICE, "backoffice", 3),
)

HOUSEHOLD_SIZE_SHARES = (0.14, 0.30, 0.24, 0.20, 0.12)  # 1 to 5 members
MALE_HEAD_SHARE = 0.85
CHILD_KEEPS_SURNAME_SHARE = 0.9
MEMBER_SPREAD_DEGREES = 0.0002  # about 20 m between the houses of one household
MOBILE_PREFIXES = (
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182", "183", "187",
    "188", "130", "131", "132", "155", "156", "166", "185", "186", "133", "153", "173", "177", "180", "181",
    "189", "199",
)  # fmt: skip
PHONE_SHARE = 0.90
BORROWER_SHARE = 0.25
PRE_APPROVED_HEAD_SHARE = 0.40  # whole-village credit for households that have not borrowed yet
LOAN_CLASS_SHARES = {
    LoanClass.PASS: 0.93, LoanClass.SPECIAL_MENTION: 0.04, LoanClass.SUBSTANDARD: 0.015,
    LoanClass.DOUBTFUL: 0.01, LoanClass.LOSS: 0.005,
}  # fmt: skip
FLAG_SHARES = {"has_ebanking": 0.55, "has_third_party_payment": 0.45, "has_social_security_card": 0.80}
TAG_SHARES = {"种植户": 0.35, "养殖户": 0.12, "个体工商户": 0.08, "务工": 0.25, "新市民": 0.05, "电商": 0.04}
CORE_BANKING_SHARE = 0.5  # of customers without a loan; borrowers are all in the core-banking file

Progress = Callable[[str], object]
Ints = npt.NDArray[np.int64]
Geometries = npt.NDArray[np.object_]
Columns = dict[str, list[Any]]


class DemoDataError(RuntimeError):
    """The database cannot take the demo county."""


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    scope: str


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


async def generate_demo(*, seed: int, scale: float = 1.0, progress: Progress = print) -> DemoSummary:
    """Write the demo county into an empty, migrated database and say how to sign in to it.

    Refuses (DemoDataError) when any of the tables it fills holds rows. The same seed and scale give the same
    rows, ids included; everything is written in one transaction, so a failure leaves nothing behind."""
    if scale <= 0:
        raise DemoDataError(f"规模必须为正数 / the scale must be positive, not {scale}")
    async with in_transaction() as conn:
        await _refuse_unless_empty(conn)
        plan = _plan_county(seed, scale, progress)
        await _write(conn, plan, progress)
    progress("演示数据已写入 / the demo county is written")
    return DemoSummary(seed=seed, scale=scale, password=DEMO_PASSWORD, logins=plan.staffing.logins, counts=plan.counts)


# --- planning ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GridPlan:
    county: GridNode
    townships: list[GridNode]
    villages: list[GridNode]
    groups: list[GridNode]
    village_polygons: Geometries  # as stored, EPSG:4326
    village_township: Ints  # index into townships
    village_groups: list[list[str]]  # group names of every village

    @property
    def nodes(self) -> list[GridNode]:
        """Parents before children, as the foreign keys need them."""
        return [self.county, *self.townships, *self.villages, *self.groups]


@dataclass(frozen=True)
class _Staffing:
    staff: list[Staff]
    scope: list[tuple[int, int]]  # (staff id, grid node id)
    village_manager: Ints  # staff id of the customer manager of every village
    logins: tuple[DemoLogin, ...]


@dataclass(frozen=True)
class _CountyPlan:
    grid: _GridPlan
    outlets: list[Outlet]
    coverage: list[tuple[int, int]]  # (outlet id, grid node id)
    staffing: _Staffing
    households: Columns
    customers: Columns

    @property
    def counts(self) -> DemoCounts:
        return DemoCounts(
            townships=len(self.grid.townships),
            villages=len(self.grid.villages),
            groups=len(self.grid.groups),
            outlets=len(self.outlets),
            staff=len(self.staffing.staff),
            households=len(self.households["id"]),
            customers=len(self.customers["id"]),
        )


def _plan_county(seed: int, scale: float, progress: Progress) -> _CountyPlan:
    rng = np.random.default_rng(seed)
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    villages = max(round(VILLAGES_PER_SCALE * scale), 1)
    customers = max(round(CUSTOMERS_PER_SCALE * scale), 1)
    progress(f"绘制乡镇与村的网格 / drawing townships and about {villages} villages")
    grid = _plan_grid(build_demo_grid(read_county_outline(), seed=seed, village_count=villages), rng)
    outlets, coverage = _plan_outlets(grid, rng)
    progress("安排网点与员工 / staffing the outlets")
    staffing = _plan_staff(grid, outlets, faker, rng)
    progress(f"生成 {customers:,} 名客户 / making up {customers:,} customers")
    households = _plan_households(grid, customers, rng)
    members = _plan_members(households, grid, staffing.village_manager, faker, rng)
    return _CountyPlan(
        grid=grid,
        outlets=outlets,
        coverage=coverage,
        staffing=staffing,
        households=households.columns,
        customers=members,
    )


# --- grid -------------------------------------------------------------------------------------------------


def _plan_grid(grid: DemoGrid, rng: np.random.Generator) -> _GridPlan:
    ids = itertools.count(1)
    county = _grid_node(next(ids), GridLevel.COUNTY, grid.county.iloc[0], None)
    townships = [_grid_node(next(ids), GridLevel.TOWNSHIP, row, county) for _, row in grid.townships.iterrows()]
    by_code = {t.code: t for t in townships}
    villages = [
        _grid_node(next(ids), GridLevel.VILLAGE, row, by_code[row["parent_code"]])
        for _, row in grid.villages.iterrows()
    ]
    village_groups = [list(GROUP_NAMES[: rng.integers(2, len(GROUP_NAMES) + 1)]) for _ in villages]
    groups = [
        _node(next(ids), GridLevel.GROUP, name, f"{village.code}{number:02d}", village)
        for village, names in zip(villages, village_groups, strict=True)
        for number, name in enumerate(names, 1)
    ]
    township_index = {t.code: i for i, t in enumerate(townships)}
    return _GridPlan(
        county=county,
        townships=townships,
        villages=villages,
        groups=groups,
        village_polygons=grid.villages.geometry.to_numpy(),
        village_township=np.array([township_index[code] for code in grid.villages["parent_code"]], dtype=np.int64),
        village_groups=village_groups,
    )


def _grid_node(node_id: int, level: GridLevel, row: Any, parent: GridNode | None) -> GridNode:
    """A node with its polygon (GeoJSON, coordinates already snapped to six decimals) and centroid."""
    node = _node(node_id, level, row["name"], row["code"], parent)
    node.polygon = mapping(row.geometry)
    node.centroid_lon, node.centroid_lat = float(row["lon"]), float(row["lat"])
    return node


def _node(node_id: int, level: GridLevel, name: str, code: str, parent: GridNode | None) -> GridNode:
    return GridNode(
        id=node_id,
        level=level,
        name=name,
        code=code,
        parent_id=parent.id if parent else None,
        path=f"{parent.path if parent else '/'}{node_id}/",
        depth=parent.depth + 1 if parent else 0,
    )


# --- outlets and staff ------------------------------------------------------------------------------------


def _plan_outlets(grid: _GridPlan, rng: np.random.Generator) -> tuple[list[Outlet], list[tuple[int, int]]]:
    """The head office's business department (营业部) serves the county, one branch (支行) each township."""
    outlets = [Outlet(id=1, code="SN000", name=f"{BANK_NAME}营业部", address=f"{COUNTY_NAME}睢城街道人民路88号")]
    for number, township in enumerate(grid.townships, 1):
        street = BRANCH_STREETS[rng.integers(len(BRANCH_STREETS))]
        outlets.append(
            Outlet(
                id=number + 1,
                code=f"SN{number:03d}",
                name=f"{BANK_NAME}{_short_name(township.name)}支行",
                address=f"{COUNTY_NAME}{township.name}{street}{rng.integers(1, 200)}号",
            )
        )
    coverage = [(outlet.id, node.id) for outlet, node in zip(outlets, [grid.county, *grid.townships], strict=True)]
    return outlets, coverage


def _short_name(township: str) -> str:
    """王集镇 → 王集, 睢城街道 → 睢城: how branches are named."""
    return township.removesuffix("街道").removesuffix("镇")


@dataclass
class _Roster:
    """Staff being hired, with ids in hiring order and the grid nodes each one works in."""

    faker: Faker
    password_hash: str
    staff: list[Staff] = field(default_factory=list)
    scope: list[tuple[int, int]] = field(default_factory=list)

    def hire(self, username: str, role: Role, outlet: Outlet, scope: Sequence[GridNode] = ()) -> Staff:
        member = Staff(
            id=len(self.staff) + 1,
            username=username,
            display_name=self.faker.name(),
            roles=[role.value],
            outlet_id=outlet.id,
            password_hash=self.password_hash,
        )
        self.staff.append(member)
        self.scope.extend((member.id, node.id) for node in scope)
        return member


def _plan_staff(grid: _GridPlan, outlets: list[Outlet], faker: Faker, rng: np.random.Generator) -> _Staffing:
    """Head office and the administrator see the whole bank, a branch president their township, customer
    managers their villages; the credit factory (investigators, approvers, back office) works county-wide from
    the head office."""
    roster = _Roster(faker, hash_password(DEMO_PASSWORD))
    head_office, branches = outlets[0], outlets[1:]
    roster.hire("head", Role.HEAD_OFFICE, head_office)
    roster.hire("admin", Role.ADMIN, head_office)
    presidents = [
        roster.hire(f"president{n:02d}", Role.BRANCH_PRESIDENT, branch, [township])
        for n, (township, branch) in enumerate(zip(grid.townships, branches, strict=True), 1)
    ]
    village_manager, managers = _hire_customer_managers(roster, grid, branches, rng)
    for role, prefix, count in CENTRAL_STAFF:
        for n in range(1, count + 1):
            roster.hire(f"{prefix}{n:02d}", role, head_office, [grid.county])
    return _Staffing(
        staff=roster.staff,
        scope=roster.scope,
        village_manager=village_manager,
        logins=_demo_logins(grid, presidents, managers, village_manager),
    )


def _hire_customer_managers(
    roster: _Roster, grid: _GridPlan, branches: list[Outlet], rng: np.random.Generator
) -> tuple[Ints, list[list[Staff]]]:
    """Two or three customer managers per township split its villages into neighbouring patches, so that every
    village has exactly one. Returns the manager of every village and each township's managers."""
    village_manager = np.zeros(len(grid.villages), dtype=np.int64)
    managers: list[list[Staff]] = []
    numbers = itertools.count(1)
    for township, branch in enumerate(branches):
        villages = np.flatnonzero(grid.village_township == township)
        team = min(int(rng.integers(2, 4)), len(villages))
        managers.append([])
        for patch in np.array_split(villages, team):
            scope = [grid.villages[v] for v in patch]
            manager = roster.hire(f"manager{next(numbers):03d}", Role.CUSTOMER_MANAGER, branch, scope)
            village_manager[patch] = manager.id
            managers[-1].append(manager)
    return village_manager, managers


def _demo_logins(
    grid: _GridPlan, presidents: list[Staff], managers: list[list[Staff]], village_manager: Ints
) -> tuple[DemoLogin, ...]:
    """One login per role; the branch president and the customer manager are of the same township, the one
    with the most villages, so that a demo user can compare what each of them sees."""
    township = int(np.bincount(grid.village_township).argmax())
    name = grid.townships[township].name
    manager = managers[township][0]
    own = [grid.villages[v].name for v in np.flatnonzero(village_manager == manager.id)]
    return (
        DemoLogin(Role.HEAD_OFFICE, "head", WHOLE_BANK),
        DemoLogin(Role.ADMIN, "admin", WHOLE_BANK),
        DemoLogin(Role.BRANCH_PRESIDENT, presidents[township].username, name),
        DemoLogin(Role.CUSTOMER_MANAGER, manager.username, f"{name} {own[0]}等{len(own)}个村"),
        *(DemoLogin(role, f"{prefix}01", COUNTY_NAME) for role, prefix, _ in CENTRAL_STAFF),
    )


# --- households and customers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Households:
    columns: Columns  # Household fields
    village: Ints  # village index of every household
    size: Ints
    location: npt.NDArray[np.float64]  # (lon, lat) of the house, inside the village


def _plan_households(grid: _GridPlan, customers: int, rng: np.random.Generator) -> _Households:
    """Households of one to five members spread over the villages by area, numbered within their village
    group, each at a point inside its village. Households are ordered by village, so that their ids run
    village by village."""
    size = _household_sizes(customers, rng)
    weight = shapely.area(grid.village_polygons) * rng.lognormal(0.0, 0.4, len(grid.villages))
    village = np.sort(rng.choice(len(grid.villages), size=len(size), p=weight / weight.sum()))
    group_count = np.array([len(groups) for groups in grid.village_groups])
    group = (rng.random(len(size)) * group_count[village]).astype(np.int64)
    house_number = _running_count(village * len(GROUP_NAMES) + group) + 1
    location = sample_points(
        grid.village_polygons, np.bincount(village, minlength=len(grid.villages)), rng, decimals=DECIMALS
    )
    address = [
        f"{COUNTY_NAME}{grid.townships[grid.village_township[v]].name}{grid.villages[v].name}{GROUP_NAMES[g]}{n}号"
        for v, g, n in zip(village.tolist(), group.tolist(), house_number.tolist(), strict=True)
    ]
    columns: Columns = {
        "id": list(range(1, len(size) + 1)),
        "village_id": [grid.villages[v].id for v in village.tolist()],
        "address": address,
    }
    return _Households(columns=columns, village=village, size=size, location=location)


def _household_sizes(customers: int, rng: np.random.Generator) -> Ints:
    """Household sizes adding up to exactly the number of customers."""
    size = rng.choice(np.arange(1, len(HOUSEHOLD_SIZE_SHARES) + 1), size=customers, p=HOUSEHOLD_SIZE_SHARES)
    total = np.cumsum(size)
    count = int(np.searchsorted(total, customers)) + 1
    size = size[:count]
    size[-1] -= total[count - 1] - customers
    return size


def _running_count(key: Ints) -> Ints:
    """For every element, how many elements before it share its key: 0, 1, 2 …"""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    rank = np.empty_like(key)
    rank[order] = np.arange(len(key)) - np.searchsorted(ordered, ordered)
    return rank


def _plan_members(
    households: _Households, grid: _GridPlan, village_manager: Ints, faker: Faker, rng: np.random.Generator
) -> Columns:
    """The customers, household by household, head first: a spouse of the other sex and of about the
    head's age, then grown children mostly sharing the head's surname; all at the household's address and
    (nearly) its location."""
    household = np.repeat(np.arange(len(households.size)), households.size)
    first = np.cumsum(households.size) - households.size
    position = np.arange(len(household)) - first[household]  # 0 head, 1 spouse, 2… children
    male = _sexes(position, household, len(households.size), rng)
    birth = _birth_dates(position, household, households.size, rng)
    village = households.village[household]
    location = scatter_inside(
        households.location[household],
        grid.village_polygons[village],
        MEMBER_SPREAD_DEGREES,
        rng,
        decimals=DECIMALS,
    )
    location[position == 0] = households.location
    return {
        "id": list(range(1, len(household) + 1)),
        "id_number": _resident_ids(birth, male, rng),
        "name": _names(position, household, male, faker, rng),
        "birth_date": birth.tolist(),
        "sex": [Sex.MALE if m else Sex.FEMALE for m in male.tolist()],
        "phone": _phones(len(household), rng),
        "address": [households.columns["address"][h] for h in household.tolist()],
        "lon": location[:, 0].tolist(),
        "lat": location[:, 1].tolist(),
        "village_id": [grid.villages[v].id for v in village.tolist()],
        "household_id": (household + 1).tolist(),
        "is_household_head": (position == 0).tolist(),
        "manager_id": village_manager[village].tolist(),
        "placement": [Placement.INSIDE] * len(household),
        **_finances(position == 0, rng),
        **_flags_and_tags(len(household), rng),
    }


def _sexes(position: Ints, household: Ints, households: int, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    """Most heads are men (户主); a spouse is of the other sex; children either."""
    male_head = rng.random(households) < MALE_HEAD_SHARE
    child_male = rng.random(len(position)) < 0.5
    sexes: npt.NDArray[np.bool_] = np.select(
        [position == 0, position == 1], [male_head[household], ~male_head[household]], child_male
    )
    return sexes


def _birth_dates(position: Ints, household: Ints, size: Ints, rng: np.random.Generator) -> npt.NDArray[np.datetime64]:
    """Born 1940–2005: heads of three or more before 1981, so that their grown children are adults too."""
    head_year = np.where(size >= 3, rng.integers(1945, 1981, len(size)), rng.integers(1940, 2004, len(size)))
    year = head_year[household] + np.select(
        [position == 0, position == 1],
        [0, rng.integers(-4, 5, len(position))],
        rng.integers(22, 33, len(position)),
    )
    start = (np.clip(year, 1940, 2005) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    dates: npt.NDArray[np.datetime64] = start + rng.integers(0, 365, len(position)).astype("timedelta64[D]")
    return dates


def _resident_ids(
    birth: npt.NDArray[np.datetime64], male: npt.NDArray[np.bool_], rng: np.random.Generator
) -> list[str]:
    """Valid, distinct ID numbers of the county: people born the same day and of the same sex get distinct
    sequence numbers, odd for men and even for women, starting from a random slot per day."""
    slots = 499  # male sequence numbers 001–997, female 002–998
    key = birth.astype(np.int64) * 2 + male
    rank = _running_count(key)
    if rank.max() >= slots:
        raise DemoDataError("too many people born on one day for distinct ID numbers / 同日出生人数过多")
    start = rng.integers(0, slots, int(key.max()) + 1)
    sequence = (start[key] + rank * 13) % slots * 2 + np.where(male, 1, 2)
    return [
        make_id_number(COUNTY_CODE, day, number) for day, number in zip(birth.tolist(), sequence.tolist(), strict=True)
    ]


def _names(
    position: Ints, household: Ints, male: npt.NDArray[np.bool_], faker: Faker, rng: np.random.Generator
) -> list[str]:
    """Faker-drawn pools combined with numpy: most children take the head's surname, spouses keep theirs."""
    surnames = np.array([faker.last_name() for _ in range(600)])
    male_given, female_given = (_given_names(draw, rng) for draw in (faker.first_name_male, faker.first_name_female))
    own = surnames[rng.integers(len(surnames), size=len(position))]
    heads = own[np.flatnonzero(position == 0)]
    keeps_head_surname = (position >= 2) & (rng.random(len(position)) < CHILD_KEEPS_SURNAME_SHARE)
    surname = np.where(keeps_head_surname, heads[household], own)
    given = np.where(
        male,
        male_given[rng.integers(len(male_given), size=len(position))],
        female_given[rng.integers(len(female_given), size=len(position))],
    )
    names: list[str] = np.char.add(surname, given).tolist()
    return names


def _given_names(draw: Callable[[], str], rng: np.random.Generator, size: int = 1500) -> npt.NDArray[np.str_]:
    """Faker knows a few dozen given names per sex; pairs of their characters give a county's variety."""
    known = np.array([draw() for _ in range(size)])
    characters = np.array(sorted({c for name in known.tolist() for c in name}))
    pairs = np.char.add(rng.choice(characters, size), rng.choice(characters, size))
    return np.concatenate([known, pairs])


def _phones(count: int, rng: np.random.Generator) -> list[str | None]:
    prefix = rng.integers(len(MOBILE_PREFIXES), size=count).tolist()
    line = rng.integers(10**8, size=count).tolist()
    has_phone = (rng.random(count) < PHONE_SHARE).tolist()
    return [f"{MOBILE_PREFIXES[p]}{n:08d}" if has else None for p, n, has in zip(prefix, line, has_phone, strict=True)]


def _finances(head: npt.NDArray[np.bool_], rng: np.random.Generator) -> Columns:
    """Deposits log-normal (most a few thousand yuan, a few over a million); a quarter borrow 10k–500k, with a
    credit line above the loan and a five-tier class; whole-village credit pre-approves many other heads."""
    count = len(head)
    deposit = np.round(rng.lognormal(np.log(6000), 1.6, count), 2)
    borrower = rng.random(count) < BORROWER_SHARE
    loan = np.where(borrower, np.round(np.exp(rng.uniform(np.log(1e4), np.log(5e5), count)), -2), 0.0)
    pre_approved = ~borrower & head & (rng.random(count) < PRE_APPROVED_HEAD_SHARE)
    credit_line = np.select(
        [borrower, pre_approved],
        [np.ceil(loan * rng.uniform(1.0, 1.5, count) / 1e4) * 1e4, rng.integers(3, 31, count) * 1e4],
        0.0,
    )
    loan_class = rng.choice(list(LOAN_CLASS_SHARES), size=count, p=list(LOAN_CLASS_SHARES.values()))
    return {
        "deposit_balance": _money(deposit),
        "loan_balance": _money(loan),
        "credit_line": _money(credit_line),
        "loan_class": [
            LoanClass(c) if b else None for c, b in zip(loan_class.tolist(), borrower.tolist(), strict=True)
        ],
        "source": [
            CustomerSource.CORE_BANKING if core else CustomerSource.SURVEY
            for core in (borrower | (rng.random(count) < CORE_BANKING_SHARE)).tolist()
        ],
    }


def _money(amounts: npt.NDArray[np.float64]) -> list[Decimal]:
    return [Decimal(f"{amount:.2f}") for amount in amounts.tolist()]


def _flags_and_tags(count: int, rng: np.random.Generator) -> Columns:
    """Penetration flags and tags; tags are stored as ",tag1,tag2," (or "," for none) for a portable LIKE."""
    flags = {name: (rng.random(count) < share).tolist() for name, share in FLAG_SHARES.items()}
    has_tag = rng.random((count, len(TAG_SHARES))) < np.array(list(TAG_SHARES.values()))
    combination = has_tag @ (1 << np.arange(len(TAG_SHARES)))
    spelled = [
        "," + "".join(f"{tag}," for bit, tag in enumerate(TAG_SHARES) if combo >> bit & 1)
        for combo in range(1 << len(TAG_SHARES))
    ]
    return {**flags, "tags": [spelled[combo] for combo in combination.tolist()]}


# --- writing ----------------------------------------------------------------------------------------------

_DEMO_TABLES: tuple[type[Model], ...] = (GridNode, Outlet, Staff, Household, Customer)


async def _refuse_unless_empty(conn: BaseDBAsyncClient) -> None:
    for model in _DEMO_TABLES:
        if await model.all(using_db=conn).exists():
            table = model._meta.db_table
            raise DemoDataError(
                f"演示数据只能写入空数据库,{table} 表已有数据 / the demo county goes into an empty database, "
                f"but {table} already holds rows"
            )


async def _write(conn: BaseDBAsyncClient, plan: _CountyPlan, progress: Progress) -> None:
    progress(f"写入网格、网点和员工 / writing {len(plan.grid.nodes):,} grid nodes, outlets and staff")
    await GridNode.bulk_create(plan.grid.nodes, using_db=conn)
    await Outlet.bulk_create(plan.outlets, using_db=conn)
    await _link(conn, Outlet, "covers", plan.coverage)
    await Staff.bulk_create(plan.staffing.staff, using_db=conn)
    await _link(conn, Staff, "scope", plan.staffing.scope)
    counts = plan.counts
    progress(f"写入 {counts.households:,} 户、{counts.customers:,} 名客户 / writing households and customers")
    await _insert_rows(conn, Household, plan.households)
    await _insert_rows(conn, Customer, plan.customers)
    await _advance_id_sequences(conn)


async def _insert_rows(conn: BaseDBAsyncClient, model: type[Model], columns: Columns) -> None:
    """Insert many rows without a model object per row: 50,000 customers cost about 8 s as Customer objects
    (validation and conversion of every field), about 3 s as plain values, which both drivers take as they
    are. Fields not given get what Tortoise gives a new object (defaults, auto_now timestamps), worked out
    once on a template object made from the first row."""
    template = model(**{name: values[0] for name, values in columns.items()})
    count = len(columns["id"])
    names, values = [], []
    for field_name, column in model._meta.fields_db_projection.items():
        names.append(column)
        if field_name in columns:
            values.append(columns[field_name])
        else:
            default = model._meta.fields_map[field_name].to_db_value(getattr(template, field_name), template)
            values.append([default] * count)
    markers = ", ".join(placeholders(conn, 0, len(names)))
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) VALUES ({markers})"
    await conn.execute_many(sql, [list(row) for row in zip(*values, strict=True)])


async def _link(conn: BaseDBAsyncClient, model: type[Model], relation: str, pairs: Sequence[tuple[int, int]]) -> None:
    """Rows of a many-to-many table, which has no model to bulk-create."""
    m2m = cast(ManyToManyFieldInstance[Any], model._meta.fields_map[relation])
    values = ", ".join(placeholders(conn, 0, 2))
    sql = f"INSERT INTO {m2m.through} ({m2m.backward_key}, {m2m.forward_key}) VALUES ({values})"
    await conn.execute_many(sql, [list(pair) for pair in pairs])


async def _advance_id_sequences(conn: BaseDBAsyncClient) -> None:
    """The rows were inserted with their ids; PostgreSQL's serial sequences do not notice, so move them past
    the ids used. SQLite's AUTOINCREMENT follows the largest id by itself."""
    if dialect(conn) != "postgres":
        return
    for model in _DEMO_TABLES:
        table = model._meta.db_table
        await conn.execute_query(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
        )
