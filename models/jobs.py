"""Background work: recorded jobs cut into chunks, the transactional outbox that hands them to the queue, and
the notifications pushed to staff."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class Job(Model):
    """One recorded run of background work (an assignment run, a KPI roll-up, a grid import).

    Who started it, over which part of the grid (scope: a node's path, "/" for the whole bank), when, its
    progress and its report. dedup_key makes a second request for the same work find this one; in_flight_key
    ("<kind>@<scope>") is held while the job is unfinished, so a second start of the same kind over the same
    scope finds the one under way.
    """

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=32, db_index=True)
    status = fields.CharEnumField(JobStatus, max_length=16, default=JobStatus.PENDING)
    scope = fields.CharField(max_length=255, default="/")
    dedup_key = fields.CharField(max_length=128, null=True, unique=True)
    in_flight_key = fields.CharField(max_length=300, null=True, unique=True)
    params = fields.JSONField(default=dict)
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    chunks_total = fields.IntField(default=0)
    chunks_done = fields.IntField(default=0)
    result = fields.JSONField(default=dict)
    error = fields.TextField(default="")

    class Meta:
        table = "job"


class JobChunk(Model):
    """A slice of a job that one worker runs.

    Done chunks are never run again, so a killed worker's job resumes where it stopped. A running chunk's
    worker renews heartbeat_at while it works; once that is older than the lease, the chunk may be reclaimed.
    """

    id = fields.IntField(primary_key=True)
    job: fields.ForeignKeyRelation[Job] = fields.ForeignKeyField(
        "palmcredit.Job", related_name="chunks", on_delete=fields.CASCADE
    )
    number = fields.IntField()
    status = fields.CharEnumField(JobStatus, max_length=16, default=JobStatus.PENDING)
    params = fields.JSONField(default=dict)
    result = fields.JSONField(default=dict)
    attempts = fields.IntField(default=0)
    started_at = fields.DatetimeField(null=True)
    heartbeat_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    # seconds per phase of the attempt that succeeded (recorded with jobs.timed); None until one has
    timings = fields.JSONField(null=True)

    class Meta:
        table = "job_chunk"
        unique_together = (("job_id", "number"),)


class JobOutput(Model):
    """Per-record output of a chunk (an unplaced customer, the customers a village received), written with the
    chunk's other effects: under a topic, the record's id (ref) and an amount."""

    id = fields.BigIntField(primary_key=True)
    job: fields.ForeignKeyRelation[Job] = fields.ForeignKeyField(
        "palmcredit.Job", related_name="outputs", on_delete=fields.CASCADE
    )
    chunk = fields.IntField()
    topic = fields.CharField(max_length=32)
    ref = fields.BigIntField()
    amount = fields.IntField(default=1)

    class Meta:
        table = "job_output"
        indexes = (("job_id", "topic", "ref"),)


class OutboxMessage(Model):
    """Work to hand to the queue, written in the same transaction as the change that caused it.

    The relay enqueues undispatched messages with their key as the arq job id, so a message is never run
    twice at once and a Redis outage only delays it.
    """

    id = fields.BigIntField(primary_key=True)
    task = fields.CharField(max_length=64)
    args = fields.JSONField(default=list)
    key = fields.CharField(max_length=160, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    dispatched_at = fields.DatetimeField(null=True, db_index=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")

    class Meta:
        table = "outbox_message"


class Notification(Model):
    """A push to one member of staff: stored first, then delivered live, then read and acknowledged."""

    id = fields.BigIntField(primary_key=True)
    recipient_id = fields.IntField(db_index=True)
    kind = fields.CharField(max_length=32)
    title = fields.CharField(max_length=200)
    body = fields.TextField(default="")
    payload = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        indexes = (("recipient_id", "read_at"),)
