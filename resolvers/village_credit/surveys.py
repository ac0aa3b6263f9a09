"""Household surveys sent from the collectors' app (入户采集), offline first: a batch of up to 500 answered survey
by survey, and the sync that lets a phone catch up with what the server holds.

Each survey's result follows from its `client_id` (the app's id, unique per campaign) and `client_version` (the
app's edit counter):
- SAVED: a client_id the campaign has not seen, every field checked, stored with its members.
- UPDATED: a known client_id of the same collector with a higher client_version: the newer edit replaces it.
- DUPLICATE: a known client_id with the same or a lower client_version: nothing changes (a batch sent three times
  stores each survey once, and an older edit arriving late never overwrites a newer one).
- ERROR: the first field at fault (`surveys[3].members[1].idNumber`), nothing of that survey stored.
Each survey is written in its own savepoint, so the good ones of a batch are stored whatever the others hold and
none is half-saved; a person is listed in one household per campaign (the database holds that too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from domain.access import Actor, Role
from domain.customers.masking import age_band, mask_address, mask_id_number, mask_phone
from domain.errors import DomainError
from domain.village_credit.campaign_workflow import CampaignState
from domain.village_credit.errors import VillageCreditErrorCode as Code
from domain.village_credit.surveys import MAX_BATCH, Member, Relation, Survey, check_survey
from models import HouseholdSurvey, SurveyMember, VillageCampaign
from resolvers.platform.pagination import decode_cursor, encode_cursor
from resolvers.platform.unit_of_work import unit_of_work
from resolvers.village_credit import campaigns, policy

SYNC_ORDERING = (("updated_at", False), ("id", False))
MAX_SYNC_PAGE = 500


class SurveyStatus(StrEnum):
    SAVED = "SAVED"
    UPDATED = "UPDATED"
    DUPLICATE = "DUPLICATE"
    ERROR = "ERROR"


@dataclass(frozen=True)
class MemberView:
    name: str
    relation: Relation
    id_number: str
    phone: str | None
    birth_date: date | None  # in clear only
    age_band: str


@dataclass(frozen=True)
class SurveyView:
    """A survey as its reader may see it: ID numbers, phones, address and location masked unless they collect
    for the campaign or are head office."""

    survey: HouseholdSurvey
    masked: bool
    members: tuple[MemberView, ...]
    phone: str | None
    address: str
    lon: float | None
    lat: float | None


@dataclass(frozen=True)
class SurveyOutcome:
    index: int
    client_id: str
    status: SurveyStatus
    survey: SurveyView | None = None
    error: DomainError | None = None


@dataclass(frozen=True)
class SyncPage:
    surveys: list[SurveyView]
    next_cursor: str | None
    has_more: bool


class _WrittenMeanwhileError(Exception):
    """Someone else wrote the same survey or person in between: answer this survey again from what is stored."""


def _refusal(code: Code, zh: str, en: str, field: str | None = None) -> DomainError:
    return DomainError(code, zh, en, field)


async def submit_surveys(actor: Actor, campaign_id: int, surveys: Sequence[Survey]) -> list[SurveyOutcome]:
    """Store a collector's batch, survey by survey (see the module's rules). Refused as a whole, nothing stored,
    when the batch is too long, the actor does not collect for the campaign or it is not collecting."""
    campaign, facts = await campaigns.find_campaign(actor, campaign_id, "campaignId")
    if len(surveys) > MAX_BATCH:
        raise _refusal(
            Code.TOO_MANY_SURVEYS, f"一次最多提交{MAX_BATCH}份调查", f"at most {MAX_BATCH} surveys a call", "surveys"
        )
    if not (actor.has(Role.CUSTOMER_MANAGER) and actor.staff_id in facts.collector_ids):
        raise _refusal(
            Code.NOT_A_COLLECTOR,
            "只有该活动的采集客户经理可以提交调查",
            "only a collecting customer manager of the campaign may submit surveys",
            "campaignId",
        )
    outcomes: list[SurveyOutcome] = []
    async with unit_of_work() as uow:
        # held until commit: a step out of COLLECTING waits for the batch, and a batch for the step
        locked = await VillageCampaign.filter(id=campaign.id).select_for_update().first()
        if locked is None or locked.state != CampaignState.COLLECTING:
            raise _refusal(
                Code.NOT_COLLECTING, "该活动当前不在入户采集阶段", "the campaign is not collecting", "campaignId"
            )
        # stamped after the lock: a campaign's batches commit in the order of their times, so a sync cursor
        # handed out between two batches never passes over a change still to commit
        at = datetime.now(UTC)
        for index, draft in enumerate(surveys):
            outcomes.append(await answer(actor.staff_id, campaign.id, index, draft, at))
        changed = [o for o in outcomes if o.status in (SurveyStatus.SAVED, SurveyStatus.UPDATED)]
        await uow.audit(
            actor,
            "village_survey.submit",
            "VillageCampaign",
            campaign.id,
            {
                "saved": [o.survey.survey.id for o in changed if o.status == SurveyStatus.SAVED and o.survey],
                "updated": [o.survey.survey.id for o in changed if o.status == SurveyStatus.UPDATED and o.survey],
                "duplicates": sum(o.status == SurveyStatus.DUPLICATE for o in outcomes),
                "errors": sum(o.status == SurveyStatus.ERROR for o in outcomes),
            },
        )
    return outcomes


async def answer(
    collector_id: int, campaign_id: int, index: int, draft: Survey, at: datetime, import_id: int | None = None
) -> SurveyOutcome:
    """One survey of a batch stored (or answered) by the module's rules, for the collector: the app's batches and
    the spreadsheet imports (resolvers/village_credit/imports.py, giving their `import_id`) both go through here.
    Call it inside the batch's unit of work, with the campaign locked and COLLECTING."""
    prefix = f"surveys[{index}]."
    client_id = draft.client_id.strip()
    for attempt in range(2):
        try:
            return await _store(collector_id, campaign_id, index, draft, at, import_id)
        except DomainError as error:
            field = prefix + error.field if error.field else prefix.rstrip(".")
            relabelled = DomainError(error.code, error.message_zh, error.message_en, field)
            return SurveyOutcome(index, client_id, SurveyStatus.ERROR, error=relabelled)
        except _WrittenMeanwhileError:
            if attempt == 1:
                break
    conflict = _refusal(
        Code.SURVEY_CONFLICT,
        "该调查与同时提交的另一份冲突,请重新提交",
        "this survey clashed with another sent at the same time; send it again",
        prefix + "clientId",
    )
    return SurveyOutcome(index, client_id, SurveyStatus.ERROR, error=conflict)


