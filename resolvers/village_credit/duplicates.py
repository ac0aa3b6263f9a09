"""The duplicate queue of a campaign (查重): a background run (village_dedup) that looks for the same person in two
of the campaign's surveys, or in one of them and a survey of another campaign of the county, and queues each
pair of surveys once with its score and reasons; and the decision on a queued pair — confirmed, the duplicate
survey is merged into the kept one; rejected, both stay as they are.

Invariants:
- A pair of surveys is queued once, whichever campaign's run found it and however often a run is repeated
  (`survey_id, other_id` unique; a run skips pairs queued either way round; a chunk's rows commit with it).
- A merged survey keeps its row, marked `merged_into` the kept one, for its history: its people not already in
  the kept household are moved there (members table and the kept survey's member list), the rest stay; the
  audit row holds both surveys' members before the merge, and the collectors are told.
- A merge stands: each moved person is marked in the kept survey's member list with the survey it came from, so
  a later edit of the kept survey (a phone that had not heard of the merge, the same sheet sent again) keeps
  them and the list of merged surveys (resolvers/village_credit/surveys.py `with_merges`).
- Deciding is idempotent (the same decision sent again answers as the first time) and the first decision wins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from domain.access import Actor
from domain.customers.masking import mask_id_number, mask_phone
from domain.errors import DomainError, forbidden, not_found
from domain.grid.paths import ancestor_paths
from domain.text import checked_text
from domain.village_credit import dedup
from domain.village_credit.campaign_workflow import CampaignFacts
from domain.village_credit.errors import VillageCreditErrorCode as Code
from models import DuplicateCandidate, HouseholdSurvey, Job, SurveyMember, VillageCampaign
from resolvers.platform import jobs
from resolvers.platform.db import insert_rows
from resolvers.platform.job_kinds import ChunkRun, Described, Finishing, GridScope, JobKind
from resolvers.platform.pagination import Page, paginate
from resolvers.platform.unit_of_work import unit_of_work
from resolvers.village_credit import campaigns, policy
from resolvers.village_credit.surveys import MOVED_FROM

PEOPLE_PER_CHUNK = 20_000  # a chunk scores the blocks of all the people, but only its share of the pairs
MAX_CHUNKS = 16
MEMBER_SLOTS = 64  # a person's ref: survey id × 64 + their place in the survey (at most 30 members)
ORDERING = (("score", True), ("id", False))  # the surest first
MAX_NOTE_LENGTH = 500


class DuplicateStatus(StrEnum):
    """OPEN: waiting for a person; CONFIRMED: merged; REJECTED: two households after all"""

    OPEN = "OPEN"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"


class DuplicateDecision(StrEnum):
    """CONFIRM: the same household, merge; REJECT: different people"""

    CONFIRM = "CONFIRM"
    REJECT = "REJECT"


@dataclass(frozen=True)
class DedupParams:
    campaign_id: int


@dataclass(frozen=True)
class DedupShard:
    part: int
    parts: int


@dataclass(frozen=True)
class DedupCounts:
    queued: int
    exact: int


@dataclass(frozen=True)
class VillageDedupReport:
    queued: Annotated[int, Described("Pairs of surveys queued by this run")]
    exact: Annotated[int, Described("Of them, certain: the same ID number")]
    probable: Annotated[int, Described("Of them, probable: scored and explained")]


# --- finding ---------------------------------------------------------------------------------------------------


async def _campaign_and_county(conn: BaseDBAsyncClient, campaign_id: int) -> tuple[VillageCampaign, str]:
    campaign = await VillageCampaign.filter(id=campaign_id).using_db(conn).select_related("village").get()
    above = ancestor_paths(campaign.village.path)
    return campaign, above[0] if above else campaign.village.path


def people_of(surveys: Sequence[dict[str, Any]]) -> list[dedup.PersonRecord]:
    """The people listed in surveys (rows with id, address, phone, details), each a record for the search."""
    records = []
    for s in surveys:
        for index, m in enumerate(s["details"].get("members", [])[:MEMBER_SLOTS]):
            birth = date.fromisoformat(m["birth_date"]) if m.get("birth_date") else None
            records.append(
                dedup.PersonRecord(
                    ref=s["id"] * MEMBER_SLOTS + index,
                    household=s["id"],
                    id_number=m["id_number"],
                    name=m["name"],
                    phone=m.get("phone") or s["phone"],
                    address=s["address"],
                    birth_date=birth,
                )
            )
    return records


async def _county_surveys(conn: BaseDBAsyncClient, county_path: str) -> list[dict[str, Any]]:
    rows = (
        await HouseholdSurvey.filter(campaign__village__path__startswith=county_path, merged_into_id=None)
        .using_db(conn)
        .values("id", "campaign_id", "address", "phone", "details")
    )
    return list(rows)


async def _plan(params: DedupParams, scope: GridScope, conn: BaseDBAsyncClient) -> list[DedupShard]:
    people = await SurveyMember.filter(campaign_id=params.campaign_id).using_db(conn).count()
    parts = max(1, min(MAX_CHUNKS, -(-people // PEOPLE_PER_CHUNK)))
    return [DedupShard(part, parts) for part in range(parts)]


def pairs_of(matches: Sequence[dedup.Match], own: set[int]) -> dict[tuple[int, int], list[dedup.Match]]:
    """The person matches grouped by pair of surveys, the campaign's own survey first (the smaller when both are)."""
    by_pair: dict[tuple[int, int], list[dedup.Match]] = defaultdict(list)
    for m in matches:
        a, b = m.a.household, m.b.household
        both_or_neither = (a in own) == (b in own)
        key = (min(a, b), max(a, b)) if both_or_neither else ((a, b) if a in own else (b, a))
        by_pair[key].append(m)
    return by_pair


