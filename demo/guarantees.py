"""Who guarantees whom in the demo county's book (保证): for every application with a guarantor, the customer
who stands behind it, always of another household of the same village.

农户联保贷 is taken by groups of three to five farming households of a village applying together: each member's
loan is guaranteed by the next member, so a group is a chain (A guarantees B guarantees C …); the last member
is guaranteed by a neighbour from outside the group, or, in a few groups, by the first member, which closes the
chain into a circle (担保圈). 普惠贷 and 电商贷 with a guarantor take a neighbour, sometimes another borrower with
a guarantor of their own (chains across products), and a few pairs guarantee each other (A↔B). Nobody guarantees
more than two loans. guarantee_shapes finds the chains and circles in what was planned."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from demo.people import Bools, Ints

GROUP_SIZES = (3, 4, 5)
CIRCLE_SHARE = {2: 0.1, 3: 0.3}  # of joint-guarantee groups of two, and of three or more, closed into a circle
NEIGHBOUR_BORROWER_SHARE = 0.35  # of other guaranteed loans, guaranteed by a borrower who has a guarantor too
MUTUAL_SHARE = 0.03  # of other guaranteed loans, in a pair guaranteeing each other
MAX_GUARANTEES = 2
GROUP_DAYS = 3  # a group's members apply within a few days of the first
GROUP_WITHIN_DAYS = 365  # a group: households of a village meaning to apply within a year of the first
PAIR_WITHIN_DAYS = 60


@dataclass(frozen=True)
class Candidates:
    """What choosing guarantors needs to know of the applications (by index) and the customers."""

    customer: Ints  # customer index of each application
    joint: Bools  # 农户联保贷
    guaranteed: Bools  # takes a guarantor (every joint one included)
    again: Bools  # applied for again when a line ran out: not moved (it would overlap the line before)
    submitted_day: Ints  # days since the epoch
    village: Ints  # of each customer
    household: Ints  # of each customer
    may_guarantee: Bools  # of each customer: an adult of working age with a clean credit history


def plan_guarantors(c: Candidates, rng: np.random.Generator) -> tuple[Ints, Ints]:
    """The guarantor (customer index, −1 for none) of each application, and each application's submission day
    moved so that a joint group applies together."""
    guarantor = np.full(len(c.customer), -1, dtype=np.int64)
    day = c.submitted_day.copy()
    given: defaultdict[int, int] = defaultdict(int)
    neighbours = _neighbours(c)

    def outsider(application: int) -> int:
        borrower = int(c.customer[application])
        pool = neighbours.get(int(c.village[borrower]), np.empty(0, dtype=np.int64))
        for pick in rng.permutation(pool)[:50].tolist():
            if c.household[pick] != c.household[borrower] and given[pick] < MAX_GUARANTEES:
                return int(pick)
        return -1

    def stand(application: int, who: int) -> None:
        if who >= 0:
            guarantor[application] = who
            given[who] += 1

    for members in _joint_groups(c, rng):
        first = day[members[0]]
        day[members] = first + rng.integers(0, GROUP_DAYS + 1, len(members))
        for member, next_member in itertools.pairwise(members):
            stand(member, int(c.customer[next_member]))
        closes = len(members) > 1 and rng.random() < CIRCLE_SHARE[min(len(members), 3)]
        stand(members[-1], int(c.customer[members[0]]) if closes else outsider(members[-1]))
    others = np.flatnonzero(c.guaranteed & ~(c.joint & ~c.again))
    by_village: defaultdict[int, list[int]] = defaultdict(list)
    for application in others.tolist():
        by_village[int(c.village[c.customer[application]])].append(application)
    for application in others.tolist():
        if guarantor[application] >= 0:
            continue
        borrower = int(c.customer[application])
        peers = [
            p for p in by_village[int(c.village[borrower])]
            if c.household[c.customer[p]] != c.household[borrower] and given[int(c.customer[p])] < MAX_GUARANTEES
            and abs(int(c.submitted_day[p]) - int(c.submitted_day[application])) <= PAIR_WITHIN_DAYS
        ]  # fmt: skip
        draw = rng.random()
        if peers and draw < MUTUAL_SHARE:
            peer = peers[int(rng.integers(len(peers)))]
            if guarantor[peer] < 0 and given[borrower] < MAX_GUARANTEES and not c.again[peer]:
                day[peer] = day[application] + int(rng.integers(0, GROUP_DAYS + 1))
                stand(application, int(c.customer[peer]))
                stand(peer, borrower)
                continue
        if peers and draw < MUTUAL_SHARE + NEIGHBOUR_BORROWER_SHARE:
            stand(application, int(c.customer[peers[int(rng.integers(len(peers)))]]))
            continue
        stand(application, outsider(application))
    return guarantor, day


def _neighbours(c: Candidates) -> dict[int, Ints]:
    """The customers who may guarantee, by village."""
    able = np.flatnonzero(c.may_guarantee)
    order = able[np.argsort(c.village[able], kind="stable")]
    villages, starts = np.unique(c.village[order], return_index=True)
    return {int(v): part for v, part in zip(villages.tolist(), np.split(order, starts[1:]), strict=True)}


def _joint_groups(c: Candidates, rng: np.random.Generator) -> list[list[int]]:
    """The joint-guarantee applications of each village in the order they came, cut into groups of three to five
    households meaning to apply within GROUP_WITHIN_DAYS of the first (a group may stay smaller, down to one);
    an application made again is on its own."""
    joint = np.flatnonzero(c.joint & ~c.again)
    order = joint[np.lexsort((c.submitted_day[joint], c.village[c.customer[joint]]))]
    groups: list[list[int]] = []
    village_of = c.village[c.customer[order]]
    for village in np.unique(village_of).tolist():
        queue = order[village_of == village].tolist()
        while queue:
            size = int(rng.choice(GROUP_SIZES))
            group: list[int] = []
            households: set[int] = set()
            while queue and len(group) < size:
                if group and c.submitted_day[queue[0]] > c.submitted_day[group[0]] + GROUP_WITHIN_DAYS:
                    break
                application = queue.pop(0)
                household = int(c.household[c.customer[application]])
                if household in households:
                    groups.append([application])  # the same household twice: on its own
                    continue
                households.add(household)
                group.append(application)
            groups.append(group)
    return groups


@dataclass(frozen=True)
class GuaranteeShapes:
    guarantees: int
    chained: int  # guarantees whose guarantor is guaranteed in turn (A → B → C counts B's)
    longest_chain: int  # guarantees in the longest chain without a circle
    circles: int  # groups of customers guaranteeing round in a circle
    mutual_pairs: int  # circles of two (A ↔ B)


def guarantee_shapes(pairs: Iterable[tuple[int, int]]) -> GuaranteeShapes:
    """The chains and circles of (guarantor, borrower) pairs between customers."""
    edges = sorted(set(pairs))
    out: defaultdict[int, set[int]] = defaultdict(set)
    into: defaultdict[int, set[int]] = defaultdict(set)
    for guarantor, borrower in edges:
        out[guarantor].add(borrower)
        into[borrower].add(guarantor)
    components = _strongly_connected(out, into)
    circles = [group for group in components if len(group) > 1]
    in_circle = {node for group in circles for node in group}
    return GuaranteeShapes(
        guarantees=len(edges),
        chained=sum(1 for guarantor, _ in edges if into.get(guarantor)),
        longest_chain=_longest_path(out, in_circle),
        circles=len(circles),
        mutual_pairs=sum(1 for group in circles if len(group) == 2),
    )


def _strongly_connected(out: dict[int, set[int]], into: dict[int, set[int]]) -> list[set[int]]:
    """Kosaraju's two passes, iteratively (chains can be long)."""
    nodes = sorted(set(out) | set(into))
    finished: list[int] = []
    seen: set[int] = set()
    for start in nodes:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(sorted(out.get(start, ()))))]
        while stack:
            node, children = stack[-1]
            child = next((c for c in children if c not in seen), None)
            if child is None:
                stack.pop()
                finished.append(node)
            else:
                seen.add(child)
                stack.append((child, iter(sorted(out.get(child, ())))))
    components: list[set[int]] = []
    assigned: set[int] = set()
    for start in reversed(finished):
        if start in assigned:
            continue
        component, todo = set(), [start]
        assigned.add(start)
        while todo:
            node = todo.pop()
            component.add(node)
            for parent in into.get(node, ()):
                if parent not in assigned:
                    assigned.add(parent)
                    todo.append(parent)
        components.append(component)
    return components


def _longest_path(out: dict[int, set[int]], in_circle: set[int]) -> int:
    """Guarantees in the longest path that runs through no circle (the graph outside circles has no cycle)."""
    length: dict[int, int] = {}
    for start in sorted(out):
        if start in in_circle or start in length:
            continue
        stack = [start]
        while stack:
            node = stack[-1]
            pending = [c for c in out.get(node, ()) if c not in in_circle and c not in length]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            length[node] = max((length[c] + 1 for c in out.get(node, ()) if c not in in_circle), default=0)
    return max(length.values(), default=0)
