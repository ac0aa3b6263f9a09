"""The demo county: the geometry of its grid, and what generate_demo writes into a database (its own SQLite
files, tests.demo.databases; one test writes into the suite's database, so that the PostgreSQL pass covers the
generator too). The loan book is tested in test_book.py."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from demo import DEMO_PASSWORD, DemoDataError, DemoSummary, generate_demo
from domain.access import Role
from domain.customers.enums import CustomerSource, Sex
from domain.customers.idcard import make_id_number, parse_id_number
from domain.grid.paths import inside
from geo.demo_grid import (
    METRIC_CRS,
    TOWNSHIP_NAMES,
    DemoGrid,
    build_demo_grid,
    read_county_outline,
    sample_points,
)
from models import (
    ApplicationEvent,
    CreditApplication,
    CreditLine,
    CreditReport,
    Customer,
    DecisionRecord,
    Drawdown,
    GridLevel,
    GridNode,
    Guarantee,
    Household,
    Loan,
    LoanInstalment,
    Outlet,
    Staff,
)
from resolvers.platform.auth import login
from tests.demo.databases import SCALE, SEED, DemoCounty, on_sqlite_pass, sqlite_database

# --- the grid's geometry ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outline() -> shapely.Geometry:
    return read_county_outline()


@pytest.fixture(scope="module")
def grid(outline: shapely.Geometry) -> DemoGrid:
    return build_demo_grid(outline, seed=SEED, village_count=120)


def metric_area(geometries: gpd.GeoSeries) -> float:
    return float(geometries.to_crs(METRIC_CRS).area.sum())


def test_townships_are_the_real_ones_coded_in_order(grid: DemoGrid) -> None:
    assert grid.townships["name"].tolist() == list(TOWNSHIP_NAMES)
    assert grid.townships["code"].tolist() == [f"320324{n:03d}" for n in range(1, 19)]
    assert set(grid.townships["parent_code"]) == {"320324"}
    assert grid.county["code"].tolist() == ["320324"]


def test_townships_tile_the_county_outline(grid: DemoGrid, outline: shapely.Geometry) -> None:
    county_area = metric_area(gpd.GeoSeries([outline], crs="EPSG:4326"))
    union_area = metric_area(gpd.GeoSeries([grid.townships.union_all()], crs="EPSG:4326"))
    assert abs(union_area - county_area) / county_area < 0.001
    assert abs(metric_area(grid.townships.geometry) - county_area) / county_area < 0.001


def test_villages_tile_their_township_without_overlapping(grid: DemoGrid) -> None:
    villages = grid.villages.geometry.to_numpy()
    left, right = shapely.STRtree(villages).query(villages, predicate="intersects")
    pairs = left < right
    shared = shapely.intersection(villages[left[pairs]], villages[right[pairs]])
    assert pairs.sum() > len(villages)  # neighbours share borders…
    assert shapely.area(shared).max() == 0  # …and no area
    assert shapely.coverage_is_valid(villages)
    townships = grid.townships.set_index("code").geometry
    for code, township_villages in grid.villages.groupby("parent_code"):
        assert shapely.union_all(township_villages.geometry.to_numpy()).equals(townships[code])


def test_villages_are_counted_named_and_coded_per_township(grid: DemoGrid) -> None:
    assert len(grid.villages) == 120
    for code, villages in grid.villages.groupby("parent_code"):
        assert villages["name"].is_unique
        assert all(re.fullmatch(r"\w{2,3}村", name) for name in villages["name"])
        assert villages["code"].tolist() == [f"{code}{n:03d}" for n in range(1, len(villages) + 1)]


def test_centroids_lie_in_the_county(grid: DemoGrid, outline: shapely.Geometry) -> None:
    for frame in (grid.townships, grid.villages):
        assert shapely.contains_xy(outline, frame["lon"].to_numpy(), frame["lat"].to_numpy()).all()


def test_same_seed_draws_the_same_grid(grid: DemoGrid, outline: shapely.Geometry) -> None:
    again = build_demo_grid(outline, seed=SEED, village_count=120)
    other = build_demo_grid(outline, seed=SEED + 1, village_count=120)
    assert again.villages["name"].tolist() == grid.villages["name"].tolist()
    assert shapely.equals_exact(again.villages.geometry.values, grid.villages.geometry.values).all()
    assert not shapely.equals_exact(other.villages.geometry.values, grid.villages.geometry.values).all()


def test_sampled_points_lie_in_their_polygon_in_order(grid: DemoGrid) -> None:
    polygons = grid.villages.geometry.to_numpy()
    counts = np.arange(len(polygons)) % 7
    points = sample_points(polygons, counts, np.random.default_rng(1), decimals=6)
    owner = np.repeat(np.arange(len(polygons)), counts)
    assert points.shape == (counts.sum(), 2)
    assert shapely.contains_xy(polygons[owner], points[:, 0], points[:, 1]).all()
    assert np.array_equal(points, np.round(points, 6))


# --- the demo county in a database ------------------------------------------------------------------------


async def digest() -> str:
    """A fingerprint of the generated people and places."""
    rows = [
        *await GridNode.all().order_by("id").values_list("id", "code", "name", "path", "polygon"),
        *await Staff.all().order_by("id").values_list("id", "username", "display_name", "roles", "product_skills"),
        *await Customer.all()
        .order_by("id")
        .values_list("id", "id_number", "name", "phone", "address", "lon", "lat", "manager_id", "tags"),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


async def book_digest(summary: DemoSummary) -> str:
    """A fingerprint of the loan book: the rows generate_demo plans (the first ids of each table), every column
    but the time they were written; not the work in progress the use cases add after them."""
    applications, drawdowns = sum(summary.book.applications.values()), summary.book.drawdowns
    tables = [
        (CreditReport, CreditReport.all(), {"imported_at"}),
        (CreditApplication, CreditApplication.filter(id__lte=applications), set()),
        (ApplicationEvent, ApplicationEvent.filter(application_id__lte=applications), set()),
        (DecisionRecord, DecisionRecord.filter(application_id__lte=applications), set()),
        (CreditLine, CreditLine.filter(application_id__lte=applications), set()),
        (Guarantee, Guarantee.filter(application_id__lte=applications), set()),
        (Drawdown, Drawdown.filter(id__lte=drawdowns), set()),
        (Loan, Loan.filter(id__lte=drawdowns), set()),
        (LoanInstalment, LoanInstalment.filter(loan_id__lte=drawdowns), set()),
    ]
    found = hashlib.sha256()
    for model, query, clocked in tables:
        columns = [f for f in model._meta.fields_db_projection if f not in clocked]
        found.update(repr(await query.order_by("id").values_list(*columns)).encode())
    return found.hexdigest()


@on_sqlite_pass
async def test_summary_matches_the_rows(demo: DemoCounty) -> None:
    counts = demo.summary.counts
    async with sqlite_database(demo.path):
        by_level = {level: await GridNode.filter(level=level).count() for level in GridLevel}
        assert by_level == {
            GridLevel.COUNTY: 1,
            GridLevel.TOWNSHIP: counts.townships,
            GridLevel.VILLAGE: counts.villages,
            GridLevel.GROUP: counts.groups,
        }
        assert await Outlet.all().count() == counts.outlets == 19
        assert await Staff.all().count() == counts.staff
        assert await Household.all().count() == counts.households
        assert await Customer.all().count() == counts.customers == 2500
    assert counts.townships == 18
    assert counts.villages == 20
    assert 2 * counts.villages <= counts.groups <= 4 * counts.villages
    assert counts.households < counts.customers <= 5 * counts.households
    assert len(demo.progress) >= 4


@on_sqlite_pass
async def test_logins_cover_every_role_and_one_township(demo: DemoCounty) -> None:
    logins = {login.role: login for login in demo.summary.logins}
    assert set(logins) == set(Role)
    president, manager = logins[Role.BRANCH_PRESIDENT], logins[Role.CUSTOMER_MANAGER]
    assert manager.scope.startswith(president.scope)
    assert demo.summary.password == DEMO_PASSWORD
    assert president.username in demo.summary.describe()
    async with sqlite_database(demo.path):
        for entry in demo.summary.logins:
            signed_in = await login(entry.username, DEMO_PASSWORD)
            assert signed_in.staff.roles == [entry.role]


@on_sqlite_pass
async def test_paths_follow_parents(demo: DemoCounty) -> None:
    async with sqlite_database(demo.path):
        nodes = {node.id: node for node in await GridNode.all()}
    depth_of = {GridLevel.COUNTY: 0, GridLevel.TOWNSHIP: 1, GridLevel.VILLAGE: 2, GridLevel.GROUP: 3}
    for node in nodes.values():
        parent = nodes.get(node.parent_id)  # type: ignore[attr-defined]
        assert node.path == (parent.path if parent else "/") + f"{node.id}/"
        assert node.depth == depth_of[node.level] == (parent.depth + 1 if parent else 0)
        assert (node.polygon is None) == (node.level == GridLevel.GROUP)


@on_sqlite_pass
async def test_id_numbers_are_valid_and_agree_with_birth_date_and_sex(demo: DemoCounty) -> None:
    async with sqlite_database(demo.path):
        customers = await Customer.all()
    for customer in customers:
        resident = parse_id_number(customer.id_number, today=date(2026, 1, 1))
        assert resident.region == "320324"
        assert resident.birth_date == customer.birth_date
        assert resident.sex == customer.sex
        assert date(1940, 1, 1) <= customer.birth_date <= date(2005, 12, 31)
    assert len({c.id_number for c in customers}) == len(customers)


@on_sqlite_pass
async def test_customers_live_inside_their_village_with_their_household(demo: DemoCounty) -> None:
    async with sqlite_database(demo.path):
        polygons = {v.id: shape(v.polygon) for v in await GridNode.filter(level=GridLevel.VILLAGE)}
        households = {h.id: h for h in await Household.all()}
        customers = await Customer.all().order_by("id")
    lon = np.array([c.lon for c in customers])
    lat = np.array([c.lat for c in customers])
    village = np.array([polygons[c.village_id] for c in customers], dtype=object)  # type: ignore[attr-defined]
    assert shapely.contains_xy(village, lon, lat).all()
    members: dict[int, list[Customer]] = defaultdict(list)
    for customer in customers:
        members[customer.household_id].append(customer)  # type: ignore[attr-defined]
    assert members.keys() == households.keys()
    for household_id, people in members.items():
        household = households[household_id]
        assert 1 <= len(people) <= 5
        assert [p.is_household_head for p in people] == [True] + [False] * (len(people) - 1)
        assert {(p.village_id, p.address) for p in people} == {(household.village_id, household.address)}  # type: ignore[attr-defined]


@on_sqlite_pass
async def test_every_village_has_exactly_one_customer_manager(demo: DemoCounty) -> None:
    async with sqlite_database(demo.path):
        villages = await GridNode.filter(level=GridLevel.VILLAGE)
        staff = await Staff.all().prefetch_related("scope")
        customer_managers = await Customer.all().values_list("village_id", "manager_id")
    managers = [s for s in staff if Role.CUSTOMER_MANAGER in s.roles]
    manager_of: dict[int, int] = {}
    for village in villages:
        covering = [m.id for m in managers if inside(village.path, [node.path for node in m.scope])]
        assert len(covering) == 1
        manager_of[village.id] = covering[0]
    assert all(manager_of[village_id] == manager_id for village_id, manager_id in customer_managers)
    presidents = [s for s in staff if Role.BRANCH_PRESIDENT in s.roles]
    assert sorted(node.level for p in presidents for node in p.scope) == [GridLevel.TOWNSHIP] * 18


@on_sqlite_pass
async def test_customer_details_are_plausible(demo: DemoCounty) -> None:
    async with sqlite_database(demo.path):
        customers = await Customer.all()
    phones = [c.phone for c in customers if c.phone]
    assert all(re.fullmatch(r"1[3-9]\d{9}", phone) for phone in phones)
    assert 0.8 < len(phones) / len(customers) < 0.97
    assert all(re.fullmatch(r",(?:[^,]+,)*", c.tags) for c in customers)
    borrowers = [c for c in customers if c.loan_balance > 0]
    assert 0.1 < len(borrowers) / len(customers) < 0.25  # the book decides who owes what (test_book.py)
    assert all((c.loan_class is None) == (c.loan_balance == 0) for c in customers)
    assert all(c.version == 1 and c.deposit_balance >= 0 for c in customers)


@on_sqlite_pass
async def test_same_seed_gives_the_same_county_and_book(demo: DemoCounty, tmp_path: Path) -> None:
    """On the same day: the book's dates run back from the day it is generated."""
    async with sqlite_database(demo.path):
        first, first_book = await digest(), await book_digest(demo.summary)
    day = demo.summary.today
    async with sqlite_database(tmp_path / "again.sqlite3", create=True):
        again = await generate_demo(seed=SEED, scale=SCALE, progress=lambda _: None, today=day, live=False)
        assert (await digest(), await book_digest(again)) == (first, first_book)
    async with sqlite_database(tmp_path / "other.sqlite3", create=True):
        other = await generate_demo(seed=SEED + 1, scale=SCALE, progress=lambda _: None, today=day, live=False)
        assert await digest() != first
        assert await book_digest(other) != first_book


