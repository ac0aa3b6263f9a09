"""Screening a campaign's surveyed households (筛查): each onto the black, grey or white list with its reasons, and
each white household's pre-approved limit (预授信额度), from the campaign's decision pair — run as a job
(`village_screening`), a chunk per thousand surveys, so a large village is shared by the workers.

Screening again (after the core-banking feed or the court list was refreshed) replaces each household's
PROPOSED or EXCLUDED row and its decision records; a chunk writes its rows in a few multi-row statements. Every
decision is kept with its inputs, outputs, file version and hash, and the file's text once per hash, so the list
and the limit can be replayed, years later, to the same answer."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from domain.access import Actor
from domain.credit.decisions import Replay
from domain.customers.idcard import stored_birth_date
from domain.village_credit import household_workflow
from domain.village_credit.campaign_workflow import CampaignState
from domain.village_credit.household_workflow import HouseholdAction, HouseholdState
from domain.village_credit.screening import (
    CollectorRating,
    CoreFacts,
    HouseholdFacts,
    LimitBounds,
    Outcome,
    Reason,
    RiskFlag,
    screen_households,
)
from models import (
    CoreCustomerRecord,
    DecisionFileVersion,
    EnforcementListEntry,
    HouseholdScreening,
    HouseholdSurvey,
    Job,
    SurveyMember,
    VillageCampaign,
    VillageDecisionRecord,
)
from resolvers.credit import applications as apps
from resolvers.credit.decision_records import keep_files
from resolvers.platform import jobs, outbox
from resolvers.platform.db import any_of, connection, dialect, fetch, insert_rows, placeholders
from resolvers.platform.job_kinds import ChunkRun, Described, Finishing, GridScope, JobKind
from resolvers.platform.unit_of_work import unit_of_work
from resolvers.village_credit import campaigns

KIND = "village_screening"
CHUNK_SURVEYS = 1000
PRODUCT_CODE = "zhengcun"
REPLACEABLE = (HouseholdState.PROPOSED.value, HouseholdState.EXCLUDED.value)


@dataclass(frozen=True)
class ScreeningParams:
    campaign_id: int


@dataclass(frozen=True)
class SurveyRange:
    """The campaign's surveys from first_id to last_id, both included."""

    first_id: int
    last_id: int


@dataclass(frozen=True)
class ScreenedCounts:
    white: int
    grey: int
    black: int


@dataclass(frozen=True)
class ScreeningReport:
    white: Annotated[int, Described("Households on the white list, with a pre-approved limit")]
    grey: Annotated[int, Described("Households on the grey list (deferred, to be verified)")]
    black: Annotated[int, Described("Households on the black list")]


def bounds() -> LimitBounds:
    """The 整村授信 product's amount range, as its file in rules/products gives it today."""
    product = apps.catalogue().current(PRODUCT_CODE, datetime.now(UTC).date())
    return LimitBounds(int(product.amount.min), int(product.amount.max))


async def screen_campaign(actor: Actor, campaign_id: int) -> Job:
    """Start (or join) the screening of the campaign's households: a collector of the campaign, while it
    screens. Refused, nothing written, otherwise."""
    campaign, facts = await campaigns.find_campaign(actor, campaign_id, "campaignId")
    household_workflow.check(
        HouseholdAction.SCREEN,
        actor,
        household_workflow.HouseholdFacts(None, facts.state, facts.collector_ids, facts.approver_id),
        "campaignId",
    )
    async with unit_of_work() as uow:
        job = await jobs.start(
            VILLAGE_SCREENING,
            ScreeningParams(campaign.id),
            scope=GridScope(facts.village_path),
            created_by=actor.staff_id,
            using_db=uow.conn,
        )
        await uow.audit(actor, "village_campaign.screen", "VillageCampaign", campaign.id, {"job": job.id})
        uow.on_commit(outbox.wake)
    return job


async def unscreened_count(campaign_id: int) -> int:
    """Surveys of the campaign with no screening yet: a campaign with any cannot go to review."""
    return (
        await HouseholdSurvey.filter(campaign_id=campaign_id).count()
        - await HouseholdScreening.filter(campaign_id=campaign_id).count()
    )