async def _store(
    collector_id: int, campaign_id: int, index: int, draft: Survey, at: datetime, import_id: int | None
) -> SurveyOutcome:
    client_id = draft.client_id.strip()
    existing = await HouseholdSurvey.get_or_none(campaign_id=campaign_id, client_id=client_id)
    if existing is not None:
        if existing.collector_id != collector_id:  # type: ignore[attr-defined]
            raise _refusal(
                Code.CLIENT_ID_REUSED,
                "该客户端编号已被其他客户经理的调查使用",
                "this client id belongs to another collector's survey",
                "clientId",
            )
        if draft.client_version <= existing.client_version:
            return SurveyOutcome(index, client_id, SurveyStatus.DUPLICATE, survey=view(existing, masked=False))
        kept_id = existing.merged_into_id  # type: ignore[attr-defined]
        if kept_id is not None:
            # its household is the kept survey's now (some of its people moved there): an edit made on a phone
            # that had not heard of the merge is refused whole, not half applied over the merge
            raise _refusal(
                Code.SURVEY_ALREADY_MERGED,
                f"该调查已作为重复户合并到调查{kept_id},请在该调查上修改",
                f"this survey was merged, as a duplicate, into survey {kept_id}; edit that one instead",
                "clientId",
            )
    survey = check_survey(draft, at)
    await _refuse_members_elsewhere(campaign_id, survey, existing)
    values = stored_columns(survey, at, import_id)
    if existing is not None:
        values = with_merges(values, existing.details)
    try:
        async with in_transaction():  # a savepoint: this survey whole or not at all
            if existing is None:
                stored = await HouseholdSurvey.create(
                    campaign_id=campaign_id,
                    client_id=survey.client_id,
                    collector_id=collector_id,
                    created_at=at,
                    **values,
                )
                status = SurveyStatus.SAVED
            else:
                written = await HouseholdSurvey.filter(id=existing.id, client_version=existing.client_version).update(
                    **values
                )
                if written != 1:
                    raise _WrittenMeanwhileError
                await SurveyMember.filter(survey_id=existing.id).delete()
                stored = await HouseholdSurvey.get(id=existing.id)
                status = SurveyStatus.UPDATED
            await SurveyMember.bulk_create(
                [
                    SurveyMember(
                        survey_id=stored.id, campaign_id=campaign_id, id_number=m["id_number"], relation=m["relation"]
                    )
                    for m in values["details"]["members"]
                ]
            )
    except IntegrityError:
        raise _WrittenMeanwhileError from None
    return SurveyOutcome(index, client_id, status, survey=view(stored, masked=False))


