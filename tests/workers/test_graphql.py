"""Jobs in GraphQL: progress and report, and who may see a run (its creator, head office and the
administrator; anyone else gets NOT_FOUND and sees nothing in lists)."""

from __future__ import annotations

import pytest

from models import Job
from resolvers.platform.job_kinds import GridScope
from tests.factories import Api, World, gid
from tests.workers.conftest import finished, in_process
from tests.workers.kinds import KIND, start_sum

JOB = """query($id: ID!) { job(id: $id) { id kind status chunksTotal chunksDone progress result error
  createdBy { username } startedAt finishedAt } }"""
JOBS = "query($kind: String) { jobs(kind: $kind) { totalCount edges { node { id kind } } } }"


async def manager_job(world: World) -> Job:
    return await start_sum([{"items": [1]}, {"items": [2]}], created_by=world.staff["manager1a"].id)


async def test_a_job_shows_its_progress_and_report(api: Api, world: World) -> None:
    job = await manager_job(world)
    pending = (await api.as_("manager1a", JOB, {"id": gid("Job", job.id)}))["data"]["job"]
    assert {k: pending[k] for k in ("kind", "status", "chunksTotal", "chunksDone", "progress", "result")} == {
        "kind": KIND, "status": "PENDING", "chunksTotal": 2, "chunksDone": 0, "progress": 0.0, "result": {},
    }  # fmt: skip
    assert pending["createdBy"] == {"username": "manager1a"}
    assert pending["startedAt"] is None
    async with in_process():
        await finished(job.id)
    done = (await api.as_("manager1a", JOB, {"id": gid("Job", job.id)}))["data"]["job"]
    assert (done["status"], done["chunksDone"], done["progress"], done["result"]) == (
        "SUCCEEDED", 2, 1.0, {"total": 3, "items": 2},
    )  # fmt: skip
    assert done["startedAt"] is not None
    assert done["finishedAt"] is not None
    assert done["error"] == ""


@pytest.mark.parametrize(
    ("user", "visible"),
    [("manager1a", True), ("head", True), ("admin", True), ("manager1b", False), ("president1", False),
     ("investigator", False), ("backoffice", False)],
)  # fmt: skip
async def test_who_sees_a_job(api: Api, world: World, user: str, visible: bool) -> None:
    job = await manager_job(world)
    scheduled = await start_sum([{"items": [3]}], created_by=None, scope=GridScope("/1/"))
    body = await api.as_(user, JOB, {"id": gid("Job", job.id)})
    node = await api.as_(user, "query($id: ID!) { node(id: $id) { id } }", {"id": gid("Job", job.id)})
    listed = (await api.as_(user, JOBS))["data"]["jobs"]
    if visible:
        assert body["data"]["job"]["id"] == gid("Job", job.id)
        assert node["data"]["node"] == {"id": gid("Job", job.id)}
    else:
        assert body["data"]["job"] is None
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert node["data"]["node"] is None
    expected = {job.id, scheduled.id} if user in ("head", "admin") else ({job.id} if visible else set())
    assert {e["node"]["id"] for e in listed["edges"]} == {gid("Job", i) for i in expected}
    assert listed["totalCount"] == len(expected)
    assert await Job.all().count() == 2  # looking changed nothing


async def test_jobs_filter_by_kind(api: Api, world: World) -> None:
    await manager_job(world)
    assert (await api.as_("head", JOBS, {"kind": KIND}))["data"]["jobs"]["totalCount"] == 1
    assert (await api.as_("head", JOBS, {"kind": "kpi_rollup"}))["data"]["jobs"]["totalCount"] == 0


async def test_a_malformed_job_id_is_not_found(api: Api, world: World) -> None:
    body = await api.as_("head", JOB, {"id": gid("Customer", 1)})
    assert body["data"]["job"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_jobs_need_a_signed_in_user(api: Api, world: World) -> None:
    job = await manager_job(world)
    for query, variables in ((JOB, {"id": gid("Job", job.id)}), (JOBS, {})):
        body = await api.raw(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert body["data"] in (None, {"job": None})
