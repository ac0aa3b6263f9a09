"""The demo bank's loan book (信贷台账): three years of the credit factory's work on the county's customers, as
rows planned with the rest of the county and written with it.

Every customer has a credit-bureau summary (demo.bureau). About a quarter of the adults of working age applied
for credit over the three years, most of them heads of household, some again when their line ran out, for the
products that suit them (demo.mix: 流水贷 for merchants taking QR payments, 市民贷 for salaried townspeople, …).
Each application went the way the platform takes it (demo.applications), its decisions evaluated by the bank's
decision files and recorded as evaluated; an approved one has a credit line, drawn on in one or more drawdowns
that opened loans with the platform's repayment schedules (demo.loans). Guarantors link households into chains
and a few circles (demo.guarantees); some households have stopped paying (demo.overdue). What each customer owes
today, their lines and the worst class of their loans are the book's, projected onto the customer rows.

The book is deterministic for a seed and a day: its dates run back three years from the day it is planned for.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from demo.applications import LINE_ACTIVE, Application, Desk, utc
from demo.bureau import Bureau, OwnBook, plan_reports, settle_reports
from demo.clientele import Clientele
from demo.county import GridPlan
from demo.crew import Crew
from demo.guarantees import Candidates, GuaranteeShapes, guarantee_shapes, plan_guarantors
from demo.loans import Lending, plan_loans
from demo.mix import JOINT, MIX, TERM_WEIGHTS, TERMS, book_products, terms_within
from demo.overdue import Standing, classify
from demo.people import Floats, Ints
from demo.records import Decided
from demo.staff import Staffing
from demo.writer import Columns, Objects, Progress, Rows, Write
from domain.credit.classification import NON_PERFORMING, LoanClass
from domain.credit.enums import GuaranteeType
from domain.credit.products import Product
from domain.customers.enums import CustomerSource
from geo.demo_grid import SUBDISTRICTS
from models import (
    ApplicationEvent,
    CreditApplication,
    CreditLine,
    CreditReport,
    DecisionFileVersion,
    DecisionRecord,
    Drawdown,
    DrawdownEvent,
    Guarantee,
    Loan,
    LoanInstalment,
)

BOOK_DAYS = 3 * 365  # the platform's three years
NEWEST_DAYS = 10  # the newest application of the book is this many days old (the live ones are newer)
APPLICANT_SHARE = 0.32  # applications per customer, not counting those made again
APPLICANT_AGES = (24, 60)  # on the day the book is planned: of working age at every application
HEAD_WEIGHT = 3.0  # a head of household applies three times as often as another member
RENEWAL_SHARE = 0.6  # of lines that ran out within the book, applied for again
RENEWAL_DAYS = 45  # after the line ran out, at most
WORKING_HOURS_UTC = (0.5, 9.5)  # 08:30–17:30 in the county
MAX_AGE_AT_MATURITY = 65  # the admission rule's
CLASS_ORDER = list(LoanClass)  # from the best to the worst


@dataclass(frozen=True)
class BookCounts:
    applications: dict[str, int]  # by state
    lines: int
    active_lines: int
    drawdowns: int
    loans: int
    open_loans: int
    instalments: int
    guarantees: GuaranteeShapes
    borrowing_households: int
    npl_households: int
    balance: Decimal
    npl_balance: Decimal


@dataclass(frozen=True)
class Book:
    reports: Columns
    decided: Decided
    lending: Lending
    projection: Columns  # the Customer fields the book decides: loan_balance, credit_line, loan_class, source

    @property
    def writes(self) -> list[Write]:
        """After the customers, parents before children."""
        files = [
            DecisionFileVersion(content_sha256=sha, decision=e.decision, version=e.version, content=e.content,
                                first_used_at=at)
            for sha, (e, at) in sorted(self.decided.files.items())
        ]  # fmt: skip
        return [
            Rows(CreditReport, self.reports),
            Objects(DecisionFileVersion, files),
            Rows(CreditApplication, self.decided.applications.columns),
            Rows(ApplicationEvent, self.decided.events.columns),
            Rows(DecisionRecord, self.decided.decisions.columns),
            Rows(CreditLine, self.decided.lines.columns),
            Rows(Guarantee, self.decided.guarantees.columns),
            Rows(Drawdown, self.lending.drawdowns.columns),
            Rows(DrawdownEvent, self.lending.events.columns),
            Rows(Loan, self.lending.loans.columns),
            Rows(LoanInstalment, self.lending.instalments),
        ]

    def counts(self, household: Ints) -> BookCounts:
        """The book's figures; household gives each customer's household (by customer index)."""
        loans = self.lending.loans.columns
        owing: set[int] = set()  # households
        npl: set[int] = set()
        npl_balance = Decimal(0)
        for customer_id, owed, loan_class in zip(loans["customer_id"], loans["outstanding_principal"],
                                                 loans["loan_class"], strict=True):  # fmt: skip
            if owed > 0:
                owing.add(int(household[customer_id - 1]))
                if loan_class in NON_PERFORMING:
                    npl.add(int(household[customer_id - 1]))
                    npl_balance += owed
        lines = self.decided.lines.columns
        guarantees = self.decided.guarantees.columns
        return BookCounts(
            applications=dict(sorted(Counter(str(s) for s in self.decided.applications.columns["state"]).items())),
            lines=len(lines["id"]),
            active_lines=sum(1 for status in lines["status"] if status == LINE_ACTIVE),
            drawdowns=len(self.lending.drawdowns),
            loans=len(loans["id"]),
            open_loans=sum(1 for owed in loans["outstanding_principal"] if owed > 0),
            instalments=len(self.lending.instalments["id"]),
            guarantees=guarantee_shapes(zip(guarantees["guarantor_id"], guarantees["borrower_id"], strict=True)),
            borrowing_households=len(owing),
            npl_households=len(npl),
            balance=sum(loans["outstanding_principal"], Decimal(0)),
            npl_balance=npl_balance,
        )


def plan_book(
    grid: GridPlan, staffing: Staffing, customers: Columns, today: date, rng: np.random.Generator, progress: Progress
) -> Book:
    """The book of the county's customers on `today`: everything drawn from rng, in a fixed order."""
    people = Clientele.of(customers, grid)
    bureau = plan_reports(people, today, rng)
    intended = plan_applications(people, bureau, today, rng)
    progress(f"决策 {len(intended):,} 笔历史授信申请 / deciding {len(intended):,} applications of three years")
    crew = Crew.of(staffing)
    desk = Desk(people, bureau, crew, today, rng)
    village_ids = [village.id for village in grid.villages]
    for application in _applications(intended, people, book_products(today), village_ids):
        desk.decide(application)
    granted = len(desk.decided.granted)
    progress(f"{granted:,} 条授信额度的用信与还款计划 / the drawdowns and schedules of {granted:,} credit lines")
    lending = plan_loans(desk.decided, people, crew, today, rng)
    standings = classify(lending.opened, people.household, today, rng)
    own = _settle(desk.decided, lending, standings, len(people))
    return Book(
        reports=settle_reports(bureau, own),
        decided=desk.decided,
        lending=lending,
        projection=_projection(desk.decided, lending, customers),
    )


