"""Automatic assignment of credit applications to credit investigators (分配调查, the credit factory's assignment
stage), and the checks on a branch president's reassignment.

Who may investigate an application (`exclusion` names the first rule that fails, in this order):
  1. an active investigator (在岗);
  2. with the application's product skill;
  3. who covers it: works at the outlet that took the application (同网点), or has a grid scope holding the
     application's village (网格覆盖) — either one is enough;
  4. and did not market it (三岗分离: marketing and investigation are kept apart).

How outlet and grid combine: both make an investigator eligible, and then all the eligible compete on load. The
outlet counts only as the first tie-break: of two investigators with the same load, the one at the application's
outlet is preferred to one covering its village from another outlet. A strict fallback (grid-covering
investigators only when the outlet has nobody) would leave a neighbouring outlet's idle investigator waiting while
the outlet's own queue grows, when the point is to balance the work.

Load is open cases + AT_RISK_WEIGHT × open cases near or past their SLA: those take the investigator's next hours,
so new work goes first to whoever holds fewer of them. The run (`assign`) takes the applications in SLA order
(earliest sla_due, then earliest waiting_since, then id); each goes to the eligible investigator with the lowest
load, then same outlet before grid, then the lower staff id, and that investigator's load goes up by one before
the next. The same applications and investigators give the same plan whatever order they come in, and of
investigators eligible for the same applications none ends more than one case above another, given equal
starting loads (from unequal ones: none given a case ends more than one above anyone else in that group).

The run never looks at all investigators for an application: investigators are grouped by (outlet, skill) and by
(scope path, skill), each group a heap ordered by (load, staff id) with stale entries dropped as they surface.
An application reads the tops of its outlet's group and of the groups of its village's paths.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from domain.credit.errors import CreditErrorCode
from domain.errors import DomainError, ErrorCode
from domain.grid.paths import inside
from domain.text import first_invisible

# An open case near or past its SLA counts as this many cases more.
AT_RISK_WEIGHT = 1
MAX_REASON_LENGTH = 200
_GRID_PATH = re.compile(r"/(?:[0-9]+/)+")


@dataclass(frozen=True)
class Investigator:
    """A credit investigator (授信经理) as the assignment sees them."""

    staff_id: int
    outlet_id: int | None  # None: works from no outlet (a central post), covers by grid only
    scope_paths: tuple[str, ...]  # grid subtrees they work in, e.g. ("/1/4/",)
    product_skills: frozenset[str]  # product codes they may investigate
    open_cases: int
    at_risk_cases: int  # of the open cases, those near or past their SLA
    active: bool

    def __post_init__(self) -> None:
        if not 0 <= self.at_risk_cases <= self.open_cases:
            raise ValueError(f"investigator {self.staff_id}: at-risk cases must be between 0 and the open cases")
        for path in self.scope_paths:
            if not _GRID_PATH.fullmatch(path):
                raise ValueError(f"investigator {self.staff_id}: {path!r} is not a grid path such as /1/4/")

    @property
    def load(self) -> int:
        return self.open_cases + AT_RISK_WEIGHT * self.at_risk_cases


@dataclass(frozen=True)
class WaitingApplication:
    """The facts of an application that decide who may investigate it (waiting, or already assigned)."""

    application_id: int
    product_code: str
    village_path: str  # the applicant's village, e.g. "/1/4/17/"
    outlet_id: int | None  # the outlet that took the application (None: taken outside any outlet)
    marketer_id: int  # the staff member who marketed it
    waiting_since: datetime
    sla_due: datetime

    def __post_init__(self) -> None:
        if not _GRID_PATH.fullmatch(self.village_path):
            raise ValueError(f"application {self.application_id}: {self.village_path!r} is not a grid path")


@dataclass(frozen=True)
class Assignment:
    application_id: int
    staff_id: int
    reason_zh: str
    reason_en: str
    open_cases_before: int  # the investigator's open cases just before, counting those given earlier in the run


class UnassignedReason(StrEnum):
    NO_ACTIVE_INVESTIGATOR = "NO_ACTIVE_INVESTIGATOR"
    NO_PRODUCT_SKILL = "NO_PRODUCT_SKILL"
    NOT_COVERED = "NOT_COVERED"
    ONLY_THE_MARKETER = "ONLY_THE_MARKETER"


@dataclass(frozen=True)
class Unassigned:
    """An application nobody may investigate; reason_code says which rule excluded the last investigators."""

    application_id: int
    reason_code: UnassignedReason
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class AssignmentPlan:
    assignments: tuple[Assignment, ...]  # in the order they were made (SLA order)
    unassigned: tuple[Unassigned, ...]


class Exclusion(StrEnum):
    """Why one investigator may not investigate one application."""

    INACTIVE = "INACTIVE"
    NO_PRODUCT_SKILL = "NO_PRODUCT_SKILL"
    NOT_COVERING = "NOT_COVERING"
    MARKETER = "MARKETER"


class Tier(IntEnum):
    """How an eligible investigator covers an application; the lower is preferred on equal load."""

    SAME_OUTLET = 0
    GRID = 1


def exclusion(investigator: Investigator, application: WaitingApplication) -> Exclusion | None:
    """The first rule that keeps the investigator off the application, or None when they are eligible."""
    if not investigator.active:
        return Exclusion.INACTIVE
    if application.product_code not in investigator.product_skills:
        return Exclusion.NO_PRODUCT_SKILL
    if not same_outlet(investigator, application) and not inside(application.village_path, investigator.scope_paths):
        return Exclusion.NOT_COVERING
    if investigator.staff_id == application.marketer_id:
        return Exclusion.MARKETER
    return None


def same_outlet(investigator: Investigator, application: WaitingApplication) -> bool:
    """Both at one outlet; nobody shares "no outlet"."""
    return investigator.outlet_id is not None and investigator.outlet_id == application.outlet_id


def eligible(investigator: Investigator, application: WaitingApplication) -> bool:
    return exclusion(investigator, application) is None


def tier(investigator: Investigator, application: WaitingApplication) -> Tier:
    """For an eligible investigator: same outlet, else covering the village by grid."""
    return Tier.SAME_OUTLET if same_outlet(investigator, application) else Tier.GRID


def exclusion_text(reason: Exclusion, product_zh: str, product_code: str) -> tuple[str, str]:
    """What keeps an investigator off an application, as the end of "cannot go to this investigator: …"."""
    match reason:
        case Exclusion.INACTIVE:
            return "不在岗", "not active"
        case Exclusion.NO_PRODUCT_SKILL:
            return f"不具备{product_zh}产品技能", f"without the product skill {product_code}"
        case Exclusion.NOT_COVERING:
            return (
                "不在受理网点,网格范围也不含申请人所在村",
                "neither at the outlet that took it nor covering its village",
            )
        case Exclusion.MARKETER:
            return "其为该申请的营销人,营销与调查须分离", "its marketer, and marketing and investigation are kept apart"


def sla_order(applications: Iterable[WaitingApplication]) -> list[WaitingApplication]:
    """Most urgent first: earliest sla_due, then earliest waiting_since, then application id."""
    return sorted(applications, key=lambda a: (a.sla_due, a.waiting_since, a.application_id))


def assign(
    applications: Iterable[WaitingApplication],
    investigators: Iterable[Investigator],
    *,
    now: datetime,
    product_names_zh: Mapping[str, str] | None = None,
) -> AssignmentPlan:
    """Assign every application it can, most urgent first, each to the least-loaded eligible investigator (see
    the module's docstring for the order of preference). `now` is the run's time: an application already past its
    SLA says so in its explanation; it never changes who gets what. `product_names_zh` gives the Chinese product
    names for the explanations (the code where missing)."""
    names = product_names_zh or {}
    board = _Board(investigators)
    assignments: list[Assignment] = []
    unassigned: list[Unassigned] = []
    for application in _unique(sla_order(applications)):
        product_zh = names.get(application.product_code, application.product_code)
        ranked = board.front(application)
        if not ranked:
            unassigned.append(board.unassigned(application, product_zh))
            continue
        load, chosen_tier, staff_id = ranked[0]
        investigator = board.by_id[staff_id]
        open_before = investigator.open_cases + board.given[staff_id]
        reason_zh, reason_en = _explain(
            investigator,
            open_before,
            chosen_tier,
            load,
            ranked[1] if len(ranked) > 1 else None,
            application.product_code,
            product_zh,
        )
        if application.sla_due <= now:
            reason_zh, reason_en = f"已超时限;{reason_zh}", f"past its SLA; {reason_en}"
        assignments.append(Assignment(application.application_id, staff_id, reason_zh, reason_en, open_before))
        board.give(staff_id)
    return AssignmentPlan(tuple(assignments), tuple(unassigned))


def _unique(applications: list[WaitingApplication]) -> list[WaitingApplication]:
    if len({a.application_id for a in applications}) != len(applications):
        raise ValueError("an application is listed twice")
    return applications


_Entry = tuple[int, int]  # (load, staff id) in a group's heap


class _Board:
    """The investigators' current loads and the heaps of their groups, for one run."""

    def __init__(self, investigators: Iterable[Investigator]) -> None:
        self.by_id: dict[int, Investigator] = {}
        for investigator in sorted(investigators, key=lambda i: i.staff_id):
            if investigator.staff_id in self.by_id:
                raise ValueError(f"investigator {investigator.staff_id} is listed twice")
            self.by_id[investigator.staff_id] = investigator
        active = [i for i in self.by_id.values() if i.active]
        self.loads = {i.staff_id: i.load for i in active}
        self.given = dict.fromkeys(self.loads, 0)
        self.skills = frozenset().union(*(i.product_skills for i in active))
        self.by_outlet: dict[tuple[int, str], list[_Entry]] = {}
        self.by_scope: dict[tuple[str, str], list[_Entry]] = {}
        self.groups: dict[int, list[list[_Entry]]] = {}
        for i in active:
            entry = (i.load, i.staff_id)
            heaps: list[list[_Entry]] = []
            if i.outlet_id is not None:
                heaps = [self.by_outlet.setdefault((i.outlet_id, skill), []) for skill in i.product_skills]
            heaps += [
                self.by_scope.setdefault((p, skill), []) for p in set(i.scope_paths) for skill in i.product_skills
            ]
            for heap in heaps:
                heap.append(entry)
            self.groups[i.staff_id] = heaps
        for heap in (*self.by_outlet.values(), *self.by_scope.values()):
            heapq.heapify(heap)
        self._heaps_for: dict[tuple[str, str, int | None], list[list[_Entry]]] = {}

    def heaps_for(self, application: WaitingApplication) -> list[list[_Entry]]:
        """The groups whose members cover the application: its outlet's and those of its village's paths."""
        key = (application.product_code, application.village_path, application.outlet_id)
        heaps = self._heaps_for.get(key)
        if heaps is None:
            product, path = application.product_code, application.village_path
            keys = [(path[: i + 1], product) for i, char in enumerate(path) if char == "/" and i > 0]
            heaps = [self.by_scope[k] for k in keys if k in self.by_scope]
            outlet = self.by_outlet.get((application.outlet_id, product)) if application.outlet_id is not None else None
            if outlet is not None:
                heaps.append(outlet)
            self._heaps_for[key] = heaps
        return heaps

    def front(self, application: WaitingApplication) -> list[tuple[int, Tier, int]]:
        """The best two eligible investigators as (load, tier, staff id), best first; empty when none is.

        The best of all is the best of the groups' tops: whoever the tops of the others are, the outlet group holds
        every same-outlet candidate and a grid group's top is its best on (load, staff id). Taking two from each
        group also yields the runner-up, which says whether the choice was on load or on a tie-break."""
        marketer, outlet = application.marketer_id, application.outlet_id
        seen: dict[int, int] = {}
        for heap in self.heaps_for(application):
            for load, staff_id in self._two_best(heap, marketer):
                seen[staff_id] = load
        ranked = sorted(
            (load, Tier.SAME_OUTLET if outlet is not None and self.by_id[s].outlet_id == outlet else Tier.GRID, s)
            for s, load in seen.items()
        )
        return ranked[:2]

    def _two_best(self, heap: list[_Entry], marketer: int) -> list[_Entry]:
        """The group's two best current entries other than the marketer; stale entries are dropped for good."""
        loads = self.loads
        kept: list[_Entry] = []
        best: list[_Entry] = []
        while heap and len(best) < 2:
            entry = heapq.heappop(heap)
            if loads[entry[1]] != entry[0]:
                continue
            kept.append(entry)
            if entry[1] != marketer:
                best.append(entry)
        for entry in kept:
            heapq.heappush(heap, entry)
        return best

    def give(self, staff_id: int) -> None:
        load = self.loads[staff_id] + 1
        self.loads[staff_id] = load
        self.given[staff_id] += 1
        for heap in self.groups[staff_id]:
            heapq.heappush(heap, (load, staff_id))

    def unassigned(self, application: WaitingApplication, product_zh: str) -> Unassigned:
        """Which rule left nobody: no one active, no one with the skill, nobody covering, or only the marketer."""
        code = application.product_code
        if not self.loads:
            reason = UnassignedReason.NO_ACTIVE_INVESTIGATOR
            zh, en = "没有在岗的授信经理", "no credit investigator is active"
        elif code not in self.skills:
            reason = UnassignedReason.NO_PRODUCT_SKILL
            zh, en = (
                f"没有具备{product_zh}产品技能的在岗授信经理",
                f"no active investigator has the product skill {code}",
            )
        elif not any(self.heaps_for(application)):
            reason = UnassignedReason.NOT_COVERED
            zh = f"具备{product_zh}产品技能的授信经理都不在受理网点,网格范围也不含申请人所在村"
            en = f"no investigator with the product skill {code} is at the outlet that took it or covers its village"
        else:
            reason = UnassignedReason.ONLY_THE_MARKETER
            zh, en = "唯一符合条件的授信经理是该申请的营销人", "the only eligible investigator marketed it"
        return Unassigned(application.application_id, reason, zh, en)


def _explain(
    investigator: Investigator,
    open_before: int,
    chosen_tier: Tier,
    load: int,
    runner_up: tuple[int, Tier, int] | None,
    product_code: str,
    product_zh: str,
) -> tuple[str, str]:
    """The facts the choice rested on, e.g. 同网点、具备普惠贷产品技能、在办 3 件、负荷 3(最低) / same outlet,
    product skill puhui, 3 open cases, load 3, the lowest."""
    at_risk = investigator.at_risk_cases
    where_zh, where_en = (
        ("同网点", "same outlet") if chosen_tier is Tier.SAME_OUTLET else ("网格覆盖该村", "covers the village")
    )
    cases_en = f"{open_before} open case" + ("" if open_before == 1 else "s")
    risk_zh = f"(其中临近时限 {at_risk} 件)" if at_risk else ""
    risk_en = f" ({at_risk} near the SLA)" if at_risk else ""
    if runner_up is None:
        why_zh, why_en = "唯一符合条件", "the only one eligible"
    elif runner_up[0] > load:
        why_zh, why_en = "最低", "the lowest"
    elif runner_up[1] > chosen_tier:
        why_zh, why_en = "并列最低,同网点优先", "tied for the lowest, same outlet preferred"
    else:
        why_zh, why_en = "并列最低,工号较小", "tied for the lowest, lower staff id"
    return (
        f"{where_zh}、具备{product_zh}产品技能、在办 {open_before} 件{risk_zh}、负荷 {load}({why_zh})",
        f"{where_en}, product skill {product_code}, {cases_en}{risk_en}, load {load}, {why_en}",
    )


def clean_reassignment_reason(reason: str) -> str:
    """A branch president's reason for a reassignment, trimmed: required, at most MAX_REASON_LENGTH characters,
    nothing invisible."""
    cleaned = reason.strip()
    if not cleaned:
        raise DomainError(
            CreditErrorCode.REASSIGN_REASON_REQUIRED, "改派须填写原因", "a reassignment needs a reason", "reason"
        )
    if len(cleaned) > MAX_REASON_LENGTH:
        raise DomainError(
            ErrorCode.VALUE_TOO_LONG,
            f"改派原因不能超过{MAX_REASON_LENGTH}字",
            f"the reason may have at most {MAX_REASON_LENGTH} characters",
            "reason",
        )
    char = first_invisible(cleaned)
    if char is not None:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"改派原因含有控制字符或不可见字符(U+{ord(char):04X})",
            f"the reason contains a control or invisible character (U+{ord(char):04X})",
            "reason",
        )
    return cleaned


