"""Whole-village screening and pre-approved limits for a whole county's surveyed households in one process: each
household's facts (survey, core-banking entry, court list) made up from a fixed seed before the clock starts,
then black/grey/white screening and, for white households, the limit — the decision files' precompiled content,
untraced, every evaluation kept with its inputs, outputs, version and hash (ours).

Baseline (named "traced one by one"): the naive path a first version would take — every household evaluated
with the engine's trace on, both decisions for every household whatever its list — on a sample, scaled to the
full size.

Prints households/s, the colours and the ratio, and ends with one JSON line. Target: 200,000 households < 5 s.

    python benchmarks/village_screening.py            # 200,000 households
    python benchmarks/village_screening.py --small    # 5,000 households
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.credit.decisions import DecisionBook
from domain.village_credit.screening import (
    LIMIT_DECISION,
    SCREENING_DECISION,
    CollectorRating,
    CoreFacts,
    HouseholdFacts,
    LimitBounds,
    RiskFlag,
    limit_inputs,
    screen_households,
    screening_inputs,
)
from resolvers.platform.gc_tuning import tune_gc

SEED = 20261202
BOUNDS = LimitBounds(5000, 300000)  # rules/products/zhengcun.toml
SURVEYED_ON = date(2026, 11, 1)


def synthetic_households(count: int, seed: int = SEED) -> list[HouseholdFacts]:
    """Households like a county's: mostly farmers with a few hundred thousand yuan of house and land, a tenth
    unknown to the core-banking file, a few overdue, on the court's list or noted for gambling. Also what
    benchmarks/survey_import.py can screen after importing its surveys."""
    rng = random.Random(seed)
    ratings = [CollectorRating.A, CollectorRating.B, CollectorRating.C, CollectorRating.D, None]
    households = []
    for survey_id in range(1, count + 1):
        income = Decimal(rng.randrange(10_000, 250_000, 100))
        core = None
        if rng.random() < 0.9:
            overdue = rng.choice((0,) * 40 + (5, 30, 60, 120))
            core = CoreFacts(
                overdue_days=overdue,
                max_overdue_days=max(overdue, rng.choice((0,) * 20 + (15, 45))),
                npl_history=rng.random() < 0.01,
                loan_balance=Decimal(rng.choice((0, 0, 0, 20_000, 50_000, 100_000))),
                deposit_balance=Decimal(rng.randrange(0, 200_000, 10)),
            )
        flags = frozenset({RiskFlag.GAMBLING}) if rng.random() < 0.005 else frozenset()
        households.append(
            HouseholdFacts(
                survey_id=survey_id,
                head_birth_date=SURVEYED_ON - timedelta(days=rng.randrange(20 * 365, 75 * 365)),
                surveyed_on=SURVEYED_ON,
                annual_income=income,
                annual_expenses=(income * Decimal(rng.uniform(0.3, 0.9))).quantize(Decimal(1)),
                assets=Decimal(rng.randrange(50_000, 800_000, 1000)),
                land_mu=Decimal(rng.randrange(0, 400)) / 10,
                debts_elsewhere=Decimal(rng.choice((0,) * 6 + (10_000, 50_000, 300_000))),
                collector_rating=rng.choice(ratings),
                risk_flags=flags,
                core=core,
                on_enforcement_list=rng.random() < 0.003,
            )
        )
    return households


_BOOK: DecisionBook | None = None


def _start_worker() -> None:
    global _BOOK
    _BOOK = DecisionBook.from_directory()


def _screen_part(bounds: tuple[int, int]) -> list[Decimal | None]:
    """One worker's share (households inherited from the parent at the fork), answered as a job chunk answers:
    the chunk writes its own rows, and hands back only what its report needs — here the limits, to compare."""
    assert _BOOK is not None
    start, stop = bounds
    return [o.proposed_limit for o in screen_households(_BOOK, _HOUSEHOLDS[start:stop], BOUNDS)]


_HOUSEHOLDS: Sequence[HouseholdFacts] = ()


def screen_in_processes(households: Sequence[HouseholdFacts], workers: int) -> list[Decimal | None]:
    """The same screening shared by `workers` processes, as the job's chunks are shared by the arq workers."""
    global _HOUSEHOLDS
    _HOUSEHOLDS = households
    size = 10_000
    parts = [(i, min(i + size, len(households))) for i in range(0, len(households), size)]
    with multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker) as pool:
        return [limit for limits in pool.map(_screen_part, parts) for limit in limits]


def measure(households: Sequence[HouseholdFacts], book: DecisionBook | None = None) -> dict[str, Any]:
    """Screening and limits for households already built (benchmarks/survey_import.py can call this with the
    facts of the surveys it imported): the seconds it took and what came out."""
    book = book or DecisionBook.from_directory()
    started = time.perf_counter()
    outcomes = screen_households(book, households, BOUNDS)
    seconds = time.perf_counter() - started
    colours = Counter(o.colour.value for o in outcomes)
    return {"households": len(outcomes), "screening_s": round(seconds, 3), **{c.lower(): n for c, n in colours.items()}}


def naive(book: DecisionBook, households: Sequence[HouseholdFacts]) -> None:
    for facts in households:
        book.evaluate(SCREENING_DECISION, screening_inputs(facts), engine_trace=True)
        book.evaluate(LIMIT_DECISION, limit_inputs(facts, BOUNDS), engine_trace=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="5,000 households")
    parser.add_argument("--households", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2, help="processes for the shared run (0: skip it)")
    args = parser.parse_args()
    count = args.households or (5_000 if args.small else 200_000)
    sample = min(count, 20_000)

    book = DecisionBook.from_directory()
    households = synthetic_households(count)
    screen_households(book, households[:100], BOUNDS)  # the engine's first evaluations, off the clock
    tune_gc()  # as the service and its workers run: what is alive frozen, young objects collected less often

    started = time.perf_counter()
    outcomes = screen_households(book, households, BOUNDS)
    ours_s = time.perf_counter() - started

    shared_s = None
    if args.workers > 1:
        started = time.perf_counter()
        shared = screen_in_processes(households, args.workers)
        shared_s = time.perf_counter() - started
        assert shared == [o.proposed_limit for o in outcomes]

    started = time.perf_counter()
    naive(book, households[:sample])
    baseline_s = (time.perf_counter() - started) * count / sample

    colours = Counter(o.colour.value for o in outcomes)
    limited = [o.proposed_limit for o in outcomes if o.proposed_limit is not None]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"households            {count:,}")
    print(f"lists                 {dict(sorted(colours.items()))}")
    print(f"white with a limit    {len(limited):,}, mean ¥{sum(limited) / max(len(limited), 1):,.0f}")
    print(f"ours (untraced)       {ours_s:.2f} s, {count / ours_s:,.0f} households/s, target < 5 s at 200,000")
    if shared_s is not None:
        print(f"ours, {args.workers} processes   {shared_s:.2f} s, {count / shared_s:,.0f} households/s")
    print(f"baseline (traced one by one, both decisions; {sample:,} measured, scaled) {baseline_s:.2f} s")
    print(f"ratio                 {baseline_s / ours_s:.1f}×")
    print(f"peak memory           {peak_mb:.0f} MB")
    print(
        json.dumps(
            {
                "benchmark": "village_screening",
                "households": count,
                "ours_s": round(ours_s, 2),
                "ours_processes_s": round(shared_s, 2) if shared_s is not None else None,
                "processes": args.workers,
                "baseline_s": round(baseline_s, 2),
                "ratio": round(baseline_s / ours_s, 1),
                "peak_mb": round(peak_mb),
            }
        )
    )


if __name__ == "__main__":
    main()