def candidate_row(campaign_id: int, pair: tuple[int, int], found: list[dedup.Match], job_id: int | None,
                  at: datetime) -> dict[str, Any]:  # fmt: skip
    """The queued row of one pair of surveys: the best person match's score and rule, every match's reasons."""
    best = max(found, key=lambda m: m.score)
    reasons = []
    for m in sorted(found, key=lambda m: -m.score):
        mine, theirs = (m.a, m.b) if m.a.household == pair[0] else (m.b, m.a)
        for r in m.reasons:
            reasons.append({"code": r.code, "zh": r.zh, "en": r.en, "member": mine.ref % MEMBER_SLOTS,
                            "otherMember": theirs.ref % MEMBER_SLOTS, "score": m.score})  # fmt: skip
    return {
        "campaign_id": campaign_id,
        "survey_id": pair[0],
        "other_id": pair[1],
        "score": best.score,
        "rule": best.rule.value,
        "reasons": reasons,
        "status": DuplicateStatus.OPEN.value,
        "found_by_job": job_id,
        "found_at": at,
        "decided_by_id": None,
        "decided_at": None,
        "note": "",
    }


async def queue_duplicates(
    conn: BaseDBAsyncClient, campaign_id: int, shard: tuple[int, int] = (0, 1), job_id: int | None = None
) -> DedupCounts:
    """Search the campaign's people against the county's and queue the new pairs (this shard's share)."""
    _campaign, county = await _campaign_and_county(conn, campaign_id)
    surveys = await _county_surveys(conn, county)
    own = {s["id"] for s in surveys if s["campaign_id"] == campaign_id}
    matches = dedup.find_duplicates(people_of(surveys), probe=lambda r: r.household in own, shard=shard)
    by_pair = pairs_of(matches, own)
    involved = {s for pair in by_pair for s in pair}
    queued = (
        await DuplicateCandidate.filter(Q(survey_id__in=involved) | Q(other_id__in=involved))
        .using_db(conn)
        .values_list("survey_id", "other_id")
    )
    known = {frozenset(p) for p in queued}
    at = datetime.now(UTC)
    rows = [
        candidate_row(campaign_id, pair, found, job_id, at)
        for pair, found in sorted(by_pair.items())
        if frozenset(pair) not in known
    ]
    await insert_rows(DuplicateCandidate, rows, conn)
    return DedupCounts(len(rows), sum(r["rule"] == dedup.Rule.EXACT_ID.value for r in rows))


async def _run_chunk(run: ChunkRun[DedupParams, DedupShard]) -> DedupCounts:
    return await queue_duplicates(run.conn, run.params.campaign_id, (run.chunk.part, run.chunk.parts), run.job_id)


async def _finish(finishing: Finishing[DedupParams], results: Sequence[DedupCounts]) -> VillageDedupReport:
    queued = sum(r.queued for r in results)
    exact = sum(r.exact for r in results)
    return VillageDedupReport(queued, exact, queued - exact)


VILLAGE_DEDUP = JobKind(
    name="village_dedup",
    title_zh="整村授信查重",
    title_en="village survey de-duplication",
    params=DedupParams,
    report=VillageDedupReport,
    chunk=DedupShard,
    chunk_result=DedupCounts,
    plan=_plan,
    run_chunk=_run_chunk,
    finish=_finish,
)


async def _working(actor: Actor, campaign_id: int, field: str) -> tuple[VillageCampaign, CampaignFacts]:
    campaign, facts = await campaigns.find_campaign(actor, campaign_id, field)
    if not policy.works_duplicates(actor, facts):
        raise forbidden("查看或处理本活动的查重", "work this campaign's duplicate queue")
    return campaign, facts


