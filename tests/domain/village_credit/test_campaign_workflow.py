"""The campaign's state machine, every (action, state, person) pair: a step is allowed exactly from its one
state and by its one person; anything else is a typed refusal (WRONG_STATE before WRONG_ROLE), so no step can
be skipped, and collectors, reviewers, the approver and head office never act on each other's steps."""

from __future__ import annotations

from itertools import pairwise

import pytest

from domain.access import Actor, Role
from domain.errors import DomainError
from domain.village_credit.campaign_workflow import (
    TRANSITIONS,
    CampaignAction,
    CampaignFacts,
    CampaignState,
    allowed_actions,
    check,
)
from domain.village_credit.errors import VillageCreditErrorCode as Code

VILLAGE = "/1/2/3/"
PEOPLE = {
    "collector": Actor(1, "collector", frozenset({Role.CUSTOMER_MANAGER}), (VILLAGE,)),
    "other_manager": Actor(2, "other_manager", frozenset({Role.CUSTOMER_MANAGER}), (VILLAGE,)),
    "reviewer": Actor(3, "reviewer", frozenset({Role.CREDIT_INVESTIGATOR}), ("/1/",)),
    "other_investigator": Actor(4, "other_investigator", frozenset({Role.CREDIT_INVESTIGATOR}), ("/1/",)),
    "second_reviewer": Actor(5, "second_reviewer", frozenset({Role.APPROVER}), ("/1/",)),
    "far_approver": Actor(6, "far_approver", frozenset({Role.APPROVER}), ("/1/9/",)),
    "president": Actor(7, "president", frozenset({Role.BRANCH_PRESIDENT}), ("/1/2/",)),
    "far_president": Actor(8, "far_president", frozenset({Role.BRANCH_PRESIDENT}), ("/1/9/",)),
    "head": Actor(9, "head", frozenset({Role.HEAD_OFFICE})),
    "admin": Actor(10, "admin", frozenset({Role.ADMIN})),
    "back_office": Actor(11, "back_office", frozenset({Role.BACK_OFFICE}), ("/1/",)),
}
# who takes each step, written independently of the table
EXPECTED = {
    CampaignAction.START_COLLECTING: (CampaignState.PLANNED, "collector"),
    CampaignAction.FINISH_COLLECTING: (CampaignState.COLLECTING, "collector"),
    CampaignAction.SUBMIT_FOR_REVIEW: (CampaignState.SCREENING, "collector"),
    CampaignAction.COMPLETE_FIRST_REVIEW: (CampaignState.FIRST_REVIEW, "reviewer"),
    CampaignAction.COMPLETE_SECOND_REVIEW: (CampaignState.SECOND_REVIEW, "second_reviewer"),
    CampaignAction.APPROVE_AND_PUBLISH: (CampaignState.BRANCH_APPROVAL, "president"),
    CampaignAction.ACCEPT: (CampaignState.PUBLISHED, "head"),
    CampaignAction.CLOSE: (CampaignState.ACCEPTED, "head"),
}
ORDER = list(CampaignState)


def facts(state: CampaignState, **overrides: object) -> CampaignFacts:
    values: dict[str, object] = {"state": state, "village_path": VILLAGE, "collector_ids": frozenset({1}),
                                 "reviewer_id": 3, "second_reviewer_id": 5, "approver_id": 7}  # fmt: skip
    values.update(overrides)
    return CampaignFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("action", list(CampaignAction))
@pytest.mark.parametrize("state", list(CampaignState))
@pytest.mark.parametrize("person", list(PEOPLE))
def test_every_step_from_its_state_by_its_person_only(
    action: CampaignAction, state: CampaignState, person: str
) -> None:
    source, taker = EXPECTED[action]
    if state == source and person == taker:
        assert check(action, PEOPLE[person], facts(state)) == ORDER[ORDER.index(state) + 1]
        assert action in allowed_actions(PEOPLE[person], facts(state))
        return
    with pytest.raises(DomainError) as refused:
        check(action, PEOPLE[person], facts(state))
    expected = Code.WRONG_STATE if state != source else (Code.WRONG_ROLE, Code.SEPARATION_OF_DUTIES)
    assert refused.value.code in (expected if isinstance(expected, tuple) else (expected,))
    assert refused.value.message_zh
    assert refused.value.message_en
    assert action not in allowed_actions(PEOPLE[person], facts(state))


def test_the_steps_are_one_chain_through_every_state() -> None:
    assert [(t.source, t.target) for t in TRANSITIONS.values()] == list(pairwise(ORDER))


def test_a_collector_who_is_also_the_investigator_or_approver_cannot_review_their_own_collection() -> None:
    both = Actor(1, "both", frozenset({Role.CUSTOMER_MANAGER, Role.CREDIT_INVESTIGATOR, Role.APPROVER,
                                        Role.BRANCH_PRESIDENT, Role.HEAD_OFFICE}), (VILLAGE,))  # fmt: skip
    for action, state in [
        (CampaignAction.COMPLETE_FIRST_REVIEW, CampaignState.FIRST_REVIEW),
        (CampaignAction.COMPLETE_SECOND_REVIEW, CampaignState.SECOND_REVIEW),
        (CampaignAction.APPROVE_AND_PUBLISH, CampaignState.BRANCH_APPROVAL),
        (CampaignAction.ACCEPT, CampaignState.PUBLISHED),
    ]:
        with pytest.raises(DomainError) as refused:
            check(action, both, facts(state, reviewer_id=1))
        assert refused.value.code == Code.SEPARATION_OF_DUTIES


def test_the_first_reviewer_cannot_do_the_second_review_nor_the_second_reviewer_approve_or_accept() -> None:
    reviewer_and_approver = Actor(3, "r", frozenset({Role.CREDIT_INVESTIGATOR, Role.APPROVER}), ("/1/",))
    with pytest.raises(DomainError) as refused:
        check(CampaignAction.COMPLETE_SECOND_REVIEW, reviewer_and_approver, facts(CampaignState.SECOND_REVIEW))
    assert refused.value.code == Code.SEPARATION_OF_DUTIES
    second_and_president = Actor(5, "s", frozenset({Role.APPROVER, Role.BRANCH_PRESIDENT, Role.HEAD_OFFICE}),
                                 ("/1/2/",))  # fmt: skip
    for action, state in [(CampaignAction.APPROVE_AND_PUBLISH, CampaignState.BRANCH_APPROVAL),
                          (CampaignAction.ACCEPT, CampaignState.PUBLISHED)]:  # fmt: skip
        with pytest.raises(DomainError) as refused:
            check(action, second_and_president, facts(state))
        assert refused.value.code == Code.SEPARATION_OF_DUTIES
    president_and_head = Actor(7, "p", frozenset({Role.BRANCH_PRESIDENT, Role.HEAD_OFFICE}), ("/1/2/",))
    with pytest.raises(DomainError) as refused:
        check(CampaignAction.ACCEPT, president_and_head, facts(CampaignState.PUBLISHED))
    assert refused.value.code == Code.SEPARATION_OF_DUTIES
