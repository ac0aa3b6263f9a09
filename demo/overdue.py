"""Where the book's loans stand today: what is outstanding, and the five-tier class (五级分类) of each.

Most households repay on schedule: their loans are 正常 (PASS) and owe what the schedule leaves once every
instalment due so far is repaid. Some have stopped paying: every loan of such a household is overdue from the
same day, and owes the principal still owed then; the instalments fallen due since are unpaid. The days the
first unpaid instalment is overdue give the class — 关注 (special mention) up to 90 days, 次级 (substandard) to
180, 可疑 (doubtful) to 360, 损失 (loss) beyond — the last three non-performing (不良).

The non-performing households are as many as the case study's bank reports, 0.68 % of the households that owe
the bank anything (npl_households), and are chosen so that they owe about 0.52 % of the balance."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from demo.loans import Opened, owed_on
from demo.people import Ints
from domain.credit.classification import LoanClass

# the case study's: of 16,838 households lent to through the platform 115 non-performing (0.68 %), owing
# ¥17.355 million of ¥3.31 billion (0.52 %)
NPL_HOUSEHOLD_SHARE = 115 / 16_838
NPL_BALANCE_SHARE = 17_355_000 / 3_310_000_000
SPECIAL_MENTION_SHARE = 0.02  # of the borrowing households, overdue but not yet non-performing
OVERDUE_DAYS = {
    LoanClass.SPECIAL_MENTION: (1, 90),
    LoanClass.SUBSTANDARD: (91, 180),
    LoanClass.DOUBTFUL: (181, 360),
    LoanClass.LOSS: (361, 720),
}
NPL_CLASSES = {LoanClass.SUBSTANDARD: 0.5, LoanClass.DOUBTFUL: 0.3, LoanClass.LOSS: 0.2}
CLOSEST_OF = 64  # each non-performing household is the best fit of this many candidates


@dataclass(frozen=True)
class Standing:
    outstanding: Decimal
    loan_class: LoanClass
    overdue_amount: Decimal  # instalments fallen due and unpaid, principal and interest
    missed: int  # those instalments


@dataclass(frozen=True)
class _Stopped:
    """A household that stopped paying: its class, what it owes, and each of its loans' standing."""

    household: int
    owed: Decimal
    performing: Decimal  # what it would owe had it kept paying
    standings: dict[int, Standing]  # by loan position


def npl_households(borrowing_households: int) -> int:
    """How many households are non-performing among so many that owe the bank."""
    return max(1, round(NPL_HOUSEHOLD_SHARE * borrowing_households)) if borrowing_households else 0


def classify(opened: list[Opened], household: Ints, today: date, rng: np.random.Generator) -> list[Standing]:
    """The standing of every loan (in the order given); household gives each customer's household."""
    performing = [owed_on(loan, today) for loan in opened]
    standings = [Standing(owed, LoanClass.PASS, Decimal(0), 0) for owed in performing]
    loans_of: defaultdict[int, list[int]] = defaultdict(list)
    for position, loan in enumerate(opened):
        loans_of[int(household[loan.customer])].append(position)
    borrowing = [h for h, positions in sorted(loans_of.items()) if sum(performing[p] for p in positions) > 0]
    candidates = []
    for h in rng.permutation(np.array(borrowing, dtype=np.int64)).tolist():
        loan_class = LoanClass(rng.choice(list(NPL_CLASSES), p=list(NPL_CLASSES.values())))
        stopped = _stopped(h, loans_of[h], opened, performing, loan_class, today, rng)
        if stopped is not None:
            candidates.append(stopped)
    chosen = _closest_to_share(candidates, npl_households(len(borrowing)), sum(performing, Decimal(0)))
    taken = {s.household for s in chosen}
    mentioned: list[_Stopped] = []
    for h in rng.permutation(np.array(sorted(set(borrowing) - taken), dtype=np.int64)).tolist():
        if len(mentioned) >= round(SPECIAL_MENTION_SHARE * len(borrowing)):
            break
        stopped = _stopped(h, loans_of[h], opened, performing, LoanClass.SPECIAL_MENTION, today, rng)
        if stopped is not None:
            mentioned.append(stopped)
    for stopped in (*chosen, *mentioned):
        for position, standing in stopped.standings.items():
            standings[position] = standing
    return standings


def _stopped(
    household: int, positions: list[int], opened: list[Opened], performing: list[Decimal], loan_class: LoanClass,
    today: date, rng: np.random.Generator,
) -> _Stopped | None:  # fmt: skip
    """The household as it stands if it stopped paying long enough ago for the class; None when one of its
    loans is too recent for that."""
    fewest, most = OVERDUE_DAYS[loan_class]
    since = today - timedelta(days=int(rng.integers(fewest, most + 1)))
    standings: dict[int, Standing] = {}
    for position in positions:
        loan = opened[position]
        first_unpaid = bisect.bisect_left(loan.due, since)
        if first_unpaid == len(loan.due):
            continue  # repaid in full before the household stopped paying
        if (today - loan.due[first_unpaid]).days < fewest:
            return None
        unpaid = [i for i in loan.schedule.instalments[first_unpaid:] if i.due_date < today]
        standings[position] = Standing(
            outstanding=loan.schedule.instalments[first_unpaid].opening_principal,
            loan_class=loan_class,
            overdue_amount=sum((i.total for i in unpaid), Decimal(0)),
            missed=len(unpaid),
        )
    if not standings:
        return None
    owed = sum((s.outstanding for s in standings.values()), Decimal(0))
    return _Stopped(household, owed, sum((performing[p] for p in positions), Decimal(0)), standings)


def _closest_to_share(candidates: list[_Stopped], count: int, performing_total: Decimal) -> list[_Stopped]:
    """`count` candidates owing together about NPL_BALANCE_SHARE of the balance (theirs included): each one the
    closest, of the next CLOSEST_OF candidates, to what is left to reach it shared among those still to come."""
    pool = list(candidates)
    chosen: list[_Stopped] = []
    owed = grown = 0.0
    for left in range(min(count, len(pool)), 0, -1):
        target = (NPL_BALANCE_SHARE * (float(performing_total) + grown) - owed) / left
        window = pool if left == 1 else pool[:CLOSEST_OF]
        best = min(window, key=lambda s: abs(float(s.owed) - target))
        pool.remove(best)
        chosen.append(best)
        owed += float(best.owed)
        grown += float(best.owed - best.performing)
    return chosen
