"""The access policy of whole-village credit campaigns and their household surveys (整村授信): who may see which
campaigns, and to whom the surveyed people's ID numbers and phones are shown in clear — predicate, query filter
and masking side by side, so that a detail page, a work list and a mask can never disagree.

- Head office sees every campaign, surveys in clear.
- A branch president sees the campaigns of the villages in their branch, surveys masked.
- A customer manager sees the campaigns of their villages and those they collect for; surveys in clear only
  where they are a collector (they sat in the household's kitchen), masked otherwise.
- A credit investigator sees the campaigns they are the named first reviewer of, surveys masked.
- An approver sees the campaigns waiting for the second review (复核) in their grid scope (anywhere, when they
  have none) and those they second-reviewed, surveys masked.
- The back office and the administrator see none.
Whoever sees a campaign sees its surveys and its screened households (lists, reasons, limits), the heads' ID
numbers masked by the same rule; the published list (张榜公示) is posted in the village, so it is always masked.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from tortoise.expressions import Q

from domain.access import Actor, Role
from domain.grid.paths import inside
from domain.village_credit.campaign_workflow import CampaignFacts, CampaignState
from resolvers.customers.policy import living_under


def _approver_reach(actor: Actor, facts: CampaignFacts) -> bool:
    waits = facts.state == CampaignState.SECOND_REVIEW
    if waits and (not actor.scope_paths or inside(facts.village_path, actor.scope_paths)):
        return True
    return facts.second_reviewer_id == actor.staff_id


def may_see(actor: Actor, facts: CampaignFacts) -> bool:
    if actor.is_head_office:
        return True
    in_grid = inside(facts.village_path, actor.scope_paths)
    if actor.has(Role.CUSTOMER_MANAGER) and (in_grid or actor.staff_id in facts.collector_ids):
        return True
    if actor.has(Role.BRANCH_PRESIDENT) and in_grid:
        return True
    if actor.has(Role.CREDIT_INVESTIGATOR) and facts.reviewer_id == actor.staff_id:
        return True
    return actor.has(Role.APPROVER) and _approver_reach(actor, facts)


def visible(actor: Actor) -> Q:
    """The campaigns the actor may see, as a filter on VillageCampaign: the same rule as may_see."""
    if actor.is_head_office:
        return Q()
    alternatives: list[Q] = []
    if actor.has(Role.CUSTOMER_MANAGER, Role.BRANCH_PRESIDENT) and actor.scope_paths:
        alternatives.append(living_under(actor.scope_paths))
    if actor.has(Role.CUSTOMER_MANAGER):
        alternatives.append(Q(collector_ids__contains=[actor.staff_id]))
    if actor.has(Role.CREDIT_INVESTIGATOR):
        alternatives.append(Q(reviewer_id=actor.staff_id))
    if actor.has(Role.APPROVER):
        waiting = Q(state=CampaignState.SECOND_REVIEW.value)
        if actor.scope_paths:
            waiting &= living_under(actor.scope_paths)
        alternatives.append(waiting)
        alternatives.append(Q(second_reviewer_id=actor.staff_id))
    return reduce(or_, alternatives) if alternatives else Q(id=-1)


def sees_personal_data(actor: Actor, facts: CampaignFacts) -> bool:
    """The masking decision for the campaign's surveys: ID numbers, phones, address and location in clear for
    head office and the campaign's collectors; reading them in clear is audited."""
    return actor.is_head_office or (actor.has(Role.CUSTOMER_MANAGER) and actor.staff_id in facts.collector_ids)


def personal_data_visible(actor: Actor) -> Q:
    """The campaigns whose surveys the actor reads in clear, as a filter on VillageCampaign."""
    if actor.is_head_office:
        return Q()
    if actor.has(Role.CUSTOMER_MANAGER):
        return Q(collector_ids__contains=[actor.staff_id])
    return Q(id=-1)


def may_plan(actor: Actor, village_path: str) -> bool:
    """Who plans a campaign (creates it): head office anywhere, a branch president in their branch."""
    return actor.is_head_office or (actor.has(Role.BRANCH_PRESIDENT) and inside(village_path, actor.scope_paths))


# --- the duplicate queue (查重) ---------------------------------------------------------------------------------
# Who works the queue of probable duplicates: the campaign's collectors (they know the households) and its first
# reviewer (who must not pass a household twice), plus head office, which sees everything. They see the queue,
# start a search and decide. Deciding is four-eyes where it can be: a collector may not decide a pair of which
# they surveyed both households alone (they would be judging their own double entry); the first reviewer or
# the other collector decides those. The queue shows the surveys' personal data masked as the surveys are.


def works_duplicates(actor: Actor, facts: CampaignFacts) -> bool:
    if actor.is_head_office:
        return True
    if actor.has(Role.CUSTOMER_MANAGER) and actor.staff_id in facts.collector_ids:
        return True
    return actor.has(Role.CREDIT_INVESTIGATOR) and facts.reviewer_id == actor.staff_id


def duplicates_visible(actor: Actor) -> Q:
    """The campaigns whose duplicate queue the actor works, as a filter on VillageCampaign: as works_duplicates."""
    if actor.is_head_office:
        return Q()
    alternatives: list[Q] = []
    if actor.has(Role.CUSTOMER_MANAGER):
        alternatives.append(Q(collector_ids__contains=[actor.staff_id]))
    if actor.has(Role.CREDIT_INVESTIGATOR):
        alternatives.append(Q(reviewer_id=actor.staff_id))
    return reduce(or_, alternatives) if alternatives else Q(id=-1)


def may_decide_duplicate(actor: Actor, facts: CampaignFacts) -> bool:
    """A collector of the campaign or its first reviewer (not head office: the decision is field knowledge)."""
    collector = actor.has(Role.CUSTOMER_MANAGER) and actor.staff_id in facts.collector_ids
    reviewer = actor.has(Role.CREDIT_INVESTIGATOR) and facts.reviewer_id == actor.staff_id
    return collector or reviewer


def decides_own_double_entry(actor: Actor, collectors_of_pair: frozenset[int]) -> bool:
    """Four-eyes: the one collector who surveyed both households may not decide they are one."""
    return collectors_of_pair == frozenset({actor.staff_id})


# --- the bank's own files --------------------------------------------------------------------------------------


def may_import_bank_files(actor: Actor) -> bool:
    """The core-banking customer file and the court's enforcement list are the bank's, county-wide: head office
    imports them, nobody else."""
    return actor.is_head_office
