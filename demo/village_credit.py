"""The demo's whole-village credit (整村授信 / 阳光信贷), taken through the use cases as its staff would:

- in the demo customer manager's first village, a campaign from planning to acceptance: the collector's offline
  batch of surveys sent twice (the second send stores nothing), screening, a limit lowered at the first review
  and confirmed at the second, the list published by the branch president, call-backs, signing, the first loans
  drawn and disbursed, accepted by head office;
- in two more villages of the same township, campaigns still at the first review and still collecting, so the
  township's funnel and coverage map show a branch at work.

Its own generator of the seed chooses the figures; rows after the county's, stamped with the clock.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from demo.village_surveys import village_surveys
from domain.access import Actor, Role
from domain.credit.classification import LoanClass
from domain.credit.enums import RepaymentMethod
from domain.grid.paths import inside
from domain.village_credit.campaign_workflow import CampaignAction
from domain.village_credit.household_workflow import HouseholdState, ListColour
from domain.village_credit.surveys import MAX_BATCH
from models import (
    CoreCustomerRecord,
    CreditLine,
    CreditReport,
    Customer,
    GridLevel,
    GridNode,
    HouseholdScreening,
    Staff,
    VillageCampaign,
)
from resolvers.credit import drawdowns
from resolvers.platform.auth import actor_for
from resolvers.village_credit import campaigns, reviews, screening, signing, surveys
from workers.settings import register_kinds

SIGNING = 6  # households of the demo village that sign after confirming
DRAWING = 3  # of them, the first loans drawn and disbursed
SURVEY_DAY = timedelta(days=20)  # the demo village was surveyed this long ago


@dataclass(frozen=True)
class _People:
    actors: dict[int, Actor]

    def first(self, role: Role, village: GridNode, *, but: frozenset[int] = frozenset()) -> Actor | None:
        return next(
            (a for _, a in sorted(self.actors.items()) if a.has(role) and a.staff_id not in but
             and (inside(village.path, a.scope_paths) or (not a.scope_paths and role != Role.CUSTOMER_MANAGER))),
            None,
        )  # fmt: skip

    def managers_of(self, village: GridNode) -> list[Actor]:
        return [a for _, a in sorted(self.actors.items())
                if a.has(Role.CUSTOMER_MANAGER) and inside(village.path, a.scope_paths)]  # fmt: skip

    def holding(self, role: Role) -> list[Actor]:
        return [a for _, a in sorted(self.actors.items()) if a.has(role)]


async def run_village_credit(manager_login: str, seed: int, progress: Callable[[str], object]) -> dict[str, int]:
    """The demo's campaigns; how many households reached which state in the demo village."""
    register_kinds()  # screening runs as a job, in this process
    rng = np.random.default_rng([seed, 11])
    people = _People({s.id: actor_for(s) for s in await Staff.all().prefetch_related("scope")})
    manager = next(a for a in people.actors.values() if a.username == manager_login)
    home = await GridNode.filter(scoped_staff__id=manager.staff_id, level=GridLevel.VILLAGE).order_by("code").first()
    if home is None:
        return {}
    township = await GridNode.get(id=home.parent_id)  # type: ignore[attr-defined]
    neighbours = (
        await GridNode.filter(parent_id=township.id, level=GridLevel.VILLAGE).exclude(id=home.id).order_by("code")
    )
    progress(f"整村授信:{home.name}从入户采集到首笔用信 / whole-village credit in {home.code}, surveys to loans")
    await _core_file(township)
    campaign = await _plan(people, home, manager)
    if campaign is None:
        return {}
    stored = await _collect(campaign, manager, home, rng, twice=True)
    await _screen(campaign, manager)
    await _review(campaign, people, manager)
    signed = await _sign(campaign, manager)
    await campaigns.move_campaign(people.holding(Role.HEAD_OFFICE)[0], campaign.id, CampaignAction.ACCEPT,
                                  "验收通过 / accepted")  # fmt: skip
    await _draw(signed[:DRAWING], manager, people)
    for village, stop in zip(neighbours[:2], ("review", "collecting"), strict=False):
        collector = next(iter(people.managers_of(village)), None)
        if collector is None:
            continue
        other = await _plan(people, village, collector)
        if other is None:
            continue
        if stop == "collecting":
            await _collect(other, collector, village, rng, share=0.5)
            continue
        await _collect(other, collector, village, rng)
        await _screen(other, collector)
        await campaigns.move_campaign(collector, other.id, CampaignAction.SUBMIT_FOR_REVIEW, "")
    states: list[str] = list(
        await HouseholdScreening.filter(campaign_id=campaign.id).values_list("state", flat=True)  # type: ignore[arg-type]
    )
    return {"surveyed": stored, **{s.value: states.count(s.value) for s in HouseholdState}}


