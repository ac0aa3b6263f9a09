"""The assignment job on the database: balanced and eligible, never the marketer, explained in the history; a
burst of intakes makes one run; an application nobody may take waits without keeping runs coming; a run queues
the next only for what it never read."""

from __future__ import annotations

from collections import Counter

from tortoise import connections

from domain.access import Role
from models import ApplicationEvent, CreditApplication, Job, JobOutput, OutboxMessage, Staff
from resolvers.credit.assignment import ASSIGNED, AssignmentParams, _again_for_latecomers
from resolvers.platform.job_kinds import BANK, Finishing
from tests.credit_flow import application_input, credit_world, give_report, run_queued_work, submit
from tests.factories import Api, World, make_customer, make_staff


async def _investigators(world: World, count: int) -> list[Staff]:
    made = [await make_staff(f"inv{i}", ["CREDIT_INVESTIGATOR"], [world.county], product_skills=["puhui"])
            for i in range(count)]  # fmt: skip
    await Staff.filter(id=world.staff["investigator"].id).update(product_skills=[])  # out of the running
    return made


async def test_applications_are_balanced_over_the_eligible_never_to_the_marketer(api: Api, world: World) -> None:
    await credit_world(world)
    team = await _investigators(world, 3)
    # the first investigator also markets: they must never investigate what they took
    await Staff.filter(id=team[0].id).update(roles=[Role.CREDIT_INVESTIGATOR.value, Role.CUSTOMER_MANAGER.value])
    await team[0].scope.add(world.village1a)
    for n in range(7):
        customer = await make_customer(world.village1a, world.staff["manager1a"], f"客{n}")
        await give_report(customer)
        world.customers[f"k{n}"] = customer
        marketer = "inv0" if n < 2 else "manager1a"
        taken = await submit(api, marketer, application_input(world, f"k{n}"))
        assert taken["state"] == "AWAITING_ASSIGNMENT", taken
    assert await Job.filter(kind="credit_assignment").count() == 1  # a burst of intakes, one run
    await run_queued_work()
    rows = await CreditApplication.all().values("marketer_id", "investigator_id", "state")
    assert {r["state"] for r in rows} == {"INVESTIGATING"}
    assert all(r["investigator_id"] != r["marketer_id"] for r in rows)
    loads = Counter(r["investigator_id"] for r in rows)
    assert set(loads) == {t.id for t in team}
    assert max(loads.values()) - min(loads.values()) <= 1
    reasons = await ApplicationEvent.filter(action="assign").values_list("reason", flat=True)
    assert all("open case" in r and "在办" in r for r in reasons), reasons


async def test_an_application_nobody_may_take_waits_and_keeps_no_runs_coming(api: Api, world: World) -> None:
    await credit_world(world)
    await Staff.filter(id=world.staff["investigator"].id).update(product_skills=["cheyi"])  # not puhui
    taken = await submit(api, "manager1a", application_input(world))
    await run_queued_work()
    row = await CreditApplication.get(state="AWAITING_ASSIGNMENT")
    assert taken["id"]
    assert row.investigator_id is None  # type: ignore[attr-defined]
    assert await Job.filter(kind="credit_assignment").count() == 1
    job = await Job.get(kind="credit_assignment")
    assert (job.status, job.result["assigned"], job.result["unassigned"]) == ("SUCCEEDED", 0, 1)


async def test_a_run_queues_the_next_only_for_applications_it_never_read(api: Api, world: World) -> None:
    await credit_world(world)
    first = await submit(api, "manager1a", application_input(world, "c1a"))
    await run_queued_work()
    job = await Job.get(kind="credit_assignment")
    second = await submit(api, "manager1b", application_input(world, "c1b"))  # admitted after the run
    assert second["state"] == "AWAITING_ASSIGNMENT"
    assert first["id"] != second["id"]
    before = await OutboxMessage.filter(task="start_job").count()
    finishing = Finishing(job_id=job.id, created_by=None, params=AssignmentParams(), scope=BANK,
                          conn=connections.get("default"))  # fmt: skip
    await _again_for_latecomers(finishing)
    assert await OutboxMessage.filter(task="start_job").count() == before + 1
    # once every waiting application has been read, nothing more is queued
    await JobOutput.create(job_id=job.id, chunk=0, topic=ASSIGNED, ref=(await CreditApplication.get(
        customer_id=world.customers["c1b"].id)).id, amount=0)  # fmt: skip
    await _again_for_latecomers(finishing)
    assert await OutboxMessage.filter(task="start_job").count() == before + 1
