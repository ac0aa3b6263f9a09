"""What every workflow's state machine is built from — the credit application, the drawdown, the whole-village
campaign and each of its households: named guards on (actor, facts), each with the typed refusal its actor is
told, checked in the order a transition lists them. Each workflow keeps its own states, actions and transition
table on one screen (domain/credit/workflow.py, domain/credit/drawdown_workflow.py,
domain/village_credit/campaign_workflow.py, domain/village_credit/household_workflow.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from domain.errors import DomainError

F = TypeVar("F")


@dataclass(frozen=True)
class Guard(Generic[F]):
    """A named condition on (actor, facts) — the actor None where the system takes the step — and what the
    actor is told when it does not hold."""

    name: str
    holds: Callable[[Any, F], bool]
    code: StrEnum
    refusal_zh: str
    refusal_en: str

    def refusal(self, field: str | None = None) -> DomainError:
        return DomainError(self.code, self.refusal_zh, self.refusal_en, field)


def check_guards(guards: Iterable[Guard[F]], actor: Any, facts: F, field: str | None = None) -> None:
    """Raise the refusal of the first guard that does not hold; nothing is written."""
    for guard in guards:
        if not guard.holds(actor, facts):
            raise guard.refusal(field)


def all_hold(guards: Iterable[Guard[F]], actor: Any, facts: F) -> bool:
    return all(guard.holds(actor, facts) for guard in guards)