async def _plan(params: ScreeningParams, scope: GridScope, conn: Any) -> list[SurveyRange]:
    ids: list[Any] = list(
        await HouseholdSurvey.filter(campaign_id=params.campaign_id)
        .using_db(conn)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [
        SurveyRange(int(ids[i]), int(ids[min(i + CHUNK_SURVEYS, len(ids)) - 1]))
        for i in range(0, len(ids), CHUNK_SURVEYS)
    ]


def _amount(value: Any) -> Decimal:
    """A money or area column as a Decimal: PostgreSQL's driver reads it as one already, SQLite as text or a
    number."""
    return value if type(value) is Decimal else Decimal(str(value or 0))


def _day(value: Any) -> date:
    """The survey's day in UTC, as the database gives it: a date on PostgreSQL, its ISO text on SQLite."""
    return value if type(value) is date else date.fromisoformat(str(value))


_RATINGS = {rating.value: rating for rating in CollectorRating}
_FLAGS = {flag.value: flag for flag in RiskFlag}
_NO_FLAGS: frozenset[RiskFlag] = frozenset()


def _facts(
    survey: dict[str, Any], core: dict[str, dict[str, Any]], listed: set[str], members: list[str]
) -> HouseholdFacts:
    head = core.get(survey["head_id_number"])
    rating = survey["collector_rating"]
    flags = _json(survey["risk_flags"])
    return HouseholdFacts(
        survey_id=survey["id"],
        head_birth_date=stored_birth_date(survey["head_id_number"]),
        surveyed_on=_day(survey["surveyed_on"]),
        annual_income=_amount(survey["annual_income"]),
        annual_expenses=_amount(survey["annual_expenses"]),
        assets=_amount(survey["house_value"]) + _amount(survey["vehicle_value"]) + _amount(survey["machinery_value"]),
        land_mu=_amount(survey["land_contracted_mu"]) + _amount(survey["land_rented_mu"]),
        debts_elsewhere=sum((_amount(d.get("amount")) for d in _json(survey["debts"]) or ()), Decimal(0)),
        collector_rating=_RATINGS[rating] if rating else None,
        risk_flags=frozenset(_FLAGS[f] for f in flags) if flags else _NO_FLAGS,
        core=None
        if head is None
        else CoreFacts(
            overdue_days=head["overdue_days"],
            max_overdue_days=head["max_overdue_days"],
            npl_history=bool(head["npl_history"]),
            loan_balance=_amount(head["loan_balance"]),
            deposit_balance=_amount(head["deposit_balance"]),
        ),
        on_enforcement_list=any(number in listed for number in members),
    )


# What screening reads of a survey's details (its JSON column): the whole of it holds the members, crops, photos
# and notes too, and decoding all that for 200,000 surveys cost more than both decisions on them.
_DETAILS_READ = ("debts", "collector_rating", "risk_flags")
_DETAILS_AS_TEXT = {"collector_rating"}  # a string; the others arrays, read as JSON text
_EMPTY = (None, "[]", "null")  # most surveys note no debts and no risks: nothing to decode


def _detail(conn: Any, key: str) -> str:
    """One key of the details by the database's own JSON operator: a string as text, an array as JSON text."""
    if dialect(conn) == "postgres":
        return f"details->>'{key}'" if key in _DETAILS_AS_TEXT else f"details->'{key}'"
    return f"json_extract(details, '$.{key}')"


def _json(text: Any) -> Any:
    return None if text in _EMPTY else json.loads(text)


def _surveys_sql(conn: Any) -> str:
    """The columns screening reads of a range of the campaign's surveys, as plain rows (no model to build): the
    survey's day in UTC, the money and land columns, the three keys of the details."""
    table = HouseholdSurvey._meta.db_table
    day = "(surveyed_at AT TIME ZONE 'UTC')::date" if dialect(conn) == "postgres" else "date(surveyed_at)"
    first, last, campaign = placeholders(conn, 0, 3)
    details = ", ".join(f"{_detail(conn, key)} AS {key}" for key in _DETAILS_READ)
    return (
        f"SELECT id, head_id_number, {day} AS surveyed_on, annual_income, annual_expenses, house_value, "
        f"vehicle_value, machinery_value, land_contracted_mu, land_rented_mu, {details} FROM {table} "
        f"WHERE id >= {first} AND id <= {last} AND campaign_id = {campaign} ORDER BY id"
    )


async def facts_of(campaign_id: int, first_id: int, last_id: int) -> list[HouseholdFacts]:
    """The facts of the campaign's surveys in the range: four statements, whatever the number of households."""
    conn = connection()
    surveys = await fetch(_surveys_sql(conn), [first_id, last_id, campaign_id], conn)
    members: dict[int, list[str]] = {}
    campaign, first, last = placeholders(conn, 0, 3)
    for row in await fetch(
        f"SELECT survey_id, id_number FROM {SurveyMember._meta.db_table} WHERE campaign_id = {campaign} "
        f"AND survey_id >= {first} AND survey_id <= {last}",
        [campaign_id, first_id, last_id],
        conn,
    ):
        members.setdefault(row["survey_id"], []).append(row["id_number"])
    everyone = sorted({n for numbers in members.values() for n in numbers})
    heads = [s["head_id_number"] for s in surveys]
    core_is, core_params = any_of(conn, "id_number", heads)
    core = {
        r["id_number"]: r
        for r in await fetch(
            "SELECT id_number, overdue_days, max_overdue_days, npl_history, loan_balance, deposit_balance "
            f"FROM {CoreCustomerRecord._meta.db_table} WHERE {core_is}",
            core_params,
            conn,
        )
    }
    listed_is, listed_params = any_of(conn, "id_number", everyone)
    listed = {
        r["id_number"]
        for r in await fetch(
            f"SELECT id_number FROM {EnforcementListEntry._meta.db_table} WHERE {listed_is}", listed_params, conn
        )
    }
    return [_facts(s, core, listed, members.get(s["id"], [s["head_id_number"]])) for s in surveys]


@functools.lru_cache(maxsize=1024)
def _reasons(reasons: tuple[Reason, ...]) -> list[dict[str, str]]:
    """The reasons as stored: a few combinations for a whole county, each built once (read-only)."""
    return [{"code": r.code, "zh": r.zh, "en": r.en} for r in reasons]


async def write_outcomes(campaign_id: int, outcomes: Sequence[Outcome], at: datetime) -> None:
    """Replace the households' PROPOSED or EXCLUDED rows (and, by cascade, their decision records) with the new
    outcomes, in multi-row statements."""
    survey_ids = [o.survey_id for o in outcomes]
    conn = connection()
    table = HouseholdScreening._meta.db_table
    replaceable = ", ".join(f"'{state}'" for state in REPLACEABLE)
    surveys_are, params = any_of(conn, "survey_id", survey_ids)
    await conn.execute_query(f"DELETE FROM {table} WHERE {surveys_are} AND state IN ({replaceable})", params)
    await insert_rows(
        HouseholdScreening,
        [
            {"survey_id": o.survey_id, "campaign_id": campaign_id, "state": o.state, "colour": o.colour,
             "reasons": _reasons(o.reasons), "rating": o.rating, "proposed_limit": o.proposed_limit,
             "limit": o.proposed_limit, "screened_at": at, "updated_at": at, "call_back_note": "", "version": 1}
            for o in outcomes
        ],
    )  # fmt: skip
    written = await fetch(f"SELECT survey_id, id FROM {table} WHERE {surveys_are}", params)
    ids = {r["survey_id"]: r["id"] for r in written}
    await insert_rows(
        VillageDecisionRecord,
        [
            {
                "screening_id": ids[o.survey_id],
                "decision": e.decision,
                "version": e.version,
                "content_sha256": e.content_sha256,
                "inputs": e.inputs,
                "outputs": e.outputs,
                "fired_rules": [],
                "created_at": at,
            }
            for o in outcomes
            for e in o.evaluations
        ],
    )
    await keep_files({e.content_sha256: e for o in outcomes for e in o.evaluations}.values())


async def _run_chunk(run: ChunkRun[ScreeningParams, SurveyRange]) -> ScreenedCounts:
    """One thousand households screened and written, or none: a campaign that has left SCREENING meanwhile is
    not touched (its lists are under review)."""
    campaign = await VillageCampaign.filter(id=run.params.campaign_id).select_for_update().first()
    if campaign is None or campaign.state != CampaignState.SCREENING:
        return ScreenedCounts(0, 0, 0)
    households = await facts_of(campaign.id, run.chunk.first_id, run.chunk.last_id)
    decisions = (campaign.screening_decision, campaign.limit_decision)
    outcomes = screen_households(apps.decisions(), households, bounds(), decisions)
    await write_outcomes(campaign.id, outcomes, datetime.now(UTC))
    colours = [o.colour.value for o in outcomes]
    return ScreenedCounts(colours.count("WHITE"), colours.count("GREY"), colours.count("BLACK"))


async def _finish(finishing: Finishing[ScreeningParams], results: Sequence[ScreenedCounts]) -> ScreeningReport:
    return ScreeningReport(
        white=sum(r.white for r in results), grey=sum(r.grey for r in results), black=sum(r.black for r in results)
    )


VILLAGE_SCREENING = JobKind(
    name=KIND,
    title_zh="整村授信筛查",
    title_en="whole-village screening",
    params=ScreeningParams,
    chunk=SurveyRange,
    chunk_result=ScreenedCounts,
    report=ScreeningReport,
    plan=_plan,
    run_chunk=_run_chunk,
    finish=_finish,
)


async def replay_household(actor: Actor, screening_id: int) -> list[Replay]:
    """Each decision recorded on the household evaluated again on the file text it was decided with (and so
    the rules that fired, by name): `matches` says the answer is the same."""
    screening, _campaign, _facts = await campaigns.find_household(actor, screening_id)
    book = apps.decisions()
    replays = []
    for record in await VillageDecisionRecord.filter(screening_id=screening.id).order_by("id"):
        stored = {
            "decision": record.decision,
            "version": record.version,
            "content_sha256": record.content_sha256,
            "inputs": record.inputs,
            "outputs": record.outputs,
        }
        content = None
        if book.file(record.decision).sha256 != record.content_sha256:
            kept = await DecisionFileVersion.get_or_none(content_sha256=record.content_sha256)
            content = kept.content if kept else None
        replays.append(book.replay(stored, content))
    return replays