async def start_dedup(actor: Actor, campaign_id: int) -> Job:
    """Start a search of the campaign's surveys for duplicates (or join the one under way for its village)."""
    campaign, _facts = await _working(actor, campaign_id, "campaignId")
    village = await campaign.village
    return await jobs.start(
        VILLAGE_DEDUP, DedupParams(campaign.id), scope=GridScope(village.path), created_by=actor.staff_id
    )


# --- reading ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveySide:
    survey_id: int
    campaign_id: int
    head_name: str
    head_id_number: str
    phone: str | None
    address_group: str
    collector_id: int
    merged_into_id: int | None


@dataclass(frozen=True)
class CandidateView:
    candidate: DuplicateCandidate
    survey: SurveySide
    other: SurveySide
    masked: bool


def _side(s: HouseholdSurvey, masked: bool) -> SurveySide:
    return SurveySide(
        survey_id=s.id,
        campaign_id=s.campaign_id,  # type: ignore[attr-defined]
        head_name=s.head_name,
        head_id_number=mask_id_number(s.head_id_number) if masked else s.head_id_number,
        phone=mask_phone(s.phone) if masked else s.phone,
        address_group=dedup.address_key(dedup.normalize_address(s.address)) if not masked else "",
        collector_id=s.collector_id,  # type: ignore[attr-defined]
        merged_into_id=s.merged_into_id,  # type: ignore[attr-defined]
    )


async def list_candidates(
    actor: Actor, campaign_id: int, status: DuplicateStatus | None, first: int | None, after: str | None
) -> tuple[Page[CandidateView], bool]:
    """The campaign's queue, the surest first; the surveys' ID numbers and phones masked per the policy."""
    _campaign, facts = await _working(actor, campaign_id, "id")
    query = DuplicateCandidate.filter(campaign_id=campaign_id)
    if status is not None:
        query = query.filter(status=status.value)
    page = await paginate(query, ORDERING, first, after)
    masked = not policy.sees_personal_data(actor, facts)
    ids = {c.survey_id for c in page.items} | {c.other_id for c in page.items}  # type: ignore[attr-defined]
    surveys = {s.id: s for s in await HouseholdSurvey.filter(id__in=ids)}
    views = [
        CandidateView(c, _side(surveys[c.survey_id], masked), _side(surveys[c.other_id], masked), masked)  # type: ignore[attr-defined]
        for c in page.items
    ]
    return page.with_items(views), masked


# --- deciding --------------------------------------------------------------------------------------------------


def _refusal(code: Code, zh: str, en: str, field: str | None = None) -> DomainError:
    return DomainError(code, zh, en, field)


async def decide_duplicate(
    actor: Actor, candidate_id: int, decision: DuplicateDecision, *, keep_other: bool = False, note: str = ""
) -> CandidateView:
    """Confirm (merge the duplicate survey into the kept one: `survey` unless keep_other) or reject a queued pair.
    Only its campaign's collectors and first reviewer, and not the one collector who surveyed both households."""
    found = await DuplicateCandidate.get_or_none(id=candidate_id)
    if found is None:
        raise not_found("查重记录", "duplicate candidate", "id")
    try:
        _campaign, facts = await _working(actor, found.campaign_id, "id")  # type: ignore[attr-defined]
    except DomainError:
        raise not_found("查重记录", "duplicate candidate", "id") from None
    if not policy.may_decide_duplicate(actor, facts):
        raise _refusal(
            Code.WRONG_ROLE,
            "只有本活动的采集客户经理或初审人可以确认或排除重复",
            "only the campaign's collectors or its first reviewer may decide a duplicate",
            "id",
        )
    note = checked_text(note, field="note", what_zh="说明", what_en="note", max_length=MAX_NOTE_LENGTH)
    target = DuplicateStatus.CONFIRMED if decision == DuplicateDecision.CONFIRM else DuplicateStatus.REJECTED
    async with unit_of_work() as uow:
        candidate = await DuplicateCandidate.filter(id=candidate_id).select_for_update().first()
        assert candidate is not None  # candidates are deleted only with their surveys
        pair = await HouseholdSurvey.filter(id__in=[candidate.survey_id, candidate.other_id]).select_for_update()  # type: ignore[attr-defined]
        surveys = {s.id: s for s in pair}
        survey, other = surveys[candidate.survey_id], surveys[candidate.other_id]  # type: ignore[attr-defined]
        if policy.decides_own_double_entry(actor, frozenset({survey.collector_id, other.collector_id})):  # type: ignore[attr-defined]
            raise _refusal(
                Code.SEPARATION_OF_DUTIES,
                "两户都是您采集的:请由另一位采集客户经理或初审人确认",
                "you surveyed both households: another collector or the first reviewer decides",
                "id",
            )
        if candidate.status != DuplicateStatus.OPEN:
            if candidate.status == target:
                return await _view(actor, candidate, facts)
            raise _refusal(
                Code.DUPLICATE_ALREADY_DECIDED, "该查重记录已处理", "this duplicate was decided otherwise", "decision"
            )
        at = datetime.now(UTC)
        changes: dict[str, Any] = {"decision": decision.value, "score": candidate.score, "rule": candidate.rule}
        if decision == DuplicateDecision.CONFIRM:
            kept, merged = (other, survey) if keep_other else (survey, other)
            side = "member" if keep_other else "otherMember"
            matched = {int(r[side]) for r in candidate.reasons}
            changes |= await _merge(kept, merged, matched, at)
            for collector in {kept.collector_id, merged.collector_id}:  # type: ignore[attr-defined]
                await uow.notify(
                    collector,
                    "village_duplicate_merged",
                    f"调查已合并 / surveys merged: {merged.head_name}",
                    f"调查{merged.id}已确认与调查{kept.id}重复并合并 / survey {merged.id} merged into {kept.id}",
                    {"kept": kept.id, "merged": merged.id, "candidate": candidate.id},
                )
        candidate.status = target.value
        candidate.decided_by_id = actor.staff_id
        candidate.decided_at = at
        candidate.note = note
        await candidate.save(update_fields=["status", "decided_by_id", "decided_at", "note"])
        await uow.audit(actor, f"village_duplicate.{decision.value.lower()}", "DuplicateCandidate", candidate.id,
                        changes)  # fmt: skip
    return await _view(actor, candidate, facts)


