"""Grid KPIs: the roll-up checked against a direct computation, period-over-period change, scope, rankings
and maps."""

from __future__ import annotations

import base64
import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.credit.classification import LoanClass
from domain.errors import DomainError, ErrorCode
from models import Customer, GridKpi, GridLevel, Household, Job
from resolvers.grid.kpis import roll_up_kpis
from tests.conftest import QueryCounter
from tests.factories import Api, World, make_customer, make_node, new_id_number

KPI = """
query($c: String!) { gridNode(code: $c) { kpi { period customers households householdsWithCredit
  depositBalance loanBalance creditLineTotal creditCoverage ebankingPenetration thirdPartyPaymentPenetration
  socialSecurityCardPenetration nplRatioByCount nplRatioByBalance } } }
"""


async def populate(world: World) -> None:
    """Households with credit lines, loans of every class, flags: enough variety to check each figure."""
    v1a, v1b, v2a = world.village1a, world.village1b, world.village2a
    h1 = await Household.create(village=v1a, address="一组1号")
    h2 = await Household.create(village=v1a, address="一组2号")
    h3 = await Household.create(village=v2a, address="二组3号")
    await Customer.filter(id=world.customers["c1a"].id).update(
        household_id=h1.id, credit_line=Decimal(50000), loan_balance=Decimal(30000), loan_class=LoanClass.PASS
    )
    await make_customer(
        v1a,
        world.staff["manager1a"],
        "张二",
        id_number=new_id_number(),
        household=h1,
        has_social_security_card=True,
    )
    await make_customer(
        v1a,
        world.staff["manager1a"],
        "钱五",
        id_number=new_id_number(),
        household=h2,
        loan_balance=Decimal(20000),
        loan_class=LoanClass.SUBSTANDARD,
        has_third_party_payment=True,
    )
    await make_customer(
        v2a,
        world.staff["manager2a"],
        "孙六",
        id_number=new_id_number(),
        household=h3,
        credit_line=Decimal(80000),
        loan_balance=Decimal(10000),
        loan_class=LoanClass.LOSS,
        has_ebanking=True,
    )
    await make_customer(
        v1b, world.staff["manager1b"], "周七", id_number=new_id_number(), deposit_balance=Decimal("2500.50")
    )


async def direct(where_village_ids: list[int]) -> dict[str, object]:
    """The same figures computed naively from the customer rows."""
    rows = await Customer.filter(village_id__in=where_village_ids)
    households = {c.household_id for c in rows}  # type: ignore[attr-defined]
    credit_households = {c.household_id for c in rows if c.credit_line > 0}  # type: ignore[attr-defined]
    borrowers = [c for c in rows if c.loan_balance > 0]
    npl = [c for c in borrowers if c.loan_class in (LoanClass.SUBSTANDARD, LoanClass.DOUBTFUL, LoanClass.LOSS)]
    loan = sum((c.loan_balance for c in rows), Decimal(0))
    return {
        "customers": len(rows),
        "households": len(households - {None}),
        "householdsWithCredit": len(credit_households - {None}),
        "depositBalance": str(sum((c.deposit_balance for c in rows), Decimal(0)).quantize(Decimal("0.01"))),
        "loanBalance": str(loan.quantize(Decimal("0.01"))),
        "creditLineTotal": str(sum((c.credit_line for c in rows), Decimal(0)).quantize(Decimal("0.01"))),
        "ebankingPenetration": sum(c.has_ebanking for c in rows) / len(rows),
        "nplRatioByCount": len(npl) / len(borrowers) if borrowers else 0.0,
        "nplRatioByBalance": float(sum((c.loan_balance for c in npl), Decimal(0)) / loan) if loan else 0.0,
    }


@pytest.mark.parametrize("level", ["county", "township1", "village1a", "township2"])
async def test_roll_up_matches_a_direct_computation(api: Api, world: World, level: str) -> None:
    await populate(world)
    report = await roll_up_kpis("2026-11")
    assert report.customers == await Customer.all().count()
    node = getattr(world, level)
    villages = {
        "county": [world.village1a.id, world.village1b.id, world.village2a.id],
        "township1": [world.village1a.id, world.village1b.id],
        "village1a": [world.village1a.id],
        "township2": [world.village2a.id],
    }[level]
    body = await api.as_("head", KPI, {"c": node.code})
    kpi = body["data"]["gridNode"]["kpi"]
    expected = await direct(villages)
    for key, value in expected.items():
        assert kpi[key] == pytest.approx(value) if isinstance(value, float) else kpi[key] == value, key
    assert kpi["period"] == "2026-11"


