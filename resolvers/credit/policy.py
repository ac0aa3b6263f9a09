"""The access policy of credit applications (授信申请): who may see which applications, and to whom the applicant's
personal data is shown in clear — predicate, query filter and masking side by side, so that a detail page, a
work list and a mask can never disagree.

- Head office sees every application, the applicant in clear.
- A customer manager sees the applications they took, the applicant in clear, and the others in their
  villages with the applicant masked.
- A branch president sees the applications in their branch's subtrees, the applicant masked (as every
  customer of the branch is to them).
- A credit investigator sees the applications assigned to them, the applicant in clear (they visit them).
- An approver sees what waits for the approver tier (within their grid scope, when they have one) and whatever
  they decided on (approved, rejected or returned), the applicant in clear.
- The back office sees approved applications (their lines, drawdowns and disbursements), in clear.
- The administrator sees none.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from tortoise.expressions import Q

from domain.access import Actor, Role
from domain.credit.workflow import ApplicationFacts, ApplicationState
from domain.grid.paths import inside
from resolvers.customers.policy import living_under

# What the back office works on: from the approval on (lines, drawdowns, disbursement).
BACK_OFFICE_STATES = frozenset({ApplicationState.APPROVED})


def _in_grid(actor: Actor, facts: ApplicationFacts) -> bool:
    return facts.village_path is not None and inside(facts.village_path, actor.scope_paths)


def _approver_reach(actor: Actor, facts: ApplicationFacts) -> bool:
    waits_for_them = facts.state == ApplicationState.AWAITING_APPROVAL and facts.tier_authority == Role.APPROVER
    if waits_for_them and (not actor.scope_paths or _in_grid(actor, facts)):
        return True
    return actor.staff_id in facts.reviewer_ids


def may_see(actor: Actor, facts: ApplicationFacts) -> bool:
    if actor.is_head_office:
        return True
    if actor.has(Role.CUSTOMER_MANAGER) and (facts.marketer_id == actor.staff_id or _in_grid(actor, facts)):
        return True
    if actor.has(Role.BRANCH_PRESIDENT) and _in_grid(actor, facts):
        return True
    if actor.has(Role.CREDIT_INVESTIGATOR) and facts.investigator_id == actor.staff_id:
        return True
    if actor.has(Role.APPROVER) and _approver_reach(actor, facts):
        return True
    return actor.has(Role.BACK_OFFICE) and facts.state in BACK_OFFICE_STATES


def visible(actor: Actor) -> Q:
    """The applications the actor may see, as a filter on CreditApplication: the same rule as may_see."""
    if actor.is_head_office:
        return Q()
    alternatives: list[Q] = []
    if actor.has(Role.CUSTOMER_MANAGER):
        alternatives.append(Q(marketer_id=actor.staff_id))
    if actor.has(Role.CUSTOMER_MANAGER, Role.BRANCH_PRESIDENT) and actor.scope_paths:
        alternatives.append(living_under(actor.scope_paths))
    if actor.has(Role.CREDIT_INVESTIGATOR):
        alternatives.append(Q(investigator_id=actor.staff_id))
    if actor.has(Role.APPROVER):
        waiting = Q(state=ApplicationState.AWAITING_APPROVAL, tier_authority=Role.APPROVER.value)
        if actor.scope_paths:
            waiting &= living_under(actor.scope_paths)
        alternatives.append(waiting)
        alternatives.append(Q(reviewer_ids__contains=[actor.staff_id]))
    if actor.has(Role.BACK_OFFICE):
        alternatives.append(Q(state__in=[s.value for s in BACK_OFFICE_STATES]))
    return reduce(or_, alternatives) if alternatives else Q(id=-1)


def shows_applicant(actor: Actor, facts: ApplicationFacts) -> bool:
    """Is the applicant's personal data (ID number, phone, address) shown in clear to the actor? Only to those
    who work on the application; reading it in clear is audited."""
    if actor.is_head_office:
        return True
    if actor.has(Role.CUSTOMER_MANAGER) and facts.marketer_id == actor.staff_id:
        return True
    if actor.has(Role.CREDIT_INVESTIGATOR) and facts.investigator_id == actor.staff_id:
        return True
    if actor.has(Role.APPROVER) and _approver_reach(actor, facts):
        return True
    return actor.has(Role.BACK_OFFICE) and facts.state in BACK_OFFICE_STATES
