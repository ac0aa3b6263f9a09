"""Whole-village credit's cleaning and merge at provincial scale: 200,000 household surveys (about 650,000
people, 5 % of households surveyed twice with the collectors' slips) de-duplicated in process, and merged with
a 1,000,000-customer core-banking file on PostgreSQL.

- de-duplication, ours: blocking (name pinyin + phone, phone halves, name + birth date, name + address) and
  scoring the pairs that share a block (domain.village_credit.dedup.find_duplicates), with precision and recall
  on the labelled set; baseline: every pair scored (naive_duplicates) on a sample, extrapolated by the number
  of pairs (n²).
- merge: the core feed as CSV, checked cell by cell (resolvers.village_credit.core_file.read_feed) and
  upserted in one transaction (COPY into a temporary table, one INSERT … ON CONFLICT per part), imported
  again (nothing changes), then every surveyed person linked by ID number (core_rows_for + link_people).

    .venv/bin/python benchmarks/village_dedup.py [--small] [--database-url postgres://…/pcbench]

Ends with one line of JSON. The bulk functions are the ones the product runs: the survey-import benchmark can
call `dedup_figures` and `merge_figures` with its own people.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from tortoise import Tortoise, connections
from tortoise.transactions import in_transaction

from demo.duplicates import LabelledSet, labelled_set
from domain.customers.idcard import make_id_number
from domain.village_credit.dedup import PersonRecord, find_duplicates, measure, naive_duplicates
from resolvers.platform.migrate import run_migrations
from resolvers.village_credit.core_file import (
    FeedKind,
    SurveyedPerson,
    core_rows_for,
    link_people,
    read_feed,
    upsert_rows,
)
from settings import tortoise_config

HEADER = (
    "id_number,name,phone,address,deposit_balance,loan_balance,overdue_amount,overdue_days,max_overdue_days,"
    "npl_history,has_ebanking,has_third_party_payment,has_social_security_card,as_of\n"
)
PART = 100_000  # feed rows checked and written at a time, all parts in one transaction
KNOWN_SHARE = 0.7  # of the surveyed people, those the bank already has
CHANGED_SHARE = 0.1  # of those, a phone the core file holds otherwise


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def dedup_figures(labelled: LabelledSet, sample: int) -> dict[str, Any]:
    """Ours over everyone against every pair of a sample, extrapolated; precision and recall on the labels."""
    t0 = time.perf_counter()
    found = find_duplicates(labelled.people)
    ours = time.perf_counter() - t0
    measured = measure(found, labelled.true_pairs)
    rng = random.Random(5)
    chosen = rng.sample(labelled.people, min(sample, len(labelled.people)))
    t0 = time.perf_counter()
    naive_duplicates(chosen)
    naive_sample = time.perf_counter() - t0
    baseline = naive_sample * (len(labelled.people) / len(chosen)) ** 2
    print(f"de-duplication of {len(labelled.people):,} people in {labelled.households:,} surveys: "
          f"ours {ours:.1f} s, every pair (from {len(chosen):,} in {naive_sample:.1f} s) ≈ {baseline:,.0f} s, "
          f"×{baseline / ours:,.0f}")  # fmt: skip
    print(f"  labelled pairs {len(labelled.true_pairs):,}: precision {measured.precision:.4f}, "
          f"recall {measured.recall:.4f} (tp {measured.true_positives}, fp {measured.false_positives}, "
          f"fn {measured.false_negatives})")  # fmt: skip
    return {
        "people": len(labelled.people),
        "surveys": labelled.households,
        "dedup_s": round(ours, 2),
        "dedup_baseline_s": round(baseline, 1),
        "dedup_ratio": round(baseline / ours, 1),
        "precision": round(measured.precision, 4),
        "recall": round(measured.recall, 4),
    }


def core_feed_parts(people: list[PersonRecord], customers: int) -> list[str]:
    """The core feed as CSV parts: KNOWN_SHARE of the surveyed people (CHANGED_SHARE of them with another phone),
    filled up to `customers` with people the surveys never met."""
    rng = random.Random(9)
    lines: list[str] = []
    seen: set[str] = set()
    for p in people:
        if p.id_number in seen or rng.random() > KNOWN_SHARE:
            continue
        seen.add(p.id_number)
        phone = p.phone or ""
        if phone and rng.random() < CHANGED_SHARE:
            phone = "139" + phone[3:]
        lines.append(f"{p.id_number},{p.name},{phone},{p.address},{rng.randrange(100000)}.00,0,0,0,0,0,1,0,1,"
                     "2026-11-30\n")  # fmt: skip
    sequence = 0
    while len(lines) < customers:
        sequence += 1
        birth = date(1940, 1, 1) + timedelta(days=sequence % 25_000)  # 25,000 days × 1,000 sequence numbers
        number = make_id_number("320300", birth, (sequence // 25_000) % 1000)
        if number in seen:
            continue
        seen.add(number)
        lines.append(f"{number},客户{sequence},,睢宁县,{sequence % 50000}.00,0,0,0,0,0,0,1,0,2026-11-30\n")
    return [HEADER + "".join(lines[i : i + PART]) for i in range(0, len(lines), PART)]


async def _import(parts: list[str]) -> tuple[float, float, tuple[int, int, int]]:
    """Check and upsert every part in one transaction: (check seconds, write seconds, counts)."""
    check = write = 0.0
    totals = [0, 0, 0]
    at = datetime.now(UTC)
    async with in_transaction() as conn:
        for part in parts:
            t0 = time.perf_counter()
            rows, _problems, count = read_feed(FeedKind.CORE_FILE, part)
            assert count == 0, _problems[:3]
            t1 = time.perf_counter()
            counts = await upsert_rows(conn, FeedKind.CORE_FILE, rows, at)
            write += time.perf_counter() - t1
            check += t1 - t0
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
    return check, write, (totals[0], totals[1], totals[2])


async def merge_figures(people: list[PersonRecord], customers: int) -> dict[str, Any]:
    """Load the core feed (empty file first), import it again, link every surveyed person."""
    conn = connections.get("default")
    await conn.execute_script("TRUNCATE core_customer_file")
    parts = core_feed_parts(people, customers)
    check, write, (inserted, updated, unchanged) = await _import(parts)
    print(f"core feed of {customers:,} customers: checked in {check:.1f} s, written in {write:.1f} s "
          f"({inserted:,} new, {updated:,} changed, {unchanged:,} unchanged)")  # fmt: skip
    again_check, again_write, again = await _import(parts)
    assert again == (0, 0, customers), again
    print(f"  the same feed again: {again_check + again_write:.1f} s, nothing changed")
    surveyed = [SurveyedPerson(p.household, p.id_number, p.name, p.phone, p.address) for p in people]
    t0 = time.perf_counter()
    links = link_people(surveyed, await core_rows_for(conn, [p.id_number for p in surveyed]))
    link = time.perf_counter() - t0
    counts = {s: sum(k.status == s for k in links) for s in ("NEW", "UNCHANGED", "CHANGED")}
    print(f"  {len(surveyed):,} surveyed people linked in {link:.1f} s: {counts}")
    return {
        "core_customers": customers,
        "core_check_s": round(check, 2),
        "core_write_s": round(write, 2),
        "core_reimport_s": round(again_check + again_write, 2),
        "link_s": round(link, 2),
        "linked_new": counts["NEW"],
        "linked_changed": counts["CHANGED"],
    }


async def ensure_database(url: str) -> None:
    """Create the benchmark's database when it is absent, and migrate it."""
    base, name = url.rsplit("/", 1)
    admin = await asyncpg.connect(f"{base}/postgres".replace("postgres://", "postgresql://", 1))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await run_migrations(url)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    labelled = labelled_set(args.households, seed=2026)
    print(f"labelled set of {labelled.households:,} surveys generated in {time.perf_counter() - t0:.1f} s")
    figures = {"benchmark": "village_dedup"} | dedup_figures(labelled, args.sample)
    await ensure_database(args.database_url)
    await Tortoise.init(config=tortoise_config(args.database_url))
    try:
        figures |= await merge_figures(labelled.people, args.customers)
    finally:
        await Tortoise.close_connections()
    figures |= {"ours_s": figures["dedup_s"], "baseline_s": figures["dedup_baseline_s"],
                "ratio": figures["dedup_ratio"], "peak_mb": peak_mb()}  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="5,000 surveys against 50,000 customers")
    parser.add_argument("--households", type=int, default=None, help="surveys before the second ones (200,000)")
    parser.add_argument("--customers", type=int, default=None, help="the core file's customers (1,000,000)")
    parser.add_argument("--sample", type=int, default=None, help="people the every-pair baseline scores (3,000)")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/pcbench")
    args = parser.parse_args()
    args.households = args.households or (5_000 if args.small else 200_000)
    args.customers = args.customers or (50_000 if args.small else 1_000_000)
    args.sample = args.sample or (1_000 if args.small else 3_000)
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