async def test_roll_up_is_idempotent_and_covers_every_node(world: World) -> None:
    await roll_up_kpis("2026-11")
    await roll_up_kpis("2026-11")
    assert await GridKpi.filter(period="2026-11").count() == 6


async def test_period_over_period_change(api: Api, world: World) -> None:
    await roll_up_kpis("2026-10", now=datetime(2026, 10, 31, tzinfo=UTC))
    await make_customer(world.village1a, world.staff["manager1a"], "新客户", id_number=new_id_number())
    await roll_up_kpis("2026-11", now=datetime(2026, 11, 28, tzinfo=UTC))
    body = await api.as_(
        "head",
        'query { gridNode(code: "320324") { kpi { changes { metric current previous delta deltaRatio } } } }',
    )
    changes = {c["metric"]: c for c in body["data"]["gridNode"]["kpi"]["changes"]}
    assert changes["CUSTOMERS"] == {
        "metric": "CUSTOMERS",
        "current": 4.0,
        "previous": 3.0,
        "delta": 1.0,
        "deltaRatio": pytest.approx(1 / 3),
    }


@pytest.mark.parametrize(
    ("user", "code_visible"),
    [("head", True), ("president1", False), ("manager1a", False), ("admin", False), ("investigator", False)],
)
async def test_county_kpis_only_for_those_whose_scope_covers_it(
    api: Api, world: World, user: str, code_visible: bool
) -> None:
    await roll_up_kpis("2026-11")
    body = await api.as_(user, 'query { gridNode(code: "320324") { kpi { customers } } }')
    assert (body["data"]["gridNode"]["kpi"] is not None) is code_visible


async def test_president_sees_their_township_kpis_and_not_the_other(api: Api, world: World) -> None:
    await roll_up_kpis("2026-11")
    own = await api.as_("president1", KPI, {"c": world.township1.code})
    assert own["data"]["gridNode"]["kpi"]["customers"] == 2
    other = await api.as_("president1", KPI, {"c": world.township2.code})
    assert other["data"]["gridNode"] is None


async def test_ranking_of_villages(api: Api, world: World) -> None:
    await make_customer(world.village1b, world.staff["manager1b"], "吴八", id_number=new_id_number())
    await roll_up_kpis("2026-11")
    body = await api.as_(
        "president1",
        "query($c: String!) { gridNode(code: $c) { childRanking(metric: CUSTOMERS) { rank value node { name } } } }",
        {"c": world.township1.code},
    )
    assert body["data"]["gridNode"]["childRanking"] == [
        {"rank": 1, "value": 2.0, "node": {"name": "李庄村"}},
        {"rank": 2, "value": 1.0, "node": {"name": "张庄村"}},
    ]


TOWNSHIP_DASHBOARD = """
query($c: String!) { gridNode(code: $c) { name customerCount
  kpi { period customers creditCoverage }
  children { name customerCount }
  childRanking(metric: CUSTOMERS) { rank value node { name customerCount } } } }
"""


async def test_a_township_dashboard_reads_its_kpis_in_one_statement_however_many_villages(
    api: Api, world: World, count_queries: QueryCounter
) -> None:
    await roll_up_kpis("2026-11")
    await api.as_("president1", TOWNSHIP_DASHBOARD, {"c": world.township1.code})  # signs in, caches the scope
    count_queries.statements.clear()
    await api.as_("president1", TOWNSHIP_DASHBOARD, {"c": world.township1.code})
    few = list(count_queries.statements)
    for i in range(12):
        village = await make_node(f"新村{i}", GridLevel.VILLAGE, world.township1)
        for _ in range(i % 3):
            await make_customer(village, world.staff["manager1a"], f"客户{i}", id_number=new_id_number())
    await roll_up_kpis("2026-11")
    count_queries.statements.clear()
    body = await api.as_("president1", TOWNSHIP_DASHBOARD, {"c": world.township1.code})
    assert len(count_queries.statements) == len(few), count_queries.statements
    # the token check, the node, its children, the counts, the latest period, and the KPIs of the node and of
    # every child (for the ranking) together
    assert len(few) == 6, few
    assert sum("grid_kpi" in s and "period" in s and "node_id" in s for s in few) == 1, few
    node = body["data"]["gridNode"]
    assert node["kpi"]["customers"] == node["customerCount"] == 2 + 12
    counts = {c["name"]: c["customerCount"] for c in node["children"]}
    ranking = node["childRanking"]
    assert [r["value"] for r in ranking] == sorted((float(n) for n in counts.values()), reverse=True)
    assert all(counts[r["node"]["name"]] == r["node"]["customerCount"] == int(r["value"]) for r in ranking)
    # equal values share a rank: 1, 2, 2, 4
    for position, (before, after) in enumerate(itertools.pairwise(ranking), start=2):
        assert after["rank"] == (before["rank"] if after["value"] == before["value"] else position)


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[117.9, 33.9], [117.91, 33.9], [117.91, 33.91], [117.9, 33.91], [117.9, 33.9]]],
}