@dataclass(frozen=True)
class Intended:
    """The applications the customers made, in the order they came."""

    customer: Ints  # customer index
    product: Ints  # index into MIX
    submitted: Ints  # seconds since the epoch, UTC
    amount: Ints  # yuan
    term: Ints
    method: Ints  # index into the product's repayment methods
    guarantor: Ints  # customer index, −1 for none
    collateral: Ints  # the pledged deposit or appraised home, yuan; 0 for none
    purpose: Ints  # index into the mix's purposes

    def __len__(self) -> int:
        return len(self.customer)


def plan_applications(people: Clientele, bureau: Bureau, today: date, rng: np.random.Generator) -> Intended:
    """Who applied for what and when, drawn for everyone at once."""
    products = book_products(today)
    age = people.age_on(today)
    pool = np.flatnonzero((age >= APPLICANT_AGES[0]) & (age <= APPLICANT_AGES[1]))
    weight = np.where(people.head[pool], HEAD_WEIGHT, 1.0)
    count = min(round(APPLICANT_SHARE * len(people)), len(pool))
    customer = np.sort(rng.choice(pool, size=count, replace=False, p=weight / weight.sum()))
    last_day = np.datetime64(today, "D").astype(np.int64) - NEWEST_DAYS
    day = last_day - rng.integers(0, BOOK_DAYS - NEWEST_DAYS + 1, count)
    product = _choose(_suits(people, bureau, customer) * np.array([m.weight for m in MIX]), rng)
    ran_out = day + (np.array([p.line.validity_months for p in products])[product] * 30.44).astype(np.int64)
    again = (ran_out + RENEWAL_DAYS < last_day) & (rng.random(count) < RENEWAL_SHARE)
    renewal = np.concatenate([np.zeros(count, dtype=bool), np.ones(int(again.sum()), dtype=bool)])
    customer = np.concatenate([customer, customer[again]])
    product = np.concatenate([product, product[again]])
    day = np.concatenate([day, ran_out[again] + rng.integers(0, RENEWAL_DAYS + 1, int(again.sum()))])
    joint = product == [m.code for m in MIX].index(JOINT)
    guaranteed = joint | (rng.random(len(customer)) < np.array([m.guarantor_share for m in MIX])[product])
    history = bureau.columns
    able = (bureau.admissible & (age >= 25) & (age <= 60) & (np.array(history["overdue_count_24m"]) == 0)
            & (np.array(history["credit_history_years"]) >= 2))  # fmt: skip
    guarantor, day = plan_guarantors(
        Candidates(customer, joint, guaranteed, renewal, day, people.village, people.household, able), rng
    )
    submitted = day * 86_400 + (rng.uniform(*WORKING_HOURS_UTC, len(customer)) * 3600).astype(np.int64)
    order = np.argsort(submitted, kind="stable")
    customer, product, submitted, guarantor = customer[order], product[order], submitted[order], guarantor[order]
    amount = _amounts(product, products, rng)
    longest = (MAX_AGE_AT_MATURITY - people.age_on((submitted // 86_400).astype("datetime64[D]"), customer)) * 12
    return Intended(
        customer=customer,
        product=product,
        submitted=submitted,
        amount=amount,
        term=_terms(product, products, longest - 1, rng),
        method=_indexes([len(products[p].repayment_methods) for p in product.tolist()], rng),
        guarantor=guarantor,
        collateral=_collateral(product, amount, rng),
        purpose=_indexes([len(MIX[p].purposes) for p in product.tolist()], rng),
    )


def _suits(people: Clientele, bureau: Bureau, customer: Ints) -> Floats:
    """1 where a product suits the customer — the admission rules' own conditions for the products that have
    them, farming households for 联保, a saver for a pledge, the countryside for whole-village credit — else 0:
    one column per product of MIX."""
    feeds = [bureau.columns["feeds"][c] for c in customer.tolist()]

    def having(*conditions: tuple[str, int]) -> npt.NDArray[np.bool_]:
        return np.array([all(f.get(key, 0) >= least for key, least in conditions) for f in feeds], dtype=bool)

    rural = people.township[customer] >= SUBDISTRICTS
    suits = {
        "zhengcun": rural,
        "puhui": np.ones(len(customer), dtype=bool),
        "lianbao": rural & (people.tagged("种植户") | people.tagged("养殖户"))[customer],
        "liushui": having(("qr_turnover_months", 6), ("qr_monthly_turnover_avg", 5000)),
        "shimin": having(("social_security_months", 12)),
        "cheyi": having(("car_loan_on_time_months", 12)),
        "dianshang": having(("ecommerce_shop_months", 12), ("ecommerce_monthly_sales_avg", 20_000)),
        "cundan_zhiya": people.deposit[customer] >= 30_000,
        "fangdi": np.ones(len(customer), dtype=bool),
    }
    return np.column_stack([suits[m.code] for m in MIX]).astype(np.float64)


def _choose(weights: Floats, rng: np.random.Generator) -> Ints:
    """A column of each row, with the row's weights."""
    cumulative = np.cumsum(weights, axis=1)
    draw = rng.random(len(weights)) * cumulative[:, -1]
    chosen: Ints = np.minimum((cumulative <= draw[:, None]).sum(axis=1), weights.shape[1] - 1)
    return chosen


def _indexes(sizes: list[int], rng: np.random.Generator) -> Ints:
    drawn: Ints = (rng.random(len(sizes)) * np.array(sizes, dtype=np.float64)).astype(np.int64)
    return drawn


def _amounts(product: Ints, products: list[Product], rng: np.random.Generator) -> Ints:
    """Log-uniform over what is usually applied for, in tens of thousands of yuan, within the product's range."""
    low = np.log(np.array([m.amounts[0] for m in MIX], dtype=np.float64))[product]
    high = np.log(np.array([m.amounts[1] for m in MIX], dtype=np.float64))[product]
    drawn = np.round(np.exp(rng.uniform(low, high)), -4)
    floor = np.array([p.amount.min for p in products])[product]
    ceiling = np.array([p.amount.max for p in products])[product]
    amounts: Ints = np.clip(drawn, floor, ceiling).astype(np.int64)
    return amounts


def _terms(product: Ints, products: list[Product], longest: Ints, rng: np.random.Generator) -> Ints:
    """A usual term the product lends for, over which the applicant stays within the age admission allows."""
    pairs = zip(product.tolist(), longest.tolist(), strict=True)
    weights = np.array([terms_within(products[p], cap) * TERM_WEIGHTS for p, cap in pairs])
    weights = weights.reshape(len(product), len(TERMS))
    terms: Ints = TERMS[_choose(weights, rng)]
    return terms


def _collateral(product: Ints, amount: Ints, rng: np.random.Generator) -> Ints:
    """A pledged deposit a little above what it secures (质押率 90%), an appraised home well above (抵押率 70%)."""
    codes = np.array([m.code for m in MIX])[product]
    pledge = np.round(amount * rng.uniform(1.12, 2.0, len(amount)), -3)
    home = np.round(amount / 0.7 * rng.uniform(1.05, 2.0, len(amount)), -4)
    collateral: Ints = np.select([codes == "cundan_zhiya", codes == "fangdi"], [pledge, home], 0).astype(np.int64)
    return collateral


def _applications(
    intended: Intended, people: Clientele, products: list[Product], village_ids: list[int]
) -> list[Application]:
    guarantee_of = {"cundan_zhiya": GuaranteeType.PLEDGE, "fangdi": GuaranteeType.MORTGAGE}
    found = []
    for number, (c, p, at, amount, term, method, guarantor, collateral, purpose) in enumerate(
        zip(intended.customer.tolist(), intended.product.tolist(), utc(intended.submitted), intended.amount.tolist(),
            intended.term.tolist(), intended.method.tolist(), intended.guarantor.tolist(),
            intended.collateral.tolist(), intended.purpose.tolist(), strict=True),
        1,
    ):  # fmt: skip
        product = products[p]
        takes_guarantor = guarantor >= 0 or product.guarantee_types == (GuaranteeType.GUARANTOR,)
        guarantee = GuaranteeType.GUARANTOR if takes_guarantor else guarantee_of.get(product.code, GuaranteeType.CREDIT)
        found.append(Application(
            number=number, customer=c, product=product, submitted_at=at, amount=amount, term=term,
            method=product.repayment_methods[method], guarantee=guarantee, guarantor=guarantor,
            collateral=collateral, purpose=MIX[p].purposes[purpose], marketer=int(people.manager[c]),
            village_id=village_ids[int(people.village[c])], township=int(people.township[c]),
        ))  # fmt: skip
    return found


def _settle(decided: Decided, lending: Lending, standings: list[Standing], customers: int) -> OwnBook:
    """Each loan's standing written into its row, what the lines have drawn, whether each guarantee is still in
    force (while its line is, or anything is owed on it); and what the bank's book says of each customer."""
    loans = lending.loans.columns
    loans["outstanding_principal"] = [s.outstanding for s in standings]
    loans["loan_class"] = [s.loan_class for s in standings]
    drawn: defaultdict[int, Decimal] = defaultdict(Decimal)
    overdue = [Decimal(0)] * customers
    owed = [Decimal(0)] * customers
    missed = np.zeros(customers, dtype=np.int64)
    for loan, standing in zip(lending.opened, standings, strict=True):
        drawn[loan.line_id] += standing.outstanding
        overdue[loan.customer] += standing.overdue_amount
        owed[loan.customer] += standing.outstanding
        missed[loan.customer] = max(missed[loan.customer], standing.missed)
    lines = decided.lines.columns
    lines["drawn"] = [drawn[line_id] for line_id in lines["id"]]
    in_force = {line_id for line_id, status, owing in zip(lines["id"], lines["status"], lines["drawn"], strict=True)
                if status == LINE_ACTIVE or owing > 0}  # fmt: skip
    line_of = dict(zip(lines["application_id"], lines["id"], strict=True))
    guarantees = decided.guarantees.columns
    guarantees["status"] = ["ACTIVE" if line_of[a] in in_force else "ENDED" for a in guarantees["application_id"]]
    count = np.zeros(customers, dtype=np.int64)
    amount = [Decimal(0)] * customers
    for guarantor_id, value, status in zip(guarantees["guarantor_id"], guarantees["amount"], guarantees["status"],
                                           strict=True):  # fmt: skip
        if status == "ACTIVE":
            count[guarantor_id - 1] += 1
            amount[guarantor_id - 1] += value
    return OwnBook(overdue_amount=overdue, missed_instalments=missed, owed=owed, guarantees_count=count,
                   guarantees_amount=amount)  # fmt: skip


def _projection(decided: Decided, lending: Lending, customers: Columns) -> Columns:
    """The customer's credit figures as the platform projects them from the records: outstanding principal of
    their loans, the total of their active lines, the worst class of the loans they still owe on. Whoever has a
    line is in the core-banking file."""
    count = len(customers["id"])
    balance = [Decimal(0)] * count
    worst: list[LoanClass | None] = [None] * count
    loans = lending.loans.columns
    for customer_id, owed, loan_class in zip(loans["customer_id"], loans["outstanding_principal"], loans["loan_class"],
                                             strict=True):  # fmt: skip
        c = customer_id - 1
        balance[c] += owed
        if owed > 0 and (worst[c] is None or CLASS_ORDER.index(loan_class) > CLASS_ORDER.index(worst[c])):
            worst[c] = loan_class
    line_total = [Decimal(0)] * count
    source = list(customers["source"])
    lines = decided.lines.columns
    for customer_id, amount, status in zip(lines["customer_id"], lines["amount"], lines["status"], strict=True):
        source[customer_id - 1] = CustomerSource.CORE_BANKING
        if status == LINE_ACTIVE:
            line_total[customer_id - 1] += amount
    return {"loan_balance": balance, "credit_line": line_total, "loan_class": worst, "source": source}
