"""The whole-village credit funnel per campaign, village, township or county (domain.village_credit.funnel): counts
at every step, each collecting manager's progress, coverage by village; as figures, an XLSX workbook, a funnel
chart and a coverage map.

Who sees it: whoever may see a campaign sees its funnel; a node's funnel follows the grid's KPI rule (head office
everywhere, branch presidents and customer managers inside their own subtrees) and counts only the campaigns the
reader may see, in the villages whose figures they may read. Every count is one grouped statement over the
campaigns in scope, whatever their number (the campaigns and villages are subqueries, never lists in the text).
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import xlsxwriter
from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from domain.access import Actor
from domain.errors import forbidden
from domain.village_credit.campaign_workflow import CampaignState
from domain.village_credit.funnel import FunnelStep, StepFigure, coverage, steps_of
from domain.village_credit.household_workflow import HouseholdState, ListColour
from geo.maps import choropleth_png, cjk_font
from models import GridLevel, GridNode, Household, HouseholdScreening, HouseholdSurvey, Loan, Staff, VillageCampaign
from resolvers.grid import browse
from resolvers.grid import policy as grid_policy
from resolvers.village_credit import campaigns, policy

REVIEWED_STATES = (
    CampaignState.BRANCH_APPROVAL,
    CampaignState.PUBLISHED,
    CampaignState.ACCEPTED,
    CampaignState.CLOSED,
)
APPROVED_STATES = (HouseholdState.APPROVED, HouseholdState.CONFIRMED, HouseholdState.DECLINED, HouseholdState.SIGNED)
CALLED_BACK_STATES = (HouseholdState.CONFIRMED, HouseholdState.DECLINED, HouseholdState.SIGNED)


@dataclass(frozen=True)
class ManagerProgress:
    staff_id: int
    name: str
    surveyed: int
    white: int
    approved: int
    signed: int
    drew: int


@dataclass(frozen=True)
class VillageCoverage:
    village_id: int
    code: str
    name: str
    households: int
    surveyed: int

    @property
    def coverage(self) -> float | None:
        return coverage(self.surveyed, self.households)


@dataclass(frozen=True)
class Funnel:
    """The funnel of one scope: a campaign or a grid node (village, township, county)."""

    title_zh: str
    title_en: str
    campaigns: int
    steps: tuple[StepFigure, ...]
    black: int
    grey: int
    managers: tuple[ManagerProgress, ...]
    villages: tuple[VillageCoverage, ...] = field(default=())

    def count(self, step: FunnelStep) -> int:
        return next(f.count for f in self.steps if f.step == step)


@dataclass(frozen=True)
class _Scope:
    title_zh: str
    title_en: str
    campaigns: QuerySet[VillageCampaign]
    villages: QuerySet[GridNode]


async def _campaign_scope(actor: Actor, campaign_id: int) -> _Scope:
    campaign, _facts = await campaigns.find_campaign(actor, campaign_id, "campaignId")
    return _Scope(
        f"{campaign.village.name} {campaign.name}",
        f"campaign {campaign.id} ({campaign.village.code})",
        VillageCampaign.filter(id=campaign.id),
        GridNode.filter(id=campaign.village_id),  # type: ignore[attr-defined]
    )


async def _node_scope(actor: Actor, node_id: int) -> _Scope:
    node = await browse.get_node(actor, node_id, "nodeId")
    if not grid_policy.may_see_kpis(actor, node.path):
        raise forbidden("查看整村授信进度", "read whole-village credit progress here")
    villages = GridNode.filter(grid_policy.kpis_visible(actor), path__startswith=node.path, level=GridLevel.VILLAGE)
    in_villages = VillageCampaign.filter(policy.visible(actor), village_id__in=Subquery(villages.values("id")))
    return _Scope(node.name, node.code, in_villages, villages)


async def funnel(actor: Actor, *, campaign_id: int | None = None, node_id: int | None = None) -> Funnel:
    """The funnel of a campaign, or of every campaign the actor may see under a grid node."""
    scope = await (_campaign_scope(actor, campaign_id) if campaign_id is not None else _node_scope(actor, node_id or 0))
    campaign_ids = Subquery(scope.campaigns.values("id"))
    village_ids = Subquery(scope.campaigns.values("village_id"))
    households = await Household.filter(village_id__in=village_ids).count()
    surveys = HouseholdSurvey.filter(campaign_id__in=campaign_ids)
    surveyed = await surveys.count()
    screened = (
        await HouseholdScreening.filter(campaign_id__in=campaign_ids)
        .annotate(n=Count("id"), limited=Count("proposed_limit"))
        .group_by("campaign__state", "colour", "state")
        .values("campaign__state", "colour", "state", "n", "limited")
    )
    colours: Counter[str] = Counter()
    states: Counter[str] = Counter()
    proposed = reviewed = 0
    for row in screened:
        colours[row["colour"]] += row["n"]
        states[row["state"]] += row["n"]
        if row["colour"] == ListColour.WHITE:
            proposed += row["limited"]
            if row["campaign__state"] in REVIEWED_STATES:
                reviewed += row["n"]
    signed_rows = await HouseholdScreening.filter(campaign_id__in=campaign_ids, state=HouseholdState.SIGNED).values(
        "application_id", "survey__collector_id"
    )
    signed_applications = HouseholdScreening.filter(campaign_id__in=campaign_ids, state=HouseholdState.SIGNED).values(
        "application_id"
    )
    drew_applications: set[int] = {
        int(a)  # type: ignore[call-overload]
        for a in await Loan.filter(drawdown__line__application_id__in=Subquery(signed_applications))
        .distinct()
        .values_list("drawdown__line__application_id", flat=True)
    }
    counts = {
        FunnelStep.HOUSEHOLDS: households,
        FunnelStep.SURVEYED: surveyed,
        FunnelStep.WHITE: colours[ListColour.WHITE],
        FunnelStep.LIMIT_PROPOSED: proposed,
        FunnelStep.REVIEWED: reviewed,
        FunnelStep.APPROVED: sum(states[s] for s in APPROVED_STATES),
        FunnelStep.CALLED_BACK: sum(states[s] for s in CALLED_BACK_STATES),
        FunnelStep.SIGNED: states[HouseholdState.SIGNED],
        FunnelStep.DREW: len(drew_applications),
    }
    managers = await _managers(campaign_ids, signed_rows, drew_applications)
    villages = await _villages(scope.villages, campaign_ids) if node_id is not None else ()
    return Funnel(
        title_zh=scope.title_zh,
        title_en=scope.title_en,
        campaigns=await scope.campaigns.count(),
        steps=steps_of(counts),
        black=colours[ListColour.BLACK],
        grey=colours[ListColour.GREY],
        managers=managers,
        villages=villages,
    )


async def _managers(
    campaign_ids: Subquery, signed_rows: Sequence[dict[str, object]], drew_applications: set[int]
) -> tuple[ManagerProgress, ...]:
    surveyed = {
        r["collector_id"]: r["n"]
        for r in await HouseholdSurvey.filter(campaign_id__in=campaign_ids)
        .annotate(n=Count("id"))
        .group_by("collector_id")
        .values("collector_id", "n")
    }
    by_state: dict[int, Counter[str]] = defaultdict(Counter)
    for r in (
        await HouseholdScreening.filter(campaign_id__in=campaign_ids)
        .annotate(n=Count("id"))
        .group_by("survey__collector_id", "colour", "state")
        .values("survey__collector_id", "colour", "state", "n")
    ):
        tally = by_state[r["survey__collector_id"]]
        tally[r["colour"]] += r["n"]
        tally[r["state"]] += r["n"]
    drew: Counter[object] = Counter(
        r["survey__collector_id"] for r in signed_rows if r["application_id"] in drew_applications
    )
    names = dict(await Staff.filter(id__in=list(surveyed)).values_list("id", "display_name")) if surveyed else {}
    return tuple(
        ManagerProgress(
            staff_id=staff_id,
            name=str(names.get(staff_id, "")),
            surveyed=n,
            white=by_state[staff_id][ListColour.WHITE],
            approved=sum(by_state[staff_id][s] for s in APPROVED_STATES),
            signed=by_state[staff_id][HouseholdState.SIGNED],
            drew=drew[staff_id],
        )
        for staff_id, n in sorted(surveyed.items(), key=lambda item: (-item[1], item[0]))
    )


async def _villages(villages: QuerySet[GridNode], campaign_ids: Subquery) -> tuple[VillageCoverage, ...]:
    nodes = await villages.order_by("code").values("id", "code", "name")
    households = {
        r["village_id"]: r["n"]
        for r in await Household.filter(village_id__in=Subquery(villages.values("id")))
        .annotate(n=Count("id"))
        .group_by("village_id")
        .values("village_id", "n")
    }
    surveyed = {
        r["campaign__village_id"]: r["n"]
        for r in await HouseholdSurvey.filter(campaign_id__in=campaign_ids)
        .annotate(n=Count("id"))
        .group_by("campaign__village_id")
        .values("campaign__village_id", "n")
    }
    return tuple(
        VillageCoverage(n["id"], n["code"], n["name"], households.get(n["id"], 0), surveyed.get(n["id"], 0))
        for n in nodes
    )


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def workbook(result: Funnel) -> bytes:
    """The funnel as an XLSX workbook: the steps with their conversions, each manager's progress, and (for a grid
    node) coverage by village; headers in Chinese and English."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    share = book.add_format({"num_format": "0.0%"})
    sheet = book.add_worksheet("漏斗 Funnel")
    sheet.write_row(0, 0, ["环节 Step", "户数 Households", "转化率 Conversion"], bold)
    for row, figure in enumerate(result.steps, start=1):
        sheet.write_row(row, 0, [f"{figure.name_zh} {figure.name_en}", figure.count])
        if figure.conversion is not None:
            sheet.write_number(row, 2, figure.conversion, share)
    row = len(result.steps) + 2
    sheet.write_row(row, 0, ["黑名单 Black list", result.black])
    sheet.write_row(row + 1, 0, ["灰名单 Grey list", result.grey])
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, 2, 16)
    people = book.add_worksheet("客户经理 Managers")
    headers = ["客户经理 Manager", "已调查 Surveyed", "白名单 White", "已审批 Approved", "已签约 Signed", "已用信 Drew"]
    people.write_row(0, 0, headers, bold)
    for i, m in enumerate(result.managers, start=1):
        people.write_row(i, 0, [m.name, m.surveyed, m.white, m.approved, m.signed, m.drew])
    people.set_column(0, 5, 16)
    if result.villages:
        places = book.add_worksheet("覆盖 Coverage")
        places.write_row(
            0, 0, ["村代码 Code", "村 Village", "农户 Households", "已调查 Surveyed", "覆盖率 Coverage"], bold
        )
        for i, v in enumerate(result.villages, start=1):
            places.write_row(i, 0, [v.code, v.name, v.households, v.surveyed])
            if v.coverage is not None:
                places.write_number(i, 4, v.coverage, share)
        places.set_column(0, 4, 16)
    book.close()
    return buffer.getvalue()


