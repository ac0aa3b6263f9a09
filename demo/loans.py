"""The book's drawdowns (用信) and loans: each approved line drawn once or more within its validity, each
drawdown priced by the pricing decision on the LPR of its day, checked by one back-office person and disbursed
by another, opening a loan whose repayment schedule is the platform's own (build_schedule, exact to the fen).

The contracts of these drawdowns were signed on paper, before the platform issued e-contracts: no PDF is kept,
the contract is 0 pages and its "SHA-256" is that of its contract number, which says so to anyone who checks
it. What is outstanding today is what the schedule leaves once every instalment due so far is repaid, except
for the loans demo.overdue classifies as overdue."""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from demo.clientele import Clientele
from demo.crew import Crew
from demo.mix import TERM_WEIGHTS, TERMS, terms_within
from demo.records import Decided, Granted
from demo.writer import Columns, Table
from domain.credit.drawdown_workflow import DrawdownAction, DrawdownState
from domain.credit.enums import RepaymentMethod
from domain.credit.market import bank
from domain.credit.schedules import RepaymentSchedule, build_schedule
from resolvers.credit import applications as apps

# drawdowns on a line: the chances of none, one, two and three
DRAWS_REVOLVING = (0.04, 0.5, 0.32, 0.14)
DRAWS_VILLAGE_LINE = (0.12, 0.5, 0.28, 0.1)  # a whole-village line is pre-approved: many wait for a need
DRAWS_ONCE = (0.04, 0.96, 0.0, 0.0)
FIRST_DRAW_DAYS = 20  # after the line is granted, at most
NEXT_DRAW_DAYS = (60, 420)  # between drawdowns on one line
OPENING = time(0, 30)  # 08:30 in the county, UTC
PAPER = "PAPER"  # how the book's contracts were signed
PAPER_NOTE = "纸质合同,平台上线前签订 / a paper contract, signed before the platform issued e-contracts"


def paper_contract_sha256(contract_number: str) -> str:
    """The placeholder a paper contract carries instead of a PDF's hash: the hash of its number."""
    return hashlib.sha256(contract_number.encode()).hexdigest()


DRAWDOWN_COLUMNS = (
    "client_id", "line_id", "requested_by_id", "amount", "term_months", "repayment_method", "repayment_day",
    "annual_rate", "value_date", "state", "contract_number", "contract_sha256", "contract_pages", "signed_at",
    "signature", "checker_id", "disbursed_by_id", "reason", "version", "requested_at", "state_since",
)  # fmt: skip
INSTALMENT_COLUMNS = ("id", "loan_id", "number", "due_date", "principal", "interest", "total", "closing_principal")


@dataclass(frozen=True)
class Opened:
    """A loan as classification needs it."""

    loan_id: int
    line_id: int
    customer: int  # index
    schedule: RepaymentSchedule
    due: list[date]  # the instalments' due dates


@dataclass
class Lending:
    drawdowns: Table = field(default_factory=lambda: Table(*DRAWDOWN_COLUMNS))
    events: Table = field(default_factory=lambda: Table(
        "drawdown_id", "action", "from_state", "to_state", "actor_id", "at", "reason", "detail"))  # fmt: skip
    loans: Table = field(default_factory=lambda: Table(
        "drawdown_id", "customer_id", "product_code", "principal", "outstanding_principal", "annual_rate",
        "term_months", "repayment_method", "disbursed_on", "maturity_date", "loan_class", "disbursed_at"))  # fmt: skip
    instalments: Columns = field(default_factory=lambda: {name: [] for name in INSTALMENT_COLUMNS})
    opened: list[Opened] = field(default_factory=list)


def plan_loans(decided: Decided, people: Clientele, crew: Crew, today: date, rng: np.random.Generator) -> Lending:
    """The drawdowns on every line, the loans they opened and their schedules. The draws are made for every
    line at once; each line's drawdowns then follow one another, each within what the earlier ones leave."""
    granted = decided.granted
    count, most = len(granted), len(DRAWS_REVOLVING) - 1
    chances = np.array([_draw_chances(g) for g in granted]).reshape(count, len(DRAWS_REVOLVING))
    draws = (rng.random(count)[:, None] > np.cumsum(chances, axis=1)).sum(axis=1)
    first = rng.integers(0, FIRST_DRAW_DAYS + 1, count)
    gaps = rng.integers(*NEXT_DRAW_DAYS, (count, most))
    shares = rng.uniform(0.3, 1.0, (count, most))
    shares[:, 0] = rng.uniform(0.5, 1.0, count)
    picks = rng.random((count, most, 4))  # the term, the method, who checks, who disburses
    minutes = rng.uniform(0, 1, (count, most, 4))  # the hour requested, and the steps' durations
    lending = Lending()
    last_day = today - timedelta(days=1)
    for i, line in enumerate(granted):
        day = line.valid_from + timedelta(days=int(first[i]))
        drawn: list[Opened] = []
        for j in range(int(draws[i])):
            day += timedelta(days=int(gaps[i, j - 1])) if j else timedelta()
            if day > min(line.valid_until, last_day):
                break
            available = line.amount - sum(owed_on(loan, day) for loan in drawn)
            amount = int(float(shares[i, j]) * float(available)) // 1000 * 1000
            if amount < line.product.amount.min:
                continue
            drawn.append(_draw(lending, decided, line, people, crew, day, amount, j, picks[i, j], minutes[i, j]))
        lending.opened.extend(drawn)
    return lending


def _draw_chances(line: Granted) -> tuple[float, ...]:
    if not line.product.line.revolving:
        return DRAWS_ONCE
    return DRAWS_VILLAGE_LINE if line.product.code == "zhengcun" else DRAWS_REVOLVING


