"""Bulk import of household surveys: 200,000 households (about 600,000 people) from the spreadsheets banks
keep, as XLSX (xlsxwriter, constant memory) and as CSV, read, mapped and checked by the import's own code
(domain/village_credit/sheets.py), then stored on PostgreSQL by the import job's own store
(resolvers/village_credit/imports.store_batch: a look-up per thousand households, multi-row inserts).

Baseline: the naive path — one ORM create per survey and per member, with per-row duplicate look-ups (the
client id, each member's ID number) — timed on a sample of households and extrapolated to the whole file.

The same XLSX is then imported as the product does it, by the village_survey_import job over a new campaign,
its chunks run one after another in this process (import_job_s: the job's own reading, checking and storing).

After storing, the whole-village stages run on the stored surveys by their own bulk paths (LATER_STAGES):
de-duplication (the village_dedup search over every surveyed person), the merge against a core-banking file of
1,000,000 customers (checked and upserted as the feed import does, then every person linked by ID number) and
screening with pre-approved limits (the village_screening job's chunks, decisions untraced), in this process and
then again shared by two worker processes as the job's chunks are (screening_workers_s, the job's wall time on
two cores). The process tunes its garbage collector before reading, as the workers that run these jobs do at
start-up (resolvers/platform/gc_tuning.py). The JSON line gives `ours_s` (the import: read, map, check, store),
`whole_s` (the import and the three stages, screening in one process) and each stage.

    python benchmarks/survey_import.py            # 200,000 households
    python benchmarks/survey_import.py --small    # 2,000 households
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import io
import json
import multiprocessing
import resource
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import xlsxwriter  # noqa: E402
from tortoise import Tortoise, connections  # noqa: E402

from benchmarks.village_dedup import _import as import_feed_parts  # noqa: E402
from benchmarks.village_dedup import core_feed_parts  # noqa: E402
from domain.customers.idcard import make_id_number  # noqa: E402
from domain.village_credit import sheets  # noqa: E402
from domain.village_credit.campaign_workflow import CampaignState  # noqa: E402
from domain.village_credit.dedup import find_duplicates  # noqa: E402
from domain.village_credit.screening import screen_households  # noqa: E402
from models import (  # noqa: E402
    GridLevel,
    GridNode,
    HouseholdSurvey,
    Staff,
    SurveyImport,
    SurveyImportStatus,
    SurveyMember,
    VillageCampaign,
)
from resolvers.credit import applications as apps  # noqa: E402
from resolvers.kinds import KINDS  # noqa: E402
from resolvers.platform import jobs  # noqa: E402
from resolvers.platform.gc_tuning import tune_gc  # noqa: E402
from resolvers.platform.job_kinds import GridScope, register  # noqa: E402
from resolvers.platform.migrate import run_migrations  # noqa: E402
from resolvers.village_credit import imports, screening  # noqa: E402
from resolvers.village_credit.core_file import SurveyedPerson, core_rows_for, link_people  # noqa: E402
from resolvers.village_credit.duplicates import people_of  # noqa: E402
from resolvers.village_credit.surveys import stored_columns  # noqa: E402
from settings import tortoise_config  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pcbench"
HEADER = [c.header for c in sheets.COLUMNS]
STORE_CHUNK = 5000  # households per store_batch call, as a job chunk would hold
LaterStage = Callable[[int, list[int]], Awaitable[float | None]]  # its own timing, when the call's is not it
CORE_CUSTOMERS = {"full": 1_000_000, "small": 50_000}
core_customers = CORE_CUSTOMERS["full"]
database_url = DEFAULT_URL
SCREENING_WORKERS = 2


async def _stored(campaign_id: int) -> list[dict[str, Any]]:
    return list(await HouseholdSurvey.filter(campaign_id=campaign_id).values("id", "address", "phone", "details"))


async def deduplicate(campaign_id: int, _ids: list[int]) -> None:
    """The village_dedup job's search over the stored surveys' people, in process (blocking + scoring)."""
    people = people_of(await _stored(campaign_id))
    found = find_duplicates(people)
    print(f"de-duplication: {len(people):,} people, {len(found):,} probable or certain pairs")


async def merge_core_file(campaign_id: int, _ids: list[int]) -> None:
    """The core-banking feed of `core_customers` (the surveyed people among them, some with another phone) checked
    and upserted as the feed import does, then every surveyed person linked by ID number."""
    people = people_of(await _stored(campaign_id))
    conn = connections.get("default")
    await conn.execute_script("TRUNCATE core_customer_file")
    parts = core_feed_parts(people, core_customers)
    t = time.perf_counter()
    check, write, _counts = await import_feed_parts(parts)
    surveyed = [SurveyedPerson(p.household, p.id_number, p.name, p.phone, p.address) for p in people]
    links = link_people(surveyed, await core_rows_for(conn, [p.id_number for p in surveyed]))
    new = sum(k.status == "NEW" for k in links)
    print(f"core-file merge: {core_customers:,} customers checked in {check:.1f} s and written in {write:.1f} s, "
          f"{len(links):,} people linked ({new:,} new to the bank) — {time.perf_counter() - t:.1f} s")  # fmt: skip


def _chunks(ids: list[int]) -> list[list[int]]:
    ids = sorted(ids)  # each chunk is a range of ids, as the job's plan cuts them
    return [ids[start : start + screening.CHUNK_SURVEYS] for start in range(0, len(ids), screening.CHUNK_SURVEYS)]


async def _screen_chunks(campaign_id: int, chunks: list[list[int]]) -> None:
    at = datetime.now(UTC)
    for part in chunks:
        facts = await screening.facts_of(campaign_id, part[0], part[-1])
        outcomes = screen_households(apps.decisions(), facts, screening.bounds())
        await screening.write_outcomes(campaign_id, outcomes, at)


async def screen(campaign_id: int, ids: list[int]) -> None:
    """The village_screening job's chunks, in process: facts read, both decisions run untraced, rows written;
    the collector tuned as a worker runs it (workers/settings.startup, done at the start of the run)."""
    await _screen_chunks(campaign_id, _chunks(ids))
    print(f"screening and limits: {len(ids):,} households")


def _screening_worker(url: str, campaign_id: int, chunks: list[list[int]], ready: Any) -> None:
    """One worker process: started, its decisions loaded and its collector tuned before the clock starts (as a
    running arq worker is), then its share of the chunks."""

    async def work() -> None:
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        try:
            apps.decisions()
            tune_gc()
            ready.wait()
            await _screen_chunks(campaign_id, chunks)
        finally:
            await Tortoise.close_connections()

    asyncio.run(work())


async def screen_in_workers(campaign_id: int, ids: list[int]) -> float:
    """The same chunks shared by SCREENING_WORKERS processes, each chunk to one of them in turn as arq hands
    the job's chunks to its workers: the job's wall time on this machine's cores (the rows are replaced)."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(SCREENING_WORKERS + 1)
    chunks = _chunks(ids)
    processes = [
        context.Process(target=_screening_worker, args=(database_url, campaign_id, chunks[n::SCREENING_WORKERS], ready))
        for n in range(SCREENING_WORKERS)
    ]
    for process in processes:
        process.start()
    await asyncio.to_thread(ready.wait)
    started = time.perf_counter()
    for process in processes:
        await asyncio.to_thread(process.join)
        assert process.exitcode == 0, process.exitcode
    took = time.perf_counter() - started
    print(f"screening and limits in {SCREENING_WORKERS} worker processes: {len(ids):,} households in {took:.1f} s")
    return took