async def _core_file(township: GridNode) -> None:
    """The core-banking file (核心系统客户信息) of the township's customers, as its feed would give them: balances
    and bindings from the customer records, overdue figures from their latest bureau report, NPL history from
    their loans' five-tier class."""
    customers = await Customer.filter(village__path__startswith=township.path).values(
        "id", "id_number", "name", "phone", "address", "deposit_balance", "loan_balance", "loan_class",
        "has_ebanking", "has_third_party_payment", "has_social_security_card",
    )  # fmt: skip
    reports: dict[int, dict[str, object]] = {}
    for r in (
        await CreditReport.filter(customer_id__in=[c["id"] for c in customers])
        .order_by("reported_on")
        .values("customer_id", "current_overdue_amount", "max_consecutive_overdue_24m")
    ):
        reports[r["customer_id"]] = r  # the latest wins
    now = datetime.now(UTC)
    await CoreCustomerRecord.bulk_create(
        [
            CoreCustomerRecord(
                id_number=c["id_number"], name=c["name"], phone=c["phone"], address=c["address"],
                deposit_balance=c["deposit_balance"], loan_balance=c["loan_balance"],
                overdue_amount=reports.get(c["id"], {}).get("current_overdue_amount", 0),
                overdue_days=30 if reports.get(c["id"], {}).get("current_overdue_amount") else 0,
                max_overdue_days=30 * int(reports.get(c["id"], {}).get("max_consecutive_overdue_24m") or 0),  # type: ignore[call-overload]
                npl_history=c["loan_class"] is not None and LoanClass(c["loan_class"]).non_performing,
                has_ebanking=c["has_ebanking"], has_third_party_payment=c["has_third_party_payment"],
                has_social_security_card=c["has_social_security_card"], as_of=now.date(), updated_at=now,
            )
            for c in customers
        ],
        batch_size=500,
    )  # fmt: skip


async def _plan(people: _People, village: GridNode, collector: Actor) -> VillageCampaign | None:
    president = people.first(Role.BRANCH_PRESIDENT, village)
    reviewer = people.first(Role.CREDIT_INVESTIGATOR, village, but=frozenset({collector.staff_id}))
    if president is None or reviewer is None:
        return None
    collectors = [collector.staff_id]
    view = await campaigns.create_campaign(
        president, village.id, f"{village.name}整村授信", collectors, reviewer.staff_id
    )
    await campaigns.move_campaign(collector, view.campaign.id, CampaignAction.START_COLLECTING, "")
    return view.campaign


async def _collect(
    campaign: VillageCampaign, collector: Actor, village: GridNode, rng: np.random.Generator, *,
    twice: bool = False, share: float = 1.0,
) -> int:  # fmt: skip
    """The collector's offline week sent as one batch (and, as a phone that lost its signal does, sent again)."""
    day = datetime.now(UTC) - SURVEY_DAY
    drafts = await village_surveys(village.id, day, rng)
    drafts = drafts[: max(1, round(len(drafts) * share))]
    stored = 0
    for start in range(0, len(drafts), MAX_BATCH):
        outcomes = await surveys.submit_surveys(collector, campaign.id, drafts[start : start + MAX_BATCH])
        stored += sum(1 for o in outcomes if o.status == surveys.SurveyStatus.SAVED)
        if twice:
            again = await surveys.submit_surveys(collector, campaign.id, drafts[start : start + MAX_BATCH])
            assert all(o.status != surveys.SurveyStatus.SAVED for o in again)
    if share >= 1.0:
        await campaigns.move_campaign(collector, campaign.id, CampaignAction.FINISH_COLLECTING, "")
    return stored


