"""After the list is published (阳光信贷 张榜公示): the phone call-back (电话回访) that confirms each approved household
wants its line, and the signing (签约) that gives a household that accepts a credit line in the credit factory,
ready for drawdown — each a step of the household's state machine (domain.village_credit.household_workflow),
written with the version it was read in, its audit row in the same unit of work.

Signing records, in one transaction:
- the household head as the bank's customer (the one already on file by ID number, or a new one in the
  campaign's village, managed by the signer, source SURVEY);
- a credit application of the whole-village product (整村授信, `zhengcun`) already approved: the survey was its
  investigation, the campaign's reviewers and branch president its approvers (they are its reviewers, so
  separation of duties holds in the credit factory as it did in the campaign), the household's screening and
  limit decisions copied to it as evaluated, and the product's rating decision run on the household's facts
  (the grade its drawdowns are priced on);
- the line (授信额度) for the reviewed limit, through the credit factory's own `grant_line`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from domain.access import Actor
from domain.credit.enums import GuaranteeType, RepaymentMethod
from domain.credit.process import StageName
from domain.credit.workflow import Action, ApplicationState
from domain.customers.enums import CustomerSource, Placement
from domain.customers.idcard import parse_id_number
from domain.errors import DomainError, ErrorCode
from domain.text import checked_text
from domain.village_credit import household_workflow as workflow
from domain.village_credit.campaign_workflow import CampaignFacts
from domain.village_credit.errors import VillageCreditErrorCode as Code
from domain.village_credit.household_workflow import HouseholdAction, HouseholdFacts, HouseholdState
from domain.village_credit.screening import credit_rating_inputs
from domain.village_credit.surveys import Relation
from models import (
    CreditApplication,
    CreditLine,
    Customer,
    DecisionRecord,
    HouseholdScreening,
    HouseholdSurvey,
    VillageCampaign,
    VillageDecisionRecord,
)
from resolvers.credit import applications as apps
from resolvers.credit.applications import catalogue
from resolvers.credit.approval import grant_line
from resolvers.platform.unit_of_work import unit_of_work
from resolvers.village_credit import campaigns
from resolvers.village_credit import screening as screening_cases

PRODUCT = "zhengcun"
MAX_NOTE_LENGTH = 500


class CallBackOutcome(StrEnum):
    CONFIRMED = "CONFIRMED"  # 农户确认需要额度
    DECLINED = "DECLINED"  # 农户放弃
    UNREACHABLE = "UNREACHABLE"  # 多次联系不上


@dataclass(frozen=True)
class HouseholdStep:
    """A household after a call-back or signing, with the line signing granted."""

    screening: HouseholdScreening
    line: CreditLine | None = None


def now() -> datetime:
    return datetime.now(UTC)


def household_facts(screening: HouseholdScreening, facts: CampaignFacts) -> HouseholdFacts:
    return HouseholdFacts(
        state=HouseholdState(screening.state),
        campaign_state=facts.state,
        collector_ids=facts.collector_ids,
        approver_id=facts.approver_id,
    )


def _stale() -> DomainError:
    return DomainError(
        ErrorCode.STALE_VERSION,
        "该户刚被他人处理,请刷新后再试",
        "someone has just acted on this household; reload it and try again",
        "expectedVersion",
    )


async def _write(screening: HouseholdScreening, expected: HouseholdState, **values: object) -> None:
    written = await HouseholdScreening.filter(id=screening.id, version=screening.version, state=expected).update(
        **values, version=screening.version + 1, updated_at=now()
    )
    if written != 1:
        raise _stale()
    for name, value in values.items():
        setattr(screening, name, value)
    screening.version += 1


async def call_back(
    actor: Actor,
    household_id: int,
    outcome: CallBackOutcome,
    note: str = "",
    expected_version: int | None = None,
) -> HouseholdStep:
    """The collector's phone call-back: CONFIRMED moves the household on to signing; DECLINED or UNREACHABLE
    records it as declined (a note saying why is required then)."""
    screening, _campaign, facts = await campaigns.find_household(actor, household_id)
    note = checked_text(
        note, field="note", what_zh="回访记录", what_en="call-back note", max_length=MAX_NOTE_LENGTH,
        required=outcome != CallBackOutcome.CONFIRMED,
    )  # fmt: skip
    action = HouseholdAction.CONFIRM_CALL_BACK if outcome == CallBackOutcome.CONFIRMED else HouseholdAction.DECLINE
    current = household_facts(screening, facts)
    workflow.check(action, actor, current)
    survey = await HouseholdSurvey.get(id=screening.survey_id)  # type: ignore[attr-defined]
    if outcome != CallBackOutcome.UNREACHABLE and not (survey.phone or _head_phone(survey)):
        raise DomainError(
            Code.NO_PHONE,
            "该户没有登记电话,无法电话回访;请上门核实并补录电话后再回访,或登记为联系不上",
            "the household has no phone on its survey: visit, add the phone to the survey and call again, "
            "or record it as unreachable",
            "householdId",
        )
    if expected_version is not None and expected_version != screening.version:
        raise _stale()
    target = workflow.TRANSITIONS[action].target
    assert target is not None
    at = now()
    async with unit_of_work() as uow:
        await _write(
            screening, HouseholdState(screening.state), state=target, called_back_at=at,
            called_back_by_id=actor.staff_id, call_back_note=f"{outcome.value}: {note}" if note else outcome.value,
        )  # fmt: skip
        await uow.audit(
            actor,
            f"village_household.{action.value}",
            "HouseholdScreening",
            screening.id,
            {"outcome": outcome.value, **({"note": note} if note else {})},
        )
    return HouseholdStep(screening)


async def sign(actor: Actor, household_id: int, expected_version: int | None = None) -> HouseholdStep:
    """The household signs for its reviewed limit: its line in the credit factory, ready for drawdown."""
    screening, campaign, facts = await campaigns.find_household(actor, household_id)
    workflow.check(HouseholdAction.SIGN, actor, household_facts(screening, facts))
    if expected_version is not None and expected_version != screening.version:
        raise _stale()
    survey = await HouseholdSurvey.get(id=screening.survey_id)  # type: ignore[attr-defined]
    product = catalogue().current(PRODUCT, now().date())
    limit = Decimal(screening.limit or 0)
    product.check_amount(limit, "limit")
    # the product's own rating decision, on the household's survey and core-banking facts: the grade its
    # drawdowns are priced on
    (facts_now,) = await screening_cases.facts_of(campaign.id, survey.id, survey.id)
    rating = apps.evaluate(product, "rating", credit_rating_inputs(facts_now, survey.operations))
    at = now()
    async with unit_of_work() as uow:
        customer = await _customer_of(actor, survey, campaign, at.date())
        application = await CreditApplication.create(
            client_id=f"village-household-{screening.id}",
            customer_id=customer.id,
            village_id=campaign.village_id,  # type: ignore[attr-defined]
            outlet_id=actor.outlet_id,
            marketer_id=actor.staff_id,
            product_code=product.code,
            product_version=product.version,
            product_sha256=product.content_hash,
            amount=limit,
            term_months=product.term.max_months,
            repayment_method=RepaymentMethod(product.repayment_methods[0]),
            guarantee_type=GuaranteeType.CREDIT,
            purpose=f"整村授信 {campaign.name}"[:200],
            state=ApplicationState.APPROVED,
            rating_grade=str(rating.outputs["grade"]),
            suggested_limit=screening.proposed_limit,
            recommended_limit=limit,
            approved_limit=limit,
            approver_ids=[facts.approver_id] if facts.approver_id else [],
            reviewer_ids=sorted({facts.reviewer_id, *(i for i in (facts.second_reviewer_id, facts.approver_id) if i)}),
            submitted_at=at,
            state_since=at,
            decided_at=at,
        )
        await _copy_decisions(screening.id, application.id)
        await apps.record_decisions(application.id, StageName.ADMISSION.value, [rating])
        await apps.entered(
            uow, application, Action.GRANT_BY_CAMPAIGN, actor,
            {"product": f"{product.code}@{product.version}", "amount": str(limit), "campaign": campaign.id,
             "household": screening.id},
        )  # fmt: skip
        line = await grant_line(application, product, limit, at.date())
        await _write(
            screening, HouseholdState.CONFIRMED, state=HouseholdState.SIGNED, signed_at=at,
            signed_by_id=actor.staff_id, customer_id=customer.id, application_id=application.id,
        )  # fmt: skip
        await uow.audit(
            actor,
            "village_household.sign",
            "HouseholdScreening",
            screening.id,
            {"application": application.id, "line": line.id, "limit": str(limit)},
        )
    return HouseholdStep(screening, line)


async def _customer_of(actor: Actor, survey: HouseholdSurvey, campaign: VillageCampaign, today: date) -> Customer:
    """The head of household as the bank's customer: the one on file by ID number, or a new one in the village."""
    existing = await Customer.get_or_none(id_number=survey.head_id_number)
    phone = survey.phone or _head_phone(survey)
    if existing is not None:
        if existing.phone is None and phone:
            await Customer.filter(id=existing.id, phone__isnull=True).update(phone=phone)
            existing.phone = phone
        return existing
    resident = parse_id_number(survey.head_id_number, today=today)
    return await Customer.create(
        id_number=resident.number,
        name=survey.head_name,
        birth_date=resident.birth_date,
        sex=resident.sex,
        phone=phone,
        address=survey.address,
        lon=survey.lon,
        lat=survey.lat,
        village_id=campaign.village_id,  # type: ignore[attr-defined]
        is_household_head=True,
        manager_id=actor.staff_id,
        placement=Placement.MANUAL,
        has_ebanking=False,
        source=CustomerSource.SURVEY,
    )


def _head_phone(survey: HouseholdSurvey) -> str | None:
    for member in (survey.details or {}).get("members", []):
        if member.get("relation") == Relation.HEAD.value and member.get("phone"):
            return str(member["phone"])
    return None


async def _copy_decisions(household_id: int, application_id: int) -> None:
    """The household's screening and limit decisions, as evaluated, on the application they approved."""
    records = await VillageDecisionRecord.filter(screening_id=household_id).order_by("id")
    await DecisionRecord.bulk_create(
        [
            DecisionRecord(
                application_id=application_id,
                stage=StageName.APPROVAL.value,
                decision=r.decision,
                version=r.version,
                content_sha256=r.content_sha256,
                inputs=r.inputs,
                outputs=r.outputs,
                fired_rules=r.fired_rules,
                created_at=r.created_at,
            )
            for r in records
        ]
    )