async def _merge(kept: HouseholdSurvey, merged: HouseholdSurvey, matched: set[int], at: datetime) -> dict[str, Any]:
    """Mark `merged` merged into `kept` and move to `kept` the people of `merged` that matched nobody of it
    (`matched`: their places in merged, the same people as kept's under a mistyped number) and that no
    household of kept's campaign lists yet; returns what the audit row keeps of both before."""
    if kept.merged_into_id is not None or merged.merged_into_id is not None:  # type: ignore[attr-defined]
        raise _refusal(
            Code.SURVEY_ALREADY_MERGED,
            "其中一份调查已被合并到其他调查",
            "one of the surveys has already been merged into another",
            "id",
        )
    before = {"kept": kept.id, "merged": merged.id, "keptMembers": kept.details.get("members", []),
              "mergedMembers": merged.details.get("members", [])}  # fmt: skip
    kept_campaign = kept.campaign_id  # type: ignore[attr-defined]
    elsewhere = SurveyMember.filter(campaign_id=kept_campaign).exclude(survey_id=merged.id)
    taken = set(await elsewhere.values_list("id_number", flat=True))
    moved = [
        m for i, m in enumerate(merged.details.get("members", [])) if i not in matched and m["id_number"] not in taken
    ]
    numbers = [m["id_number"] for m in moved]
    if numbers:
        await SurveyMember.filter(survey_id=merged.id, id_number__in=numbers).update(
            survey_id=kept.id, campaign_id=kept_campaign
        )
        # the kept household has its head: whoever headed the merged one joins it as another member
        await SurveyMember.filter(survey_id=kept.id, id_number__in=numbers, relation="HEAD").update(relation="OTHER")
        kept.details = {**kept.details, "members": [*kept.details.get("members", []), *(
            {**m, "relation": "OTHER" if m["relation"] == "HEAD" else m["relation"], MOVED_FROM: merged.id}
            for m in moved)]}  # fmt: skip
    kept.details = {**kept.details, "merged_from": [*kept.details.get("merged_from", []), merged.id]}
    kept.updated_at = at
    await kept.save(update_fields=["details", "updated_at"])
    merged.merged_into_id = kept.id
    merged.updated_at = at
    await merged.save(update_fields=["merged_into_id", "updated_at"])
    return before | {"moved": numbers}


async def _view(actor: Actor, candidate: DuplicateCandidate, facts: CampaignFacts) -> CandidateView:
    masked = not policy.sees_personal_data(actor, facts)
    survey = await HouseholdSurvey.get(id=candidate.survey_id)  # type: ignore[attr-defined]
    other = await HouseholdSurvey.get(id=candidate.other_id)  # type: ignore[attr-defined]
    return CandidateView(candidate, _side(survey, masked), _side(other, masked), masked)


async def get_candidate(actor: Actor, candidate_id: int) -> CandidateView:
    """One queued pair, if the actor works its campaign's queue; NOT_FOUND otherwise."""
    candidate = await DuplicateCandidate.get_or_none(id=candidate_id)
    if candidate is None:
        raise not_found("查重记录", "duplicate candidate", "id")
    try:
        _campaign, facts = await _working(actor, candidate.campaign_id, "id")  # type: ignore[attr-defined]
    except DomainError:
        raise not_found("查重记录", "duplicate candidate", "id") from None
    return await _view(actor, candidate, facts)