def chart_png(result: Funnel, width_px: int = 900) -> bytes:
    """A funnel chart: one centred bar per step, its count and conversion beside it."""
    import matplotlib.pyplot as plt  # geo.maps has chosen the Agg backend

    font = cjk_font()
    labels = [f"{f.name_zh} {f.name_en}" if font else f.name_en for f in result.steps]
    counts = [f.count for f in result.steps]
    widest = max(counts) or 1
    dpi = 100
    fig, ax = plt.subplots(figsize=(width_px / dpi, width_px / dpi * 0.6), dpi=dpi)
    try:
        if font:
            plt.rcParams["font.family"] = font
        rows = range(len(counts))[::-1]
        ax.barh(list(rows), counts, left=[(widest - c) / 2 for c in counts], color="#3a7d44")
        for row, figure in zip(rows, result.steps, strict=True):
            text = f"{figure.count:,}" + (f"  ({_percent(figure.conversion)})" if figure.conversion is not None else "")
            ax.text(widest / 2, row, text, ha="center", va="center", color="white", fontsize=8)
        ax.set_yticks(list(rows), labels, fontsize=8)
        ax.set_xticks([])
        ax.set_title(result.title_zh if font else result.title_en)
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(fig)


async def coverage_map_png(actor: Actor, node_id: int) -> bytes:
    """A map of the node's villages shaded by the share of households surveyed."""
    result = await funnel(actor, node_id=node_id)
    shapes = await browse.polygons(actor, [v.village_id for v in result.villages])
    return choropleth_png(
        list(shapes),
        [v.coverage or 0.0 for v in result.villages],
        [v.name for v in result.villages],
        f"{result.title_zh} 整村授信覆盖率 / coverage",
        fallback_labels=[v.code[-3:] for v in result.villages],
        fallback_title=f"{result.title_en} whole-village credit coverage",
    )
