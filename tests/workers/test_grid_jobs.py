"""The grid's runs end to end: an assignment run through the outbox, Redis and an arq worker (bulk writes on
PostgreSQL and SQLite), a crash mid-chunk that loses and doubles nothing, incremental placement, the grid
import, and the KPI roll-up job."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from models import Customer, GridKpi, GridNode, Job, JobChunk, JobOutput, JobStatus, Notification, OutboxMessage, Staff
from resolvers.grid import assignment, bulk
from resolvers.grid.assignment import AssignmentScope
from resolvers.grid.imports import ImportFields, import_villages
from resolvers.platform import jobs, outbox
from resolvers.platform.auth import actor_for
from tests.conftest import Database
from tests.factories import Api, World, make_customer, make_staff, new_id_number
from tests.workers.conftest import (
    DEAD_REDIS_URL,
    Queue,
    eventually,
    finished,
    in_process,
    kill,
    short_lease,
    worker_process,
)
from tests.workers.kinds import BLOCK_ASSIGNMENT_ENV
from workers import tasks

pytestmark = pytest.mark.usefixtures("world")


def square(west: float, south: float, size: float = 0.01) -> dict[str, Any]:
    return shapely.geometry.mapping(shapely.box(west, south, west + size, south + size))


async def with_polygons(world: World) -> None:
    """Three villages side by side: 1a at 117.90, 1b at 117.91 (sharing a border), 2a at 117.95."""
    for village, west in ((world.village1a, 117.90), (world.village1b, 117.91), (world.village2a, 117.95)):
        village.polygon = square(west, 33.90)
        await village.save(update_fields=["polygon"])


async def located_customers(world: World) -> dict[str, Customer]:
    """Customers filed under the wrong village on purpose, so a run has something to move."""
    manager = world.staff["manager1a"]
    return {
        "inside_1b": await make_customer(
            world.village1a, manager, "甲", id_number=new_id_number(), lon=117.915, lat=33.905
        ),
        "border": await make_customer(
            world.village2a, manager, "乙", id_number=new_id_number(), lon=117.91, lat=33.905
        ),
        "near_2a": await make_customer(
            world.village1a, manager, "丙", id_number=new_id_number(), lon=117.9615, lat=33.905
        ),
        "far": await make_customer(world.village1a, manager, "丁", id_number=new_id_number(), lon=118.5, lat=33.905),
        "swapped": await make_customer(
            world.village1a, manager, "戊", id_number=new_id_number(), lon=33.905, lat=117.9
        ),
        "by_address": await make_customer(
            None, manager, "己", id_number=new_id_number(), address="睢宁县双沟镇王庄村二组"
        ),
    }


async def head(world: World) -> Any:
    staff = await Staff.get(id=world.staff["head"].id).prefetch_related("scope")
    return actor_for(staff)


async def test_assignment_run_through_redis_and_an_arq_worker(world: World, queue: Queue) -> None:
    await with_polygons(world)
    people = await located_customers(world)
    job = await assignment.start_run(AssignmentScope.ALL, created_by=world.staff["head"].id, chunk_size=4)
    assert job.chunks_total == 3  # 9 customers (3 from the world) in chunks of 4
    await outbox.relay_once(queue.dispatcher)
    await queue.run_burst()
    done = await finished(job.id)
    assert done.status == JobStatus.SUCCEEDED
    placed = {name: await Customer.get(id=c.id) for name, c in people.items()}
    assert placed["inside_1b"].village_id == world.village1b.id  # type: ignore[attr-defined]
    assert placed["border"].village_id == world.village1a.id  # type: ignore[attr-defined]  # the smaller id
    assert (placed["near_2a"].village_id, placed["near_2a"].placement) == (world.village2a.id, "NEAREST")  # type: ignore[attr-defined]
    assert (placed["far"].village_id, placed["far"].placement) == (world.village1a.id, "UNPLACED")  # type: ignore[attr-defined]  # kept, flagged
    assert placed["swapped"].placement == "UNPLACED"
    assert (placed["by_address"].village_id, placed["by_address"].placement) == (
        world.village2a.id,
        "ADDRESS",
    )  # type: ignore[attr-defined]
    result = done.result
    assert result["customers"] == 9
    # the world's three customers have no coordinates; their address names 张庄村
    assert (result["unplaced"], result["nearest"], result["fallback"]) == (2, 1, 4)
    assert result["flagged"] == [{"flag": "NO_COORDINATES", "customers": 4}, {"flag": "SWAPPED", "customers": 1}]
    # changed village: inside_1b, border, near_2a, and the world's 李二 and 王三 (by address)
    assert result["moved"] == 5
    # the records behind the counts are rows, not lists in the result
    assert await jobs.listed_outputs(job.id, assignment.UNPLACED, 200) == sorted(
        [people["far"].id, people["swapped"].id]
    )
    assert await JobOutput.filter(job_id=job.id, topic=assignment.UNPLACED).count() == 2


async def test_a_crash_mid_chunk_loses_and_doubles_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await with_polygons(world)
    await located_customers(world)
    job = await assignment.start_run(AssignmentScope.ALL, created_by=None, chunk_size=100)
    real = bulk.update_customer_villages
    crashes = []

    async def write_then_crash(conn: Any, *args: Any, **kwargs: Any) -> int:
        written = await real(conn, *args, **kwargs)
        if not crashes:
            crashes.append(written)
            raise ConnectionResetError("worker killed after writing, before committing")
        return written

    monkeypatch.setattr("resolvers.grid.assignment.update_customer_villages", write_then_crash)
    assert await jobs.run_job_chunk(job.id, 0) == jobs.ChunkOutcome.FAILED
    chunk = await JobChunk.get(job_id=job.id, number=0)
    assert chunk.status == JobStatus.PENDING  # handed back for a retry
    assert await Customer.filter(placement="INSIDE").count() == 0  # the crashed write was rolled back
    assert await jobs.run_job_chunk(job.id, 0) == jobs.ChunkOutcome.SUCCEEDED
    assert await jobs.run_job_chunk(job.id, 0) == jobs.ChunkOutcome.SKIPPED  # a duplicate delivery
    done = await Job.get(id=job.id)
    assert done.status == JobStatus.SUCCEEDED
    assert (done.result["customers"], done.result["moved"], done.result["fallback"]) == (9, 5, 4)
    assert await Customer.filter(placement="INSIDE").count() == 2


async def test_managers_are_told_who_came_into_their_grid(
    world: World, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await with_polygons(world)
    people = await located_customers(world)
    pushed: list[Notification] = []

    async def push(note: Notification) -> None:
        pushed.append(note)

    monkeypatch.setattr("resolvers.platform.jobs.publish", push)
    job = await assignment.start_run(AssignmentScope.ALL, created_by=world.staff["head"].id, chunk_size=4)
    for number in range(job.chunks_total):
        await jobs.run_job_chunk(job.id, number)
    done = await Job.get(id=job.id)
    assert done.status == JobStatus.SUCCEEDED
    # 张庄村 receives the border point (from 王庄村) and the world's 李二 and 王三 by address; 李庄村 the
    # customer inside it; 王庄村 the one just outside it and the one with only an address
    arrivals: dict[int, int] = {}  # one row per village per chunk that placed anyone in it
    for village, amount in await JobOutput.filter(job_id=job.id, topic=assignment.ARRIVALS).values_list(
        "ref", "amount"
    ):
        arrivals[village] = arrivals.get(village, 0) + amount
    assert arrivals == {world.village1a.id: 3, world.village1b.id: 1, world.village2a.id: 2}
    assert done.result["villages_receiving"] == 3
    assert done.result["managers_notified"] == 3
    notices = await Notification.filter(kind=assignment.NOTICE_KIND).order_by("recipient_id")
    told = {n.recipient_id: n for n in notices}
    assert set(told) == {world.staff[m].id for m in ("manager1a", "manager1b", "manager2a")}
    first = told[world.staff["manager1a"].id]
    assert first.payload == {
        "job_id": job.id,
        "customers": 3,
        "villages": [{"id": world.village1a.id, "name": "张庄村", "customers": 3}],
    }
    assert first.title.startswith("网格新增客户3人待走访")
    assert first.body == "张庄村3人（共1个村） / 张庄村 3 (1 village)"
    # pushed live only after the run's result committed, with the starter's "run finished" notice
    assert {n.id for n in pushed} == {n.id for n in notices} | {(await Notification.get(kind="job.succeeded")).id}
    assert (await Notification.get(kind="job.succeeded")).title == "网格归属运行完成 / assignment run finished"
    # the manager reads it in the app
    listed = await api.as_("manager2a", "{ notifications { edges { node { title payload } } } }")
    (edge,) = listed["data"]["notifications"]["edges"]
    assert edge["node"]["payload"]["customers"] == 2
    assert {v["name"] for v in edge["node"]["payload"]["villages"]} == {"王庄村"}
    near = await Customer.get(id=people["near_2a"].id)
    assert (near.village_id, near.placement) == (world.village2a.id, "NEAREST")  # type: ignore[attr-defined]

    # nobody moved the second time: nobody is told anything
    again = await assignment.start_run(AssignmentScope.ALL, created_by=None, chunk_size=4)
    for number in range(again.chunks_total):
        await jobs.run_job_chunk(again.id, number)
    assert (await Job.get(id=again.id)).result["managers_notified"] == 0
    assert await Notification.filter(kind=assignment.NOTICE_KIND).count() == 3
    # the first run moved customers, so it queued this month's KPI roll-up with its result; the second did not
    (queued,) = await OutboxMessage.filter(task="start_job").values_list("args", "key")
    assert queued == (
        ["kpi_rollup", {"period": None}, "/", None, f"geo_assign:{job.id}:kpis"],
        f"start:geo_assign:{job.id}:kpis",
    )
    await tasks.start_job({}, *queued[0])
    await tasks.start_job({}, *queued[0])  # a second delivery finds the first
    (rollup,) = await Job.filter(kind="kpi_rollup")
    assert rollup.dedup_key == f"geo_assign:{job.id}:kpis"
    await jobs.run_job_chunk(rollup.id, 0)
    zhang = await GridKpi.get(node_id=world.village1a.id)
    # 张庄村: the border point, the two unplaced (kept where they were) and the world's three by address
    assert zhang.customers == await Customer.filter(village_id=world.village1a.id).count() == 6


async def test_a_notice_to_a_township_manager_sums_its_villages(world: World) -> None:
    township_manager = await make_staff("manager_t1", ["CUSTOMER_MANAGER"], [world.township1])
    await make_staff("inactive_t1", ["CUSTOMER_MANAGER"], [world.township1], is_active=False)
    await make_staff("president_t1", ["BRANCH_PRESIDENT"], [world.township1])
    await with_polygons(world)
    await located_customers(world)
    job = await assignment.start_run(AssignmentScope.ALL, created_by=None, chunk_size=100)
    await jobs.run_job_chunk(job.id, 0)
    (notice,) = await Notification.filter(recipient_id=township_manager.id)
    assert notice.payload["customers"] == 4  # 张庄村 3 and 李庄村 1, both in 王集镇
    assert [v["name"] for v in notice.payload["villages"]] == ["张庄村", "李庄村"]  # most first
    assert await Notification.filter(kind=assignment.NOTICE_KIND).count() == 4  # 3 village managers + this one


async def test_a_worker_killed_mid_assignment_loses_and_doubles_nothing(
    world: World, queue: Queue, database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await with_polygons(world)
    people = await located_customers(world)
    before = dict(await Customer.all().values_list("id", "village_id"))
    job = await assignment.start_run(AssignmentScope.ALL, created_by=world.staff["head"].id, chunk_size=4)
    assert await outbox.relay_once(queue.dispatcher) == 3
    written = tmp_path / "written"
    async with worker_process(queue, database.url, tmp_path, **{BLOCK_ASSIGNMENT_ENV: str(written)}) as process:
        await eventually(lambda: _exists(written), 30)
        await kill(process)  # the chunk's villages are written, not committed
    (killed,) = await JobChunk.filter(job_id=job.id, status=JobStatus.RUNNING)
    assert dict(await Customer.all().values_list("id", "village_id")) == before  # nothing of it is left

    short_lease(monkeypatch, 1)
    assert await eventually(jobs.recover_stalled) >= 1
    async with queue.running():
        await outbox.relay_once(queue.dispatcher)
        done = await finished(job.id, within=30)

    assert (done.status, done.chunks_done) == (JobStatus.SUCCEEDED, 3)
    result = done.result
    # the same counts as an undisturbed run: every customer placed once
    assert (result["customers"], result["moved"], result["nearest"], result["fallback"], result["unplaced"]) == (
        9, 5, 1, 4, 2,
    )  # fmt: skip
    attempts = dict(await JobChunk.filter(job_id=job.id).values_list("number", "attempts"))
    assert attempts == {n: 2 if n == killed.number else 1 for n in range(3)}
    placed = await Customer.get(id=people["inside_1b"].id)
    assert placed.village_id == world.village1b.id  # type: ignore[attr-defined]
    assert await Notification.filter(kind="job.succeeded").count() == 1
    assert await Notification.filter(kind=assignment.NOTICE_KIND).count() == 3  # each manager told once


async def _exists(path: Path) -> bool | None:
    return await asyncio.to_thread(path.exists) or None


async def test_redis_down_while_start_assignment_is_asked_for(world: World, api: Api, queue: Queue) -> None:
    await with_polygons(world)
    people = await located_customers(world)
    body = await api.as_("head", START)  # the API process relays to a Redis that is down
    started = body["data"]["startAssignment"]
    assert started["__typename"] == "Job"  # the mutation succeeds: its work is in the outbox, in its transaction
    down = outbox.ArqDispatcher(DEAD_REDIS_URL, queue_name=queue.name, namespace=queue.namespace)
    assert await outbox.relay_once(down) == 0
    assert await OutboxMessage.filter(dispatched_at__isnull=True).count() == started["chunksTotal"]
    assert (await Customer.get(id=people["inside_1b"].id)).village_id == world.village1a.id  # type: ignore[attr-defined]

    # Redis is back
    assert await outbox.relay_once(queue.dispatcher) == started["chunksTotal"]
    await queue.run_burst()
    done = await finished(int(_pk(started["id"])))
    assert (done.status, done.result["customers"], done.result["moved"]) == (JobStatus.SUCCEEDED, 9, 5)
    assert (await Customer.get(id=people["inside_1b"].id)).village_id == world.village1b.id  # type: ignore[attr-defined]


async def test_only_new_or_moved_customers_are_placed_by_a_pending_run(world: World, api: Api) -> None:
    await with_polygons(world)
    moved = await make_customer(
        world.village1a, world.staff["manager1a"], "庚", id_number=new_id_number(), lon=117.905, lat=33.905
    )
    untouched = await make_customer(
        world.village1a, world.staff["manager1a"], "辛", id_number=new_id_number(), lon=117.955, lat=33.905
    )
    # the manager records that 庚 moved into 李庄村's area; nothing marks 辛
    body = await api.as_(
        "manager1a",
        "mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { __typename } }",
        {"i": {"id": _gid("Customer", moved.id), "lon": 117.915, "lat": 33.905}},
    )
    assert body["data"]["updateCustomer"]["__typename"] == "Customer"
    assert await Customer.filter(needs_placement=True).values_list("id", flat=True) == [moved.id]
    job = await assignment.start_run(AssignmentScope.PENDING, created_by=None)
    assert await JobChunk.filter(job_id=job.id).values_list("params", flat=True) == [
        {"min_id": moved.id, "max_id": moved.id, "customers": 1}
    ]
    for number in range(job.chunks_total):
        await jobs.run_job_chunk(job.id, number)
    assert (await Customer.get(id=moved.id)).village_id == world.village1b.id  # type: ignore[attr-defined]
    assert (await Customer.get(id=untouched.id)).village_id == world.village1a.id  # type: ignore[attr-defined]  # not looked at
    assert await Customer.filter(needs_placement=True).count() == 0


def _gid(type_name: str, pk: int) -> str:
    from tests.factories import gid

    return gid(type_name, pk)


START = (
    "mutation { startAssignment(scope: ALL) { __typename "
    "... on Job { id kind status chunksTotal createdBy { username } } ... on JobError { code } } }"
)


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("head", True),
        ("admin", True),
        ("president1", False),
        ("manager1a", False),
        ("investigator", False),
        ("approver", False),
        ("backoffice", False),
    ],
)
async def test_start_assignment_per_role(api: Api, world: World, user: str, allowed: bool) -> None:
    before = (await Job.all().count(), await OutboxMessage.all().count())
    body = await api.as_(user, START)
    result = body["data"]["startAssignment"]
    if allowed:
        assert (result["__typename"], result["kind"], result["status"]) == ("Job", "geo_assign", "PENDING")
        assert result["createdBy"] == {"username": user}
        assert await OutboxMessage.all().count() == before[1] + result["chunksTotal"]
    else:
        assert result == {"__typename": "JobError", "code": "FORBIDDEN"}
        assert (await Job.all().count(), await OutboxMessage.all().count()) == before


async def test_run_progress_and_report_are_queryable(api: Api, world: World) -> None:
    await with_polygons(world)
    people = await located_customers(world)
    async with in_process():
        body = await api.as_("head", START)
        job_id = body["data"]["startAssignment"]["id"]
        await finished(int(_pk(job_id)))
    report = await api.as_(
        "head",
        "query($id: ID!) { job(id: $id) { status progress result gridImport { file } assignment { customers "
        "placed moved nearest fallback unplaced flagged { flag customers } unplacedCustomers villagesReceiving "
        "managersNotified } } }",
        {"id": job_id},
    )
    job = report["data"]["job"]
    assert (job["status"], job["progress"]) == ("SUCCEEDED", 1.0)
    assert job["result"]["customers"] == 9
    assert job["gridImport"] is None
    typed = job["assignment"]
    assert {k: typed[k] for k in ("customers", "placed", "moved", "nearest", "fallback", "unplaced")} == {
        "customers": 9, "placed": 7, "moved": 5, "nearest": 1, "fallback": 4, "unplaced": 2,
    }  # fmt: skip
    assert typed["flagged"] == [{"flag": "NO_COORDINATES", "customers": 4}, {"flag": "SWAPPED", "customers": 1}]
    assert sorted(_pk(g) for g in typed["unplacedCustomers"]) == sorted(
        str(c.id) for c in (people["far"], people["swapped"])
    )
    assert (typed["villagesReceiving"], typed["managersNotified"]) == (3, 3)
    other = await api.as_("manager1a", "query($id: ID!) { job(id: $id) { status } }", {"id": job_id})
    assert other["data"]["job"] is None


def _pk(global_id: str) -> str:
    from strawberry.relay import from_base64

    return from_base64(global_id)[1]


async def test_kpi_rollup_job(api: Api, world: World) -> None:
    await make_customer(
        world.village2a, world.staff["manager2a"], "壬", id_number=new_id_number(), loan_balance=Decimal(5000)
    )
    async with in_process():
        body = await api.as_("admin", 'mutation { rollUpKpis(period: "2026-11") { __typename ... on Job { id } } }')
        job = await finished(int(_pk(body["data"]["rollUpKpis"]["id"])))
    assert job.result == {"period": "2026-11", "nodes": 6, "villages_with_customers": 3, "customers": 4}
    assert await GridKpi.filter(period="2026-11").count() == 6
    bad = await api.as_(
        "head", 'mutation { rollUpKpis(period: "2026-13") { __typename ... on JobError { code field } } }'
    )
    assert bad["data"]["rollUpKpis"] == {"__typename": "JobError", "code": "INVALID_VALUE", "field": "period"}
    refused = await api.as_("manager2a", "mutation { rollUpKpis { __typename ... on JobError { code } } }")
    assert refused["data"]["rollUpKpis"] == {"__typename": "JobError", "code": "FORBIDDEN"}


def write_villages(path: Path, features: list[dict[str, Any]], crs: str = "EPSG:4326") -> Path:
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in f.items() if k != "geometry"} for f in features],
        geometry=[shapely.geometry.shape(f["geometry"]) for f in features],
        crs="EPSG:4326",
    ).to_crs(crs)
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


async def test_grid_import_updates_villages_keeps_customers_and_queues_placement(world: World, tmp_path: Path) -> None:
    await with_polygons(world)
    c1a = world.customers["c1a"]
    near_border = await make_customer(
        world.village1a, world.staff["manager1a"], "癸", id_number=new_id_number(), lon=117.911, lat=33.905
    )
    far_away = await make_customer(
        world.village2a, world.staff["manager2a"], "子", id_number=new_id_number(), lon=117.955, lat=33.905
    )
    path = write_villages(
        tmp_path / "villages.geojson",
        [
            {
                "code": world.village1a.code,
                "name": "张庄村",
                "parent_code": world.township1.code,
                "geometry": square(117.90, 33.90, 0.012),
            },
            {
                "code": world.village1b.code,
                "name": "李庄村",
                "parent_code": world.township1.code,
                "geometry": square(117.912, 33.90, 0.008),
            },
            {
                "code": "320324101003",
                "name": "新庄村",
                "parent_code": world.township1.code,
                "geometry": square(117.92, 33.90),
            },
        ],
        crs="EPSG:4547",  # a projected CRS: reprojected on the way in
    )
    job = await import_villages(await head(world), path)
    assert job.status == JobStatus.SUCCEEDED, job.result
    assert job.result["counts"]["created"] == 1
    assert job.result["counts"]["updated"] == 2
    assert (await Customer.get(id=c1a.id)).village_id == world.village1a.id  # type: ignore[attr-defined]
    new = await GridNode.get(code="320324101003")
    assert new.path == f"{world.township1.path}{new.id}/"
    assert await OutboxMessage.filter(task="start_job").count() == 1
    assert job.result["problems"] == []
    assert (await Customer.get(id=near_border.id)).needs_placement is True  # the moved border passes by
    assert (await Customer.get(id=far_away.id)).needs_placement is False  # 双沟镇 did not change


async def test_a_bad_grid_file_is_refused_whole(world: World, tmp_path: Path) -> None:
    await with_polygons(world)
    before = json.dumps(await GridNode.all().order_by("id").values("id", "name", "polygon"), default=str)
    path = write_villages(
        tmp_path / "bad.geojson",
        [
            {
                "code": world.village1a.code,
                "name": "张庄村",
                "parent_code": world.township1.code,
                "geometry": square(117.90, 33.90, 0.02),
            },
            {
                "code": "320324101009",
                "name": "",
                "parent_code": world.township1.code,
                "geometry": square(117.93, 33.90),
            },
            {
                "code": "320324101010",
                "name": "外村",
                "parent_code": "999999999",
                "geometry": square(117.94, 33.90),
            },
        ],
    )
    job = await import_villages(await head(world), path)
    assert job.status == JobStatus.FAILED
    kinds = sorted((p["code"], p["kind"]) for p in job.result["problems"] if p["severity"] == "error")
    assert kinds == [("320324101009", "MISSING_ATTRIBUTE"), ("320324101010", "UNKNOWN_PARENT")]
    after = json.dumps(await GridNode.all().order_by("id").values("id", "name", "polygon"), default=str)
    assert after == before
    assert await OutboxMessage.filter(task="start_job").count() == 0


async def test_grid_import_needs_admin_or_head_office(world: World, tmp_path: Path) -> None:
    from domain.errors import DomainError

    staff = await Staff.get(id=world.staff["president1"].id).prefetch_related("scope")
    with pytest.raises(DomainError) as refused:
        await import_villages(actor_for(staff), tmp_path / "whatever.geojson", ImportFields())
    assert refused.value.code == "FORBIDDEN"


START_OVER = (
    "mutation($node: ID) { startAssignment(scope: ALL, gridNode: $node) { __typename "
    "... on Job { id scope } ... on JobError { code } } }"
)


async def test_a_branch_president_places_the_customers_of_their_own_township(api: Api, world: World) -> None:
    await with_polygons(world)
    people = await located_customers(world)
    own = await api.as_("president1", START_OVER, {"node": _gid("GridNode", world.township1.id)})
    started = own["data"]["startAssignment"]
    assert (started["__typename"], started["scope"]) == ("Job", world.township1.path)
    job_id = int(_pk(started["id"]))
    in_township = await Customer.filter(village__path__startswith=world.township1.path).values_list("id", flat=True)
    (chunk,) = await JobChunk.filter(job_id=job_id).values_list("params", flat=True)
    assert chunk["customers"] == len(in_township)
    again = await api.as_("head", START_OVER, {"node": _gid("GridNode", world.township1.id)})
    assert again["data"]["startAssignment"]["id"] == started["id"]  # under way: that run
    await jobs.run_job_chunk(job_id, 0)
    done = await Job.get(id=job_id)
    assert (done.status, done.result["customers"]) == (JobStatus.SUCCEEDED, len(in_township))
    # 丙 is filed under 张庄村 (in the township) and lies by 王庄村 (outside it): the run may move them out
    assert (await Customer.get(id=people["near_2a"].id)).village_id == world.village2a.id  # type: ignore[attr-defined]
    # 己 has no village, so is in no township's run
    assert (await Customer.get(id=people["by_address"].id)).village_id is None  # type: ignore[attr-defined]

    elsewhere = await api.as_("president1", START_OVER, {"node": _gid("GridNode", world.township2.id)})
    bank = await api.as_("president1", START_OVER, {"node": None})
    for refused in (elsewhere, bank):
        assert refused["data"]["startAssignment"] == {"__typename": "JobError", "code": "FORBIDDEN"}
    assert await Job.all().count() == 1
