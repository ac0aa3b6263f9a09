"""Assigning the credit factory's waiting applications to credit investigators (domain.credit.assignment.assign).

A county made up from a fixed seed: 18 townships of 15–30 villages (about 400), 19 outlets (one per township,
two in the county seat), the nine products of rules/products, and investigators spread over the outlets, each
with one of a handful of skill profiles (2–6 products), covering their outlet's township — some a neighbouring
township too, a few product specialists the whole county — about 3 % away (not active), with 0–8 open cases
of which up to 2 near their SLA. Applications pick a product (mostly 普惠贷), a village and, nine times in ten,
the outlet of the village's township (else the county seat's). About 5 % of investigators also hold the
customer-manager role; at their outlets one application in ten was marketed by one of them, the rest by
customer managers. Everything follows the seed.

Timed: assign() alone, the best of --repeat runs. Then, not timed, every assignment is checked to be eligible
and not the marketer, and investigators are grouped into eligibility classes (the same set of applications
eligible to each, worked out from the applications by brute force). max_spread is the worst, over classes, of
the highest final load less the lowest; receivers_spread the same counting only those given a case on the high
side, the bound assign() guarantees however unequal the loads it starts from.
Target: under 1 s at full size, no eligible investigator more than one case above another.

    python benchmarks/credit/assign_investigators.py            # 10,000 applications, 500 investigators
    python benchmarks/credit/assign_investigators.py --small    # 1,000 applications, 60 investigators
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.credit.assignment import (
    AssignmentPlan,
    Exclusion,
    Investigator,
    WaitingApplication,
    assign,
    eligible,
    exclusion,
)

SEED = 20261210
NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
TOWNSHIPS = 18
OUTLETS = 19  # one per township, and a second in the county seat (township 1)
PRODUCT_SHARES = {
    "puhui": 30,
    "liushui": 14,
    "shimin": 12,
    "cheyi": 10,
    "zhengcun": 10,
    "lianbao": 8,
    "dianshang": 7,
    "cundan_zhiya": 5,
    "fangdi": 4,
}
SKILL_PROFILES = (  # (products, share)
    (("puhui", "zhengcun", "lianbao"), 30),  # farm households
    (("puhui", "shimin", "cheyi", "dianshang"), 25),  # consumers in town
    (("puhui", "liushui", "dianshang"), 20),  # small traders
    (("cundan_zhiya", "fangdi"), 8),  # secured lending
    (("puhui", "liushui", "shimin", "cheyi", "zhengcun", "fangdi"), 17),  # seasoned all-rounders
)
MANAGER_IDS = 100_000  # customer managers' staff ids start here
DUAL_ROLE_SHARE = 0.05  # investigators who also hold the customer-manager role at a small outlet


def make_county(
    applications: int, investigators: int, seed: int
) -> tuple[list[WaitingApplication], list[Investigator]]:
    rng = random.Random(seed)
    villages: list[tuple[int, str]] = []  # (township, path)
    next_id = 2
    township_paths = {}
    for township in range(1, TOWNSHIPS + 1):
        township_paths[township] = f"/1/{next_id}/"
        next_id += 1
        for _ in range(rng.randint(15, 30)):
            villages.append((township, f"{township_paths[township]}{next_id}/"))
            next_id += 1
    outlet_township = {outlet: outlet if outlet <= TOWNSHIPS else 1 for outlet in range(1, OUTLETS + 1)}
    outlets_of: dict[int, list[int]] = defaultdict(list)
    for outlet, township in outlet_township.items():
        outlets_of[township].append(outlet)

    profiles = [profile for profile, _ in SKILL_PROFILES]
    weights = [share for _, share in SKILL_PROFILES]
    staff: list[Investigator] = []
    marketing: dict[int, list[int]] = defaultdict(list)  # investigators who also market, by outlet
    for n in range(investigators):
        staff_id = 1_000 + n
        outlet = n % OUTLETS + 1
        township = outlet_township[outlet]
        skills = frozenset(rng.choices(profiles, weights)[0])
        scopes = [township_paths[township]]
        if rng.random() < 0.2:
            scopes.append(township_paths[rng.randint(1, TOWNSHIPS)])
        if skills == {"cundan_zhiya", "fangdi"} and rng.random() < 0.3:
            scopes = ["/1/"]
        open_cases = rng.randint(0, 8)
        staff.append(
            Investigator(
                staff_id=staff_id,
                outlet_id=outlet,
                scope_paths=tuple(scopes),
                product_skills=skills,
                open_cases=open_cases,
                at_risk_cases=min(open_cases, rng.choice((0, 0, 0, 1, 2))),
                active=rng.random() > 0.03,
            )
        )
        if rng.random() < DUAL_ROLE_SHARE:
            marketing[outlet].append(staff_id)

    products, shares = list(PRODUCT_SHARES), list(PRODUCT_SHARES.values())
    waiting: list[WaitingApplication] = []
    for n in range(applications):
        township, path = rng.choice(villages)
        outlet = rng.choice(outlets_of[township]) if rng.random() < 0.9 else rng.choice(outlets_of[1])
        marketer = MANAGER_IDS + rng.randint(0, 399)
        if marketing[outlet] and rng.random() < 0.1:
            marketer = rng.choice(marketing[outlet])
        since = NOW - timedelta(minutes=rng.randint(0, 48 * 60))
        waiting.append(
            WaitingApplication(
                application_id=1 + n,
                product_code=rng.choices(products, shares)[0],
                village_path=path,
                outlet_id=outlet,
                marketer_id=marketer,
                waiting_since=since,
                sla_due=since + timedelta(minutes=rng.choice((120, 240, 480, 1440, 4320))),
            )
        )
    return waiting, staff


def eligibility_classes(applications: list[WaitingApplication], investigators: list[Investigator]) -> list[list[int]]:
    """Investigators grouped by the exact set of applications each may take (brute force over the distinct
    (product, village, outlet) of the applications, then less those they marketed)."""
    by_key: dict[tuple[str, str, int], list[WaitingApplication]] = defaultdict(list)
    for application in applications:
        by_key[application.product_code, application.village_path, application.outlet_id].append(application)
    classes: dict[frozenset[int], list[int]] = defaultdict(list)
    for investigator in investigators:
        if not investigator.active:
            continue
        ids = frozenset(
            a.application_id
            for group in by_key.values()
            if exclusion(investigator, group[0]) in (None, Exclusion.MARKETER)
            for a in group
            if a.marketer_id != investigator.staff_id
        )
        classes[ids].append(investigator.staff_id)
    return [members for ids, members in classes.items() if ids]


def check(
    plan: AssignmentPlan, applications: list[WaitingApplication], investigators: list[Investigator]
) -> dict[str, int]:
    by_app = {a.application_id: a for a in applications}
    by_staff = {i.staff_id: i for i in investigators}
    for assignment in plan.assignments:
        application, investigator = by_app[assignment.application_id], by_staff[assignment.staff_id]
        assert eligible(investigator, application), assignment
        assert investigator.staff_id != application.marketer_id, assignment
    assert len(plan.assignments) + len(plan.unassigned) == len(applications)
    given = Counter(a.staff_id for a in plan.assignments)
    final = {i.staff_id: i.load + given[i.staff_id] for i in investigators}
    max_spread = receivers_spread = 0
    classes = eligibility_classes(applications, investigators)
    for members in classes:
        low = min(final[s] for s in members)
        max_spread = max(max_spread, max(final[s] for s in members) - low)
        receivers = [final[s] for s in members if given[s]]
        if receivers:
            receivers_spread = max(receivers_spread, max(receivers) - low)
    shared = [members for members in classes if len(members) > 1]
    return {
        "max_spread": max_spread,
        "receivers_spread": receivers_spread,
        "classes": len(classes),
        "shared_classes": len(shared),
        "investigators_in_shared_classes": sum(len(members) for members in shared),
    }


def measure(applications: int = 10_000, investigators: int = 500, seed: int = SEED, repeat: int = 3) -> dict[str, Any]:
    waiting, staff = make_county(applications, investigators, seed)
    best = float("inf")
    plan = None
    for _ in range(repeat):
        started = time.perf_counter()
        plan = assign(waiting, staff, now=NOW)
        best = min(best, time.perf_counter() - started)
    assert plan is not None
    figures = check(plan, waiting, staff)
    return {
        "applications": applications,
        "investigators": investigators,
        "assign_s": round(best, 4),
        "assigned": len(plan.assignments),
        "unassigned": len(plan.unassigned),
        "unassigned_by_reason": dict(sorted(Counter(u.reason_code.value for u in plan.unassigned).items())),
        **figures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="1,000 applications and 60 investigators")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    args = parser.parse_args()
    sizes = (1_000, 60) if args.small else (10_000, 500)
    figures = measure(*sizes, seed=args.seed, repeat=args.repeat)
    print(
        f"{figures['applications']:,} applications, {figures['investigators']} investigators: "
        f"assign {figures['assign_s'] * 1000:.1f} ms (best of {args.repeat}); "
        f"{figures['assigned']:,} assigned, {figures['unassigned']} unassigned {figures['unassigned_by_reason']}"
    )
    print(
        f"{figures['classes']} eligibility classes ({figures['shared_classes']} of two or more, holding "
        f"{figures['investigators_in_shared_classes']} investigators): max spread {figures['max_spread']}, "
        f"among those given a case {figures['receivers_spread']}  (target: under 1 s, spread at most 1)"
    )
    print(json.dumps({"benchmark": "assign_investigators", **figures}))


if __name__ == "__main__":
    main()