async def test_children_as_geojson_and_png(api: Api, world: World) -> None:
    world.village1a.polygon = SQUARE
    await world.village1a.save(update_fields=["polygon"])
    await roll_up_kpis("2026-11")
    body = await api.as_(
        "head",
        "query($c: String!) { gridNode(code: $c) { "
        "childrenGeojson(metric: CUSTOMERS) choropleth(metric: CUSTOMERS) } }",
        {"c": world.township1.code},
    )
    collection = body["data"]["gridNode"]["childrenGeojson"]
    assert collection["type"] == "FeatureCollection"
    features = {f["properties"]["name"]: f for f in collection["features"]}
    assert features["张庄村"]["geometry"] == SQUARE
    assert features["张庄村"]["properties"]["value"] == 1.0
    assert features["李庄村"]["geometry"] is None
    png = base64.b64decode(body["data"]["gridNode"]["choropleth"].removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 1000


async def test_kpis_before_any_roll_up_are_null(api: Api, world: World) -> None:
    body = await api.as_(
        "head",
        'query { gridNode(code: "320324") { kpi { customers } childRanking(metric: CUSTOMERS) { rank } } }',
    )
    assert body["data"]["gridNode"] == {"kpi": None, "childRanking": []}


ROLL_UP = "mutation($p: String) { rollUpKpis(period: $p) { __typename ... on JobError { code field messageEn } } }"


@pytest.mark.parametrize(
    ("period", "message_en"),
    [
        ("２０２６-01", "period must be YYYY-MM (e.g. 2026-01)"),  # full-width digits
        ("0000-01", "period must be between 2000-01 and "),
        ("1999-12", "period must be between 2000-01 and "),
        ("2099-01", "period must be between 2000-01 and "),
        ("2026-1", "period must be YYYY-MM (e.g. 2026-01)"),
    ],
)
async def test_a_roll_up_for_a_period_that_is_no_month_starts_nothing(
    api: Api, world: World, period: str, message_en: str
) -> None:
    body = await api.as_("head", ROLL_UP, {"p": period})
    result = body["data"]["rollUpKpis"]
    assert (result["__typename"], result["code"], result["field"]) == ("JobError", "INVALID_VALUE", "period")
    assert result["messageEn"].startswith(message_en)
    assert await Job.all().count() == 0


async def test_a_period_with_a_line_break_starts_nothing(api: Api, world: World) -> None:
    body = await api.as_("head", ROLL_UP, {"p": "2026-01\n"})
    assert body["data"] is None
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("VALUE_TOO_LONG", "period")
    ]
    assert await Job.all().count() == 0


@pytest.mark.parametrize(
    "field",
    [
        "kpi(period: $p) { period }",
        "childRanking(metric: CUSTOMERS, period: $p) { rank }",
        "childrenGeojson(period: $p)",
        "choropleth(period: $p)",
    ],
)
@pytest.mark.parametrize("period", ["２０２６-11", "0000-01", "2099-01"])
async def test_kpi_queries_refuse_a_period_that_is_no_month(api: Api, world: World, field: str, period: str) -> None:
    await roll_up_kpis("2026-11")
    body = await api.as_(
        "head",
        f"query($c: String!, $p: String) {{ gridNode(code: $c) {{ {field} }} }}",
        {"c": world.county.code, "p": period},
    )
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("INVALID_VALUE", "period")
    ]


async def test_kpi_queries_read_a_valid_period(api: Api, world: World) -> None:
    await roll_up_kpis("2026-11")
    body = await api.as_(
        "head",
        'query($c: String!) { gridNode(code: $c) { kpi(period: "2026-11") { period } } }',
        {"c": world.county.code},
    )
    assert body == {"data": {"gridNode": {"kpi": {"period": "2026-11"}}}}


async def test_roll_up_refuses_a_period_that_is_no_month(world: World) -> None:
    with pytest.raises(DomainError) as caught:
        await roll_up_kpis("２０２６-11")
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_VALUE, "period")
    assert await GridKpi.all().count() == 0