@on_sqlite_pass
async def test_refuses_a_database_that_holds_data(demo: DemoCounty) -> None:
    async with sqlite_database(demo.path):
        with pytest.raises(DemoDataError, match="grid_node"):
            await generate_demo(seed=SEED + 1, scale=SCALE, progress=lambda _: None)
        assert await Customer.all().count() == demo.summary.counts.customers


async def test_refuses_a_scale_that_is_not_positive() -> None:
    with pytest.raises(DemoDataError, match="scale"):
        await generate_demo(seed=SEED, scale=0, progress=lambda _: None)


@pytest.mark.usefixtures("database")
async def test_writes_into_the_suites_database_and_later_rows_get_new_ids() -> None:
    summary = await generate_demo(seed=SEED, scale=0.02, progress=lambda _: None)
    counts = summary.counts
    assert await Customer.all().count() == counts.customers == 1000
    # the work in progress went through the use cases after the bulk write: its rows took ids above the book's
    assert min(summary.pipeline.values()) >= 1
    book = sum(summary.book.applications.values())
    live = CreditApplication.filter(id__gt=book).exclude(client_id__startswith="village-household-")
    assert await live.count() == sum(summary.pipeline.values())
    assert await CreditApplication.filter(id__gt=book).count() == await live.count() + summary.village["SIGNED"]
    village = await GridNode.filter(level=GridLevel.VILLAGE).first()
    assert village is not None
    group = await GridNode.create(level=GridLevel.GROUP, name="五组", code="X", path="/", depth=3)
    household = await Household.create(village=village)
    customer = await Customer.create(
        id_number=make_id_number("320303", date(1990, 1, 1), 1),  # not a demo region: no clash
        name="新客户",
        birth_date=date(1990, 1, 1),
        sex=Sex.MALE,
        source=CustomerSource.APPLICATION,
    )
    outlet = await Outlet.create(code="X", name="新网点")
    staff = await Staff.create(username="new", display_name="新员工", password_hash="-")
    nodes = 1 + counts.townships + counts.villages + counts.groups
    # the demo wrote ids 1..N itself; the database's own counters must hand out ids above them (earlier
    # tests may have moved the counters further, which is fine: no clash is what matters)
    created = (group.id, household.id, customer.id, outlet.id, staff.id)
    written = (nodes, counts.households, counts.customers, counts.outlets, counts.staff)
    assert all(new_id > last for new_id, last in zip(created, written, strict=True)), (created, written)