def check_reassignment(
    application: WaitingApplication,
    new_investigator: Investigator,
    reason: str,
    *,
    product_name_zh: str | None = None,
    current_investigator_id: int | None = None,
) -> None:
    """A branch president moves an application to another investigator: the same rules as the automatic run
    (active, product skill, outlet or grid, never the marketer), and a reason. Moving it to the investigator who
    already has it is refused: it would restart the SLA clock and tell them of work they hold. Whether the
    president may act on the application and the investigator (their branch) is the use case's scope check,
    not this one's."""
    clean_reassignment_reason(reason)
    if current_investigator_id is not None and current_investigator_id == new_investigator.staff_id:
        raise DomainError(
            CreditErrorCode.ALREADY_WITH_INVESTIGATOR,
            f"申请{application.application_id}已由该授信经理调查,无需改派",
            f"application {application.application_id} is already with this investigator",
            "investigatorId",
        )
    _check_eligible(application, new_investigator, product_name_zh or application.product_code)


def check_bulk_reassignment(
    applications: Sequence[WaitingApplication],
    new_investigator: Investigator,
    reason: str,
    *,
    product_names_zh: Mapping[str, str] | None = None,
) -> None:
    """Several applications to one investigator, all or none: the first one the investigator may not take is
    refused, naming the application."""
    clean_reassignment_reason(reason)
    if not applications:
        raise DomainError(
            ErrorCode.INVALID_VALUE, "请选择要改派的申请", "choose the applications to reassign", "applications"
        )
    names = product_names_zh or {}
    for application in applications:
        _check_eligible(application, new_investigator, names.get(application.product_code, application.product_code))


def _check_eligible(application: WaitingApplication, investigator: Investigator, product_zh: str) -> None:
    reason = exclusion(investigator, application)
    if reason is None:
        return
    why_zh, why_en = exclusion_text(reason, product_zh, application.product_code)
    raise DomainError(
        CreditErrorCode.INVESTIGATOR_NOT_ELIGIBLE,
        f"申请{application.application_id}不能改派给该授信经理:{why_zh}",
        f"application {application.application_id} cannot go to this investigator: {why_en}",
        "investigatorId",
    )