async def _refuse_members_elsewhere(campaign_id: int, survey: Survey, existing: HouseholdSurvey | None) -> None:
    """A person belongs to one household of a campaign: the head already heading another survey is a household
    surveyed twice; anyone else listed in another household is a member in two households."""
    numbers = [m.id_number for m in survey.members]
    others = SurveyMember.filter(campaign_id=campaign_id, id_number__in=numbers)
    if existing is not None:
        others = others.exclude(survey_id=existing.id)
    taken = {row.id_number: row.relation for row in await others}
    for i, member in enumerate(survey.members):
        if member.id_number not in taken:
            continue
        field = f"members[{i}].idNumber"
        if member.relation == Relation.HEAD and taken[member.id_number] == Relation.HEAD.value:
            raise _refusal(
                Code.HOUSEHOLD_ALREADY_SURVEYED,
                "该户已在本活动中调查过(同一户主,另一份调查)",
                "this household has already been surveyed in this campaign (same head, another survey)",
                field,
            )
        raise _refusal(
            Code.MEMBER_IN_ANOTHER_HOUSEHOLD,
            "此人已登记在本活动的另一户中",
            "this person is already listed in another household of this campaign",
            field,
        )


_AS_IS = frozenset({str, int, float, bool, type(None)})  # JSON already: most values, checked by type first