LATER_STAGES: list[tuple[str, LaterStage | None]] = [
    ("dedup", deduplicate),
    ("core_merge", merge_core_file),
    ("screening", screen),
    ("screening_workers", screen_in_workers),
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


BIRTH_DAYS = 50 * 365  # people born 1950 to 1999: some heads over 65 (the grey list), most not


def household_rows(households: int) -> list[list[str]]:
    """Households of 1 to 5 people (3 on average), ID numbers unique across the file (a birth day and a
    sequence number for each person)."""
    rows: list[list[str]] = []
    person = 0
    born = date(1950, 1, 1)
    for h in range(households):
        size = 1 + (h * 7 + 3) % 5
        for m in range(size):
            number = make_id_number("320324", born + timedelta(days=person % BIRTH_DAYS), person // BIRTH_DAYS)
            person += 1
            relation = "户主" if m == 0 else ("配偶" if m == 1 else "子女")
            if m == 0:
                income = str(30000 + (h * 37) % 150000)
                extra = ["2026-11-20", f"张庄村{h % 12}组{h}号", "8.5", "2", "种植小麦", income, "20000", "300000",
                         "50000", "10000", "0", "为人踏实", "邻里口碑好", ""]  # fmt: skip
            else:
                extra = [""] * 14
            rows.append([str(h + 1), relation, f"村民{h}-{m}", number, f"138{person:08d}" if m == 0 else "", "",
                         *extra])  # fmt: skip
    return rows


def write_xlsx(rows: list[list[str]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": False})
    sheet = book.add_worksheet("入户调查")
    sheet.write_row(0, 0, HEADER)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value:
                sheet.write_string(r, c, value)
    book.close()
    return buffer.getvalue()


def write_csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8-sig")


async def ensure_database(url: str) -> None:
    admin, name = url.rsplit("/", 1)
    conn = await asyncpg.connect(f"{admin}/postgres".replace("postgres://", "postgresql://", 1))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def new_campaign() -> tuple[int, int]:
    """A fresh village, collector and campaign for this run (earlier runs' rows stay, as in a bank's database)."""
    tag = uuid.uuid4().hex[:8]
    county = await GridNode.create(name=f"县{tag}", level=GridLevel.COUNTY, code=f"B{tag}", path="/", depth=0)
    county.path = f"/{county.id}/"
    await county.save(update_fields=["path"])
    village = await GridNode.create(
        name=f"村{tag}", level=GridLevel.VILLAGE, code=f"B{tag}V", parent=county, path="/", depth=1
    )
    village.path = f"{county.path}{village.id}/"
    await village.save(update_fields=["path"])
    collector = await Staff.create(username=f"collector-{tag}", display_name="采集员", roles=["CUSTOMER_MANAGER"],
                                   password_hash="-")  # fmt: skip
    reviewer = await Staff.create(username=f"reviewer-{tag}", display_name="授信经理", roles=["CREDIT_INVESTIGATOR"],
                                  password_hash="-")  # fmt: skip
    now = datetime.now(UTC)
    campaign = await VillageCampaign.create(
        village=village, name="基准整村授信", collector_ids=[collector.id], reviewer=reviewer, created_by=reviewer,
        state=CampaignState.COLLECTING, created_at=now, state_since=now,
    )  # fmt: skip
    return campaign.id, collector.id


async def store(read: sheets.ReadSheet, campaign_id: int, collector_id: int) -> tuple[int, int]:
    at = datetime.now(UTC)
    ready = [(i, h.survey) for i, h in enumerate(read.households) if h.survey is not None]
    saved = duplicates = 0
    for start in range(0, len(ready), STORE_CHUNK):
        for outcome in await imports.store_batch(collector_id, campaign_id, ready[start : start + STORE_CHUNK], at):
            saved += outcome.status == "SAVED"
            duplicates += outcome.status == "DUPLICATE"
    return saved, duplicates


async def import_job(xlsx: bytes, households: int) -> tuple[int, int]:
    """The sheet imported as a collector's app starts it after the dry run: a village_survey_import job over a
    new campaign, its chunks run here one after another (a worker's way: the sheet read once, each chunk
    checking and storing its own households). Returns (households saved, chunks)."""
    campaign_id, collector_id = await new_campaign()
    campaign = await VillageCampaign.get(id=campaign_id).prefetch_related("village")
    now = datetime.now(UTC)
    record = await SurveyImport.create(
        campaign_id=campaign_id, file_name="bench.xlsx", file_format="XLSX", content=xlsx, mapping={},
        file_sha256=hashlib.sha256(xlsx).hexdigest(), status=SurveyImportStatus.QUEUED, rows_total=0,
        households_total=households, households_valid=households, created_by_id=collector_id, created_at=now,
        updated_at=now,
    )  # fmt: skip
    job = await jobs.start(
        imports.SURVEY_IMPORT, imports.ImportParams(record.id), scope=GridScope(campaign.village.path),
        created_by=collector_id,
    )  # fmt: skip
    for number in range(job.chunks_total):
        await jobs.run_job_chunk(job.id, number)
    await jobs.finish_job(job.id)
    done = await SurveyImport.get(id=record.id)
    assert done.status == SurveyImportStatus.DONE, done.status
    return done.saved, job.chunks_total


async def naive_store(read: sheets.ReadSheet, sample: int) -> tuple[int, int]:
    """The baseline: per household a look-up of its client id, per member a look-up of the ID number, then one
    ORM create per survey and per member. Returns (households, members) stored."""
    campaign_id, collector_id = await new_campaign()
    at = datetime.now(UTC)
    stored = members = 0
    for household in read.households[:sample]:
        survey = household.survey
        if survey is None:
            continue
        if await HouseholdSurvey.filter(campaign_id=campaign_id, client_id=survey.client_id).exists():
            continue
        if any([await SurveyMember.filter(campaign_id=campaign_id, id_number=m.id_number).exists()
                for m in survey.members]):  # fmt: skip
            continue
        values = stored_columns(survey, at)
        row = await HouseholdSurvey.create(
            campaign_id=campaign_id, client_id=survey.client_id, collector_id=collector_id, created_at=at, **values
        )
        for m in survey.members:
            await SurveyMember.create(survey_id=row.id, campaign_id=campaign_id, id_number=m.id_number,
                                      relation=m.relation.value)  # fmt: skip
            members += 1
        stored += 1
    return stored, members


async def run(args: argparse.Namespace) -> dict[str, Any]:
    timings: dict[str, float] = {}
    peaks: dict[str, int] = {}  # the process's peak memory once each stage has run: where the peak was reached
    began = time.perf_counter()
    rows = household_rows(args.households)
    xlsx, csv_bytes = write_xlsx(rows), write_csv(rows)
    people = len(rows)
    del rows
    timings["generate_s"] = time.perf_counter() - began
    peaks["generate_s"] = round(peak_mb())
    print(f"generated {args.households:,} households, {people:,} people: XLSX {len(xlsx) / 1e6:.1f} MB, "
          f"CSV {len(csv_bytes) / 1e6:.1f} MB in {timings['generate_s']:.1f} s")  # fmt: skip
    tune_gc()  # the collector as a worker (and the service) sets it at start-up, before the sheet is read
    now = datetime.now(UTC)
    t = time.perf_counter()
    read_csv = sheets.read_sheet(csv_bytes, "CSV", "bench.csv", None, now)
    timings["csv_read_validate_s"] = time.perf_counter() - t
    peaks["csv_read_validate_s"] = round(peak_mb())
    del read_csv, csv_bytes
    t = time.perf_counter()
    read = sheets.read_sheet(xlsx, "XLSX", "bench.xlsx", None, now)
    timings["xlsx_read_validate_s"] = time.perf_counter() - t
    peaks["xlsx_read_validate_s"] = round(peak_mb())
    valid = sum(h.survey is not None for h in read.households)
    assert not read.problems, read.problems[:5]
    csv_s, xlsx_s = timings["csv_read_validate_s"], timings["xlsx_read_validate_s"]
    print(f"read, mapped and checked: CSV {csv_s:.1f} s, XLSX {xlsx_s:.1f} s ({valid:,} households valid)")

    await ensure_database(args.database_url)
    await run_migrations(args.database_url)
    await Tortoise.init(config=tortoise_config(args.database_url), _enable_global_fallback=True)
    register(KINDS)
    try:
        campaign_id, collector_id = await new_campaign()
        t = time.perf_counter()
        saved, _ = await store(read, campaign_id, collector_id)
        timings["store_s"] = time.perf_counter() - t
        peaks["store_s"] = round(peak_mb())
        t = time.perf_counter()
        again_saved, again_duplicates = await store(read, campaign_id, collector_id)
        timings["store_again_s"] = time.perf_counter() - t
        peaks["store_again_s"] = round(peak_mb())
        assert (saved, again_saved, again_duplicates) == (valid, 0, valid)
        print(f"stored {saved:,} households in {timings['store_s']:.1f} s; the same sheet again: "
              f"{again_duplicates:,} duplicates, nothing stored, in {timings['store_again_s']:.1f} s")  # fmt: skip
        t = time.perf_counter()
        job_saved, chunks = await import_job(xlsx, len(read.households))
        timings["import_job_s"] = time.perf_counter() - t
        peaks["import_job_s"] = round(peak_mb())
        del xlsx
        assert job_saved == valid, job_saved
        print(f"the import job on a new campaign (the XLSX read, checked and stored by its {chunks} chunks, one after "
              f"another in this process): {job_saved:,} households in {timings['import_job_s']:.1f} s")  # fmt: skip
        stored_ids = [int(i) for (i,) in await HouseholdSurvey.filter(campaign_id=campaign_id).values_list("id")]
        for name, stage in LATER_STAGES:
            if stage is None:
                print(f"{name}: not part of this run yet")
                continue
            t = time.perf_counter()
            took = await stage(campaign_id, stored_ids)
            timings[f"{name}_s"] = took if took is not None else time.perf_counter() - t
            peaks[f"{name}_s"] = round(peak_mb())
        t = time.perf_counter()
        naive_households, naive_members = await naive_store(read, args.sample)
        naive_s = time.perf_counter() - t
    finally:
        await Tortoise.close_connections()
    naive_rate = naive_households / naive_s
    baseline_s = valid / naive_rate
    later = sum(timings.get(f"{name}_s", 0.0) for name, _ in LATER_STAGES if name != "screening_workers")
    ours_s = timings["xlsx_read_validate_s"] + timings["store_s"]
    whole_s = ours_s + later
    naive_total = timings["xlsx_read_validate_s"] + baseline_s
    ours_rate = people / ours_s
    print(f"naive store: {naive_households:,} households ({naive_members:,} members) in {naive_s:.1f} s = "
          f"{naive_rate:,.0f} households/s, extrapolated to {baseline_s:.0f} s for {valid:,}")  # fmt: skip
    print(f"whole import from XLSX (read, map, check, store): {ours_s:.1f} s = {ours_rate:,.0f} rows/s; "
          f"naive (same reading, naive store): {naive_total:.0f} s = {people / naive_total:,.0f} rows/s; "
          f"ratio {naive_total / ours_s:.1f}; store alone {baseline_s / timings['store_s']:.1f}x")  # fmt: skip
    print(f"whole pipeline (import, de-duplication, core-file merge, screening): {whole_s:.1f} s; "
          f"screening and limits alone {timings.get('screening_s', 0.0):.1f} s in one process, "
          f"{timings.get('screening_workers_s', 0.0):.1f} s in {SCREENING_WORKERS} (target under 5 s)")  # fmt: skip
    print(f"peak memory {peak_mb():,.0f} MB; targets: under 60 s, under 4,096 MB")
    return {
        "benchmark": "survey_import",
        "households": args.households,
        "people": people,
        "ours_s": round(ours_s, 2),
        "whole_s": round(whole_s, 2),
        "baseline_s": round(naive_total, 2),
        "ratio": round(naive_total / ours_s, 1),
        "rows_per_s": round(ours_rate),
        "baseline_rows_per_s": round(people / naive_total),
        "stages_s": {k: round(v, 2) for k, v in timings.items()},
        "peak_mb": round(peak_mb()),
        "peak_mb_after": {k.removesuffix("_s"): v for k, v in peaks.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--sample", type=int, default=1000, help="households stored the naive way")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--small", action="store_true", help="2,000 households, a sample of 200")
    args = parser.parse_args()
    global core_customers, database_url
    database_url = args.database_url
    if args.small:
        args.households, args.sample = 2000, 200
        core_customers = CORE_CUSTOMERS["small"]
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
