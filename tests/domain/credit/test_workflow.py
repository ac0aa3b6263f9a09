"""The application's state machine: the table itself, each named guard, and separation of duties across every
pair of posts on one application (marketer, investigator, each approval tier)."""

from __future__ import annotations

import itertools

import pytest

from domain.access import Actor, Role
from domain.credit.errors import CreditErrorCode
from domain.credit.workflow import (
    ENTRY_ACTIONS,
    OPEN,
    TERMINAL,
    TRANSITIONS,
    Action,
    ApplicationFacts,
    ApplicationState,
    allowed_actions,
    check,
)
from domain.errors import DomainError

S = ApplicationState
VILLAGE = "/1/2/4/"
MARKETER, INVESTIGATOR, APPROVER_1, APPROVER_2, PRESIDENT, HEAD = 11, 12, 13, 14, 15, 16


def actor(staff_id: int, *roles: Role, scope: tuple[str, ...] = ()) -> Actor:
    return Actor(staff_id=staff_id, username=f"s{staff_id}", roles=frozenset(roles), scope_paths=scope)


def facts(
    state: ApplicationState, tier: Role | None = None, approvers: frozenset[int] = frozenset()
) -> ApplicationFacts:
    return ApplicationFacts(state, MARKETER, INVESTIGATOR, VILLAGE, tier, approvers)


def refused(
    code: CreditErrorCode, action: Action, who: Actor | None, f: ApplicationFacts, to: ApplicationState
) -> None:
    with pytest.raises(DomainError) as caught:
        check(action, who, f, to)
    assert caught.value.code == code
    assert caught.value.message_zh
    assert caught.value.message_en


def test_terminal_states_have_no_way_out_and_every_open_state_has_one() -> None:
    sources = {s for t in TRANSITIONS.values() for s in t.sources}
    assert sources & TERMINAL == set()
    assert OPEN - {S.AWAITING_ASSIGNMENT, S.INVESTIGATING, S.AWAITING_APPROVAL} == set()
    assert sources >= OPEN
    assert {t.action for t in TRANSITIONS.values() if not t.sources} == ENTRY_ACTIONS


def test_every_state_is_reached_by_some_action() -> None:
    reached = {s for t in TRANSITIONS.values() for s in t.targets}
    assert reached == set(ApplicationState)


def test_the_happy_path_is_allowed_step_by_step() -> None:
    check(Action.ADMIT, None, None, S.AWAITING_ASSIGNMENT)
    check(Action.ASSIGN, None, facts(S.AWAITING_ASSIGNMENT), S.INVESTIGATING)
    check(Action.SUBMIT_INVESTIGATION, actor(INVESTIGATOR, Role.CREDIT_INVESTIGATOR), facts(S.INVESTIGATING),
          S.AWAITING_APPROVAL)  # fmt: skip
    check(Action.APPROVE, actor(APPROVER_1, Role.APPROVER), facts(S.AWAITING_APPROVAL, Role.APPROVER), S.APPROVED)


@pytest.mark.parametrize(
    ("action", "state", "target"),
    [
        (Action.SUBMIT_INVESTIGATION, S.AWAITING_ASSIGNMENT, S.AWAITING_APPROVAL),
        (Action.APPROVE, S.INVESTIGATING, S.APPROVED),
        (Action.APPROVE, S.APPROVED, S.APPROVED),
        (Action.REJECT, S.REJECTED, S.REJECTED),
        (Action.WITHDRAW, S.APPROVED, S.WITHDRAWN),
        (Action.ASSIGN, S.INVESTIGATING, S.INVESTIGATING),
        (Action.RETURN_FOR_INVESTIGATION, S.INVESTIGATING, S.INVESTIGATING),
    ],
)
def test_a_step_out_of_order_is_refused(action: Action, state: ApplicationState, target: ApplicationState) -> None:
    everyone = actor(1, *Role, scope=("/",))
    refused(CreditErrorCode.WRONG_STATE, action, everyone, facts(state, Role.APPROVER), target)


def test_automatic_steps_are_the_systems_only() -> None:
    refused(CreditErrorCode.WRONG_ROLE, Action.ASSIGN, actor(HEAD, Role.HEAD_OFFICE), facts(S.AWAITING_ASSIGNMENT),
            S.INVESTIGATING)  # fmt: skip


def test_only_the_assigned_investigator_reports() -> None:
    other = actor(99, Role.CREDIT_INVESTIGATOR)
    refused(CreditErrorCode.WRONG_ROLE, Action.SUBMIT_INVESTIGATION, other, facts(S.INVESTIGATING), S.AWAITING_APPROVAL)