def _plain(value: Any) -> Any:
    """A value as JSON holds it: a Decimal as its text, a date or time in ISO 8601, an enum as its value."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {k: v if type(v) in _AS_IS else _plain(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _AS_IS else _plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _member_details(member: Member) -> dict[str, Any]:
    """A member as kept in the survey's details; written out rather than by asdict, which deep-copies each
    value (an import stores hundreds of thousands)."""
    return {
        "name": member.name,
        "id_number": member.id_number,
        "relation": member.relation.value,
        "age": member.age,
        "phone": member.phone,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
    }


def stored_columns(survey: Survey, at: datetime, import_id: int | None = None) -> dict[str, Any]:
    """The survey's row as stored (but its campaign, client id, collector and creation time), by the app or by
    the spreadsheet import `import_id`."""
    head = survey.head
    details = {
        "crops": [asdict(c) for c in survey.crops],
        "livestock": [asdict(a) for a in survey.livestock],
        "debts": [asdict(d) for d in survey.debts],
        "photos": [asdict(p) for p in survey.photos],
        "character": survey.character,
        "reputation": survey.reputation,
        "notes": survey.notes,
        "collector_rating": survey.collector_rating,
        "risk_flags": list(survey.risk_flags),
    }
    return {
        "client_version": survey.client_version,
        "head_id_number": head.id_number,
        "head_name": head.name,
        "surveyed_at": survey.surveyed_at,
        "phone": survey.phone,
        "address": survey.address,
        "lon": survey.lon,
        "lat": survey.lat,
        "land_contracted_mu": survey.land_contracted_mu,
        "land_rented_mu": survey.land_rented_mu,
        "annual_income": survey.annual_income,
        "annual_expenses": survey.annual_expenses,
        "house_value": survey.house_value,
        "vehicle_value": survey.vehicle_value,
        "machinery_value": survey.machinery_value,
        "operations": survey.operations,
        "details": {"members": [_member_details(m) for m in survey.members], **_plain(details)},
        "updated_at": at,
        "last_import_id": import_id,
    }


MOVED_FROM = "moved_from_survey"  # on a member a confirmed merge moved in: the survey it came from


def with_merges(values: dict[str, Any], stored_details: dict[str, Any]) -> dict[str, Any]:
    """The row `values` (stored_columns of a newer version) would write over the stored survey whose details
    are `stored_details`, keeping what confirmed merges brought into it: the people moved in from the merged
    duplicates (unless the newer version lists them itself) and the list of merged surveys. A phone's edit, or a
    sheet sent again, made before the merge was heard of corrects the household's own content and never undoes
    a merge a person confirmed."""
    merged_from = stored_details.get("merged_from")
    if not merged_from:
        return values
    details = values["details"]
    own = {m["id_number"] for m in details["members"]}
    moved = [m for m in stored_details.get("members", []) if MOVED_FROM in m and m["id_number"] not in own]
    return {**values, "details": {**details, "members": [*details["members"], *moved], "merged_from": merged_from}}


_NOT_CONTENT = frozenset({"client_version", "updated_at", "last_import_id"})


def same_content(stored: Mapping[str, Any], survey: Survey, at: datetime) -> bool:
    """Whether the survey says what the stored one (its row's values, as `.values()` reads them) says (its
    version, writer and time of writing aside, and what merges brought in kept): a spreadsheet sent again
    unchanged is a duplicate, a corrected row is not."""
    for key, value in with_merges(stored_columns(survey, at), stored["details"]).items():
        if key not in _NOT_CONTENT and stored[key] != value:
            return False
    return True


def view(survey: HouseholdSurvey, *, masked: bool) -> SurveyView:
    today = datetime.now(UTC).date()
    members = []
    for m in survey.details.get("members", []):
        birth = date.fromisoformat(m["birth_date"]) if m.get("birth_date") else None
        members.append(
            MemberView(
                name=m["name"],
                relation=Relation(m["relation"]),
                id_number=mask_id_number(m["id_number"]) if masked else m["id_number"],
                phone=mask_phone(m.get("phone")) if masked else m.get("phone"),
                birth_date=None if masked else birth,
                age_band=age_band(birth, today) if birth else "",
            )
        )
    return SurveyView(
        survey=survey,
        masked=masked,
        members=tuple(members),
        phone=mask_phone(survey.phone) if masked else survey.phone,
        address=mask_address(survey.address) if masked else survey.address,
        lon=None if masked else survey.lon,
        lat=None if masked else survey.lat,
    )


async def surveys_since(actor: Actor, campaign_id: int, cursor: str | None, first: int = MAX_SYNC_PAGE) -> SyncPage:
    """What the server holds of the campaign's surveys changed after the cursor, oldest change first, at most
    500 a page, with the cursor to ask with next (the same one when nothing changed)."""
    _campaign, facts = await campaigns.find_campaign(actor, campaign_id, "campaignId")
    if not 1 <= first <= MAX_SYNC_PAGE:
        raise DomainError(
            Code.TOO_MANY_ITEMS,
            f"每页条数须在1到{MAX_SYNC_PAGE}之间",
            f"first must be between 1 and {MAX_SYNC_PAGE}",
            "first",
        )
    query = HouseholdSurvey.filter(campaign_id=campaign_id)
    if cursor:
        changed_at, last_id = decode_cursor(HouseholdSurvey, SYNC_ORDERING, cursor)
        query = query.filter(Q(updated_at__gt=changed_at) | Q(updated_at=changed_at, id__gt=last_id))
    rows = list(await query.order_by("updated_at", "id").limit(first + 1))
    page = rows[:first]
    masked = not policy.sees_personal_data(actor, facts)
    next_cursor = encode_cursor(SYNC_ORDERING, page[-1]) if page else cursor
    return SyncPage([view(s, masked=masked) for s in page], next_cursor, len(rows) > first)