async def _screen(campaign: VillageCampaign, collector: Actor) -> None:
    from demo.pipeline import run_queued_work

    await screening.screen_campaign(collector, campaign.id)
    await run_queued_work()


async def _review(campaign: VillageCampaign, people: _People, collector: Actor) -> None:
    """Submitted by the collector; the first reviewer lowers one household's limit, the second reviewer
    confirms it; the branch president publishes."""
    village = await GridNode.get(id=campaign.village_id)  # type: ignore[attr-defined]
    await campaigns.move_campaign(collector, campaign.id, CampaignAction.SUBMIT_FOR_REVIEW, "")
    reviewer = people.actors[campaign.reviewer_id]  # type: ignore[attr-defined]
    white = await HouseholdScreening.filter(campaign_id=campaign.id, colour=ListColour.WHITE).order_by("id").first()
    proposal = None
    if white is not None and white.limit is not None and white.limit > 20000:
        lower = (Decimal(white.limit) * Decimal("0.8") // 1000) * 1000
        reason = "他行负债较多,额度下调 / debts elsewhere"
        proposal = await reviews.propose_limit_change(reviewer, white.id, lower, reason, white.version)
    await campaigns.move_campaign(reviewer, campaign.id, CampaignAction.COMPLETE_FIRST_REVIEW, "初审通过")
    approver = people.first(Role.APPROVER, village)
    assert approver is not None
    if proposal is not None:
        await reviews.decide_limit_change(approver, proposal.adjustment.id, True, "同意 / agreed")
    await campaigns.move_campaign(approver, campaign.id, CampaignAction.COMPLETE_SECOND_REVIEW, "复核通过")
    president = people.first(Role.BRANCH_PRESIDENT, village)
    assert president is not None
    await campaigns.move_campaign(president, campaign.id, CampaignAction.APPROVE_AND_PUBLISH, "同意公示")


async def _sign(campaign: VillageCampaign, collector: Actor) -> list[HouseholdScreening]:
    """Every approved household with a phone called back: the last declines, the first ones sign."""
    approved = await HouseholdScreening.filter(
        campaign_id=campaign.id, state=HouseholdState.APPROVED, survey__phone__isnull=False
    ).order_by("id")  # a household without a phone waits for a visit
    signed = []
    for number, household in enumerate(approved):
        if number == len(approved) - 1 and number > 0:
            await signing.call_back(collector, household.id, signing.CallBackOutcome.DECLINED, "暂无资金需求")
            continue
        await signing.call_back(collector, household.id, signing.CallBackOutcome.CONFIRMED, "本人确认需要额度")
        if number < SIGNING:
            step = await signing.sign(collector, household.id)
            signed.append(step.screening)
    return signed


async def _draw(signed: list[HouseholdScreening], marketer: Actor, people: _People) -> None:
    """The first loans on the new lines: requested, signed with the customer on camera, checked, disbursed."""
    back_office = people.holding(Role.BACK_OFFICE)
    for household in signed:
        line = await CreditLine.get(application_id=household.application_id)  # type: ignore[attr-defined]
        amount = min(Decimal(line.amount), Decimal(50000)) // 2000 * 1000
        drawdown = await drawdowns.request_drawdown(marketer, drawdowns.DrawdownDraft(
            client_id=f"village-{uuid.uuid4()}", line_id=line.id, amount=amount, term_months=12,
            repayment_method=RepaymentMethod.EQUAL_INSTALMENTS,
        ))  # fmt: skip
        customer = await Customer.get(id=line.customer_id)  # type: ignore[attr-defined]
        recording = drawdowns.Recording(
            sha256=hashlib.sha256(f"双录 {drawdown.contract_number}".encode()).hexdigest(), duration_seconds=280,
            recorded_at=datetime.now(UTC) - timedelta(minutes=3),
        )  # fmt: skip
        await drawdowns.sign(marketer, drawdown.id, drawdowns.Signature(
            contract_sha256=drawdown.contract_sha256, signer_name=customer.name, signer_id_number=customer.id_number,
            method=drawdowns.SigningMethod.FACE_RECOGNITION, recording=recording,
        ))  # fmt: skip
        checker = back_office[-1]
        await drawdowns.check(checker, drawdown.id, True)
        await drawdowns.disburse(next(b for b in back_office if b.staff_id != checker.staff_id), drawdown.id)