def owed_on(loan: Opened, day: date) -> Decimal:
    """Principal still owed on a day by the schedule (what is drawn on the line)."""
    after = bisect.bisect_left(loan.due, day)
    return loan.schedule.instalments[after].opening_principal if after < len(loan.due) else Decimal(0)


def _draw(
    lending: Lending, decided: Decided, line: Granted, people: Clientele, crew: Crew, day: date, amount: int,
    sequence: int, pick: Any, minutes: Any,
) -> Opened:  # fmt: skip
    """One drawdown, priced, signed on paper, checked, disbursed, and the loan it opened."""
    product = line.product
    terms = terms_within(product, product.term.max_months) * TERM_WEIGHTS
    term = int(TERMS[min(int(np.searchsorted(np.cumsum(terms) / terms.sum(), pick[0])), len(TERMS) - 1)])
    method = RepaymentMethod(product.repayment_methods[int(pick[1] * len(product.repayment_methods))])
    requested = datetime.combine(day, OPENING, UTC) + timedelta(hours=8 * float(minutes[0]))
    signed = requested + timedelta(minutes=10 + 30 * float(minutes[1]))
    checked = signed + timedelta(minutes=20 + 70 * float(minutes[2]))
    disbursed = checked + timedelta(minutes=10 + 50 * float(minutes[3]))
    checker = crew.back_office[int(pick[2] * len(crew.back_office))]
    others = [b for b in crew.back_office if b != checker]
    disburser = others[int(pick[3] * len(others))]
    c = line.customer
    pricing = apps.evaluate(product, "pricing", {
        "lpr_1y": float(bank().lpr_on(day)), "avg_deposit_balance_12m": float(people.deposit[c]),
        "uses_e_banking": bool(people.ebanking[c]), **({"grade": line.grade} if line.grade else {}),
    })  # fmt: skip
    rate = Decimal(str(pricing.outputs["annual_rate"]))
    schedule = build_schedule(method=method, principal=Decimal(amount), annual_rate=rate, term_months=term,
                              disbursed_on=day)  # fmt: skip
    decided.record(line.application_id, "pricing", [pricing], requested)
    number = f"JK{day:%Y%m%d}{line.line_id:07d}{sequence + 1:03d}"
    drawdown_id = lending.drawdowns.add(
        client_id=f"book-draw-{len(lending.drawdowns) + 1:08d}", line_id=line.line_id, requested_by_id=line.marketer,
        amount=Decimal(amount), term_months=term, repayment_method=method, repayment_day=schedule.repayment_day,
        annual_rate=rate, value_date=day, state=DrawdownState.DISBURSED, contract_number=number,
        contract_sha256=paper_contract_sha256(number), contract_pages=0, signed_at=signed,
        signature={"signer": str(people.name[c]), "method": PAPER, "signed_at": signed.isoformat(),
                   "recorded_by": line.marketer, "note": PAPER_NOTE},
        checker_id=checker, disbursed_by_id=disburser, reason="", version=4, requested_at=requested,
        state_since=disbursed,
    )  # fmt: skip
    _history(lending, drawdown_id, line.marketer, checker, disburser, (requested, signed, checked, disbursed), rate)
    loan_id = lending.loans.add(
        drawdown_id=drawdown_id, customer_id=c + 1, product_code=product.code, principal=Decimal(amount),
        outstanding_principal=Decimal(0), annual_rate=rate, term_months=term, repayment_method=method,
        disbursed_on=day, maturity_date=schedule.instalments[-1].due_date, loan_class=None, disbursed_at=disbursed,
    )  # fmt: skip
    _instalments(lending.instalments, loan_id, schedule)
    return Opened(loan_id, line.line_id, c, schedule, [i.due_date for i in schedule.instalments])


def _history(
    lending: Lending, drawdown_id: int, marketer: int, checker: int, disburser: int, times: tuple[datetime, ...],
    rate: Decimal,
) -> None:  # fmt: skip
    steps: tuple[tuple[DrawdownAction, DrawdownState | None, DrawdownState, int, dict[str, str]], ...] = (
        (DrawdownAction.REQUEST, None, DrawdownState.PRICED, marketer, {"annual_rate": str(rate)}),
        (DrawdownAction.SIGN, DrawdownState.PRICED, DrawdownState.SIGNED, marketer, {"method": PAPER}),
        (DrawdownAction.CHECK, DrawdownState.SIGNED, DrawdownState.CHECKED, checker, {}),
        (DrawdownAction.DISBURSE, DrawdownState.CHECKED, DrawdownState.DISBURSED, disburser, {}),
    )
    for (action, source, target, actor, detail), at in zip(steps, times, strict=True):
        lending.events.add(drawdown_id=drawdown_id, action=action.value, from_state=source.value if source else None,
                           to_state=target.value, actor_id=actor, at=at, reason="", detail=detail)  # fmt: skip


def _instalments(columns: Columns, loan_id: int, schedule: RepaymentSchedule) -> None:
    start = len(columns["id"]) + 1
    rows = schedule.instalments
    columns["id"].extend(range(start, start + len(rows)))
    columns["loan_id"].extend([loan_id] * len(rows))
    columns["number"].extend(i.number for i in rows)
    columns["due_date"].extend(i.due_date for i in rows)
    columns["principal"].extend(i.principal for i in rows)
    columns["interest"].extend(i.interest for i in rows)
    columns["total"].extend(i.total for i in rows)
    columns["closing_principal"].extend(i.closing_principal for i in rows)