def test_an_approver_decides_only_at_a_tier_of_their_authority() -> None:
    approver = actor(APPROVER_1, Role.APPROVER)
    refused(CreditErrorCode.WRONG_ROLE, Action.APPROVE, approver, facts(S.AWAITING_APPROVAL, Role.BRANCH_PRESIDENT),
            S.APPROVED)  # fmt: skip


def test_a_branch_president_decides_and_reassigns_only_in_their_branch() -> None:
    elsewhere = actor(PRESIDENT, Role.BRANCH_PRESIDENT, scope=("/1/3/",))
    at_home = actor(PRESIDENT, Role.BRANCH_PRESIDENT, scope=("/1/2/",))
    tier = facts(S.AWAITING_APPROVAL, Role.BRANCH_PRESIDENT)
    refused(CreditErrorCode.WRONG_ROLE, Action.APPROVE, elsewhere, tier, S.APPROVED)
    check(Action.APPROVE, at_home, tier, S.APPROVED)
    refused(CreditErrorCode.WRONG_ROLE, Action.REASSIGN, elsewhere, facts(S.INVESTIGATING), S.INVESTIGATING)
    check(Action.REASSIGN, at_home, facts(S.INVESTIGATING), S.INVESTIGATING)


def test_only_the_marketer_withdraws() -> None:
    refused(CreditErrorCode.WRONG_ROLE, Action.WITHDRAW, actor(77, Role.CUSTOMER_MANAGER), facts(S.INVESTIGATING),
            S.WITHDRAWN)  # fmt: skip
    check(Action.WITHDRAW, actor(MARKETER, Role.CUSTOMER_MANAGER), facts(S.INVESTIGATING), S.WITHDRAWN)


# Separation of duties (三岗分离): the posts on one application, and one person holding any two of them.
POSTS = ("marketer", "investigator", "first_approver", "second_approver")


def _holding(post: str) -> int:
    return {"marketer": MARKETER, "investigator": INVESTIGATOR, "first_approver": APPROVER_1,
            "second_approver": APPROVER_2}[post]  # fmt: skip


@pytest.mark.parametrize(("first", "second"), list(itertools.permutations(POSTS, 2)))
def test_nobody_holds_two_posts_on_one_application(first: str, second: str) -> None:
    """The person of `first`, holding every role, tries to act in the post of `second`."""
    person = _holding(first)
    everything = actor(person, *(r for r in Role if r != Role.ADMIN), scope=("/",))
    earlier = frozenset({APPROVER_1})
    if second == "investigator":  # reporting on an application assigned to someone else is refused by role
        f = facts(S.INVESTIGATING)
        refused(CreditErrorCode.WRONG_ROLE, Action.SUBMIT_INVESTIGATION, everything, f, S.AWAITING_APPROVAL)
        return
    if second == "marketer":  # withdrawing is the marketer's alone
        refused(CreditErrorCode.WRONG_ROLE, Action.WITHDRAW, everything, facts(S.INVESTIGATING), S.WITHDRAWN)
        return
    f = facts(S.AWAITING_APPROVAL, Role.APPROVER, earlier if second == "second_approver" else frozenset())
    if first == "first_approver" and second == "first_approver":
        return
    if first == "second_approver" and second == "first_approver":
        check(Action.APPROVE, everything, f, S.APPROVED)  # a different person at the first tier: allowed
        return
    refused(CreditErrorCode.SEPARATION_OF_DUTIES, Action.APPROVE, everything, f, S.APPROVED)
    refused(CreditErrorCode.SEPARATION_OF_DUTIES, Action.REJECT, everything, f, S.REJECTED)


def test_the_buttons_offered_are_what_check_allows() -> None:
    people = [
        actor(MARKETER, Role.CUSTOMER_MANAGER, scope=("/1/2/4/",)),
        actor(INVESTIGATOR, Role.CREDIT_INVESTIGATOR),
        actor(APPROVER_1, Role.APPROVER),
        actor(PRESIDENT, Role.BRANCH_PRESIDENT, scope=("/1/2/",)),
        actor(HEAD, Role.HEAD_OFFICE),
    ]
    for state, tier in itertools.product(ApplicationState, [None, Role.APPROVER, Role.BRANCH_PRESIDENT]):
        f = facts(state, tier)
        for person in people:
            offered = set(allowed_actions(person, f))
            for action, transition in TRANSITIONS.items():
                if action in ENTRY_ACTIONS:
                    continue
                target = sorted(transition.targets)[0]
                try:
                    check(action, person, f, target)
                except DomainError:
                    assert action not in offered
                else:
                    assert action in offered
    assert set(allowed_actions(people[1], facts(S.INVESTIGATING))) == {Action.SUBMIT_INVESTIGATION}
    assert set(allowed_actions(people[2], facts(S.AWAITING_APPROVAL, Role.APPROVER))) == {
        Action.APPROVE, Action.REJECT, Action.RETURN_FOR_INVESTIGATION
    }  # fmt: skip
