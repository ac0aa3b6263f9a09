"""What a kind of job is: one declaration (JobKind) holding its name and title, the types of its parameters,
chunks, chunk results and report, how it plans its chunks, runs one, and finishes, and its schedule.

Parameters, chunks, chunk results and reports are frozen dataclasses stored in the JSON columns. pydantic reads
them back in strict mode from JSON (a string is not an int, a missing field is an error), so a chunk never
runs on a half-understood row; keys it does not know are ignored, so a release rolled back still reads the
rows a newer one wrote.

Kinds are listed once (resolvers/kinds.py) and registered from that list by whatever process runs them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Sum

from models import JobOutput, Notification

P = TypeVar("P")  # the job's parameters
C = TypeVar("C")  # one chunk's parameters
R = TypeVar("R")  # one chunk's result
T = TypeVar("T")  # the job's report

_SCOPE_PATH = re.compile(r"^/(\d+/)*$")


@dataclass(frozen=True)
class GridScope:
    """The part of the grid a job runs over: a grid node's path ("/1/4/"), or "/" for the whole bank."""

    path: str = "/"

    def __post_init__(self) -> None:
        if not _SCOPE_PATH.match(self.path):
            raise ValueError(f"not a grid path: {self.path!r}")

    @property
    def is_bank(self) -> bool:
        return self.path == "/"


BANK = GridScope()


@dataclass(frozen=True)
class Described:
    """A report field's description, for whoever reads the report (the GraphQL layer):
    `placed: Annotated[int, Described("Placed in a village")]`."""

    text: str


@dataclass(frozen=True)
class Listing:
    """Per-record output a kind's chunks write (job_output rows under `topic`, ref = the record's id) that its
    report lists: the first `limit` refs, smallest first, as global ids of `node_type`."""

    field: str
    topic: str
    node_type: str
    limit: int
    description: str


@dataclass(frozen=True)
class KindSchedule(Generic[P]):
    """When a kind runs by itself (arq.cron's fields: month, day, weekday, hour, minute) and the parameters a
    firing at its scheduled time starts it with, over `scope`."""

    times: Mapping[str, int | set[int]]
    params: Callable[[datetime], P]
    scope: GridScope = BANK


@dataclass
class ChunkRun(Generic[P, C]):
    """One attempt at one chunk: its writes go on conn, in the transaction that marks the chunk done."""

    job_id: int
    number: int
    attempt: int
    params: P
    chunk: C
    scope: GridScope
    conn: BaseDBAsyncClient

    async def write_outputs(self, topic: str, rows: Iterable[tuple[int, int]]) -> None:
        """Record per-record output (ref, amount) of this chunk under topic, with the chunk's other writes."""
        from resolvers.platform.db import insert_rows

        await insert_rows(
            JobOutput,
            [{"job_id": self.job_id, "chunk": self.number, "topic": topic, "ref": r, "amount": a} for r, a in rows],
            self.conn,
        )


@dataclass
class Finishing(Generic[P]):
    """A job being finished: its writes go on conn, in the transaction that marks it SUCCEEDED."""

    job_id: int
    created_by: int | None
    params: P
    scope: GridScope
    conn: BaseDBAsyncClient
    after_commit: list[Notification] = field(default_factory=list)

    async def output_totals(self, topic: str) -> dict[int, int]:
        """Every chunk's outputs under topic, summed by ref."""
        rows = (
            await JobOutput.filter(job_id=self.job_id, topic=topic)
            .using_db(self.conn)
            .annotate(total=Sum("amount"))
            .group_by("ref")
            .values_list("ref", "total")
        )
        return {int(ref): int(total) for ref, total in rows}

    def publish_after_commit(self, notification: Notification) -> None:
        """Push this notification (stored on conn) once the job's result has committed; if finishing fails,
        it is rolled back with everything else and never pushed."""
        self.after_commit.append(notification)


class Codec(Generic[T]):
    """A frozen dataclass to and from a JSON column's value, strictly."""

    def __init__(self, shape: type[T]) -> None:
        self.shape = shape
        self._adapter: TypeAdapter[T] = TypeAdapter(shape)

    def dump(self, value: T) -> Any:
        return self._adapter.dump_python(value, mode="json")

    def load(self, stored: Any) -> T:
        return self._adapter.validate_json(json.dumps(stored), strict=True)


@dataclass(frozen=True, kw_only=True)
class RecordedKind(Generic[P, T]):
    """A kind of recorded run: its name, what people call it, its parameters and its report. A kind that is
    only recorded (a grid import, done while its user waits) is one of these; a kind run by the workers is a
    JobKind."""

    name: str
    title_zh: str  # what people call it, in notices: 网格归属
    title_en: str  # assignment run
    params: type[P]
    report: type[T]
    listings: tuple[Listing, ...] = ()

    def titled(self, zh: str, en: str) -> str:
        """A notice's title for a run of this kind: "网格归属运行完成 / assignment run finished"."""
        return f"{self.title_zh}{zh} / {self.title_en} {en}"

    @cached_property
    def params_codec(self) -> Codec[P]:
        return Codec(self.params)

    @cached_property
    def report_codec(self) -> Codec[T]:
        return Codec(self.report)


@dataclass(frozen=True, kw_only=True)
class JobKind(RecordedKind[P, T], Generic[P, C, R, T]):
    """A kind of job the workers run, whole. plan(params, scope, conn) cuts a run into chunks; run_chunk(run)
    does one chunk's writes on run.conn and returns its result; finish(finishing, results) reduces them to the
    report, writing on finishing.conn. All three run inside a transaction and must commit nothing elsewhere.

    A kind that only makes sense for the whole bank says so (bank_wide_only); a start over a part of the grid
    is refused."""

    chunk: type[C]
    chunk_result: type[R]
    plan: Callable[[P, GridScope, BaseDBAsyncClient], Awaitable[Sequence[C]]]
    run_chunk: Callable[[ChunkRun[P, C]], Awaitable[R]]
    finish: Callable[[Finishing[P], Sequence[R]], Awaitable[T]]
    max_attempts: int = 3
    bank_wide_only: bool = False
    schedule: KindSchedule[P] | None = None
    # (params, report) → an error when the report says the run's input was refused whole (a bank file with
    # cells at fault): the job then ends FAILED with that error, its report kept; None when it is a success
    refusal: Callable[[P, T], str | None] | None = None
    # for a start chained from a change (jobs.start_later): is there still work for it when it comes to start?
    # Many changes may each queue a start; once one run has done the work, the others start nothing.
    still_needed: Callable[[P, GridScope, BaseDBAsyncClient], Awaitable[bool]] | None = None

    @cached_property
    def chunk_codec(self) -> Codec[C]:
        return Codec(self.chunk)

    @cached_property
    def result_codec(self) -> Codec[R]:
        return Codec(self.chunk_result)


AnyRecorded = RecordedKind[Any, Any]
AnyKind = JobKind[Any, Any, Any, Any]
_REGISTERED: dict[str, AnyRecorded] = {}


class UnknownJobKindError(LookupError):
    """The job's kind is not registered in this process."""


def register(kinds: Iterable[AnyRecorded]) -> None:
    """Make these kinds known (and the JobKinds among them runnable) in this process: the workers, the API's
    background, the CLI."""
    for kind in kinds:
        known = _REGISTERED.get(kind.name)
        if known is not None and known is not kind:
            raise ValueError(f"two job kinds are named {kind.name!r}")
        _REGISTERED[kind.name] = kind


def recorded_kind(name: str) -> AnyRecorded:
    try:
        return _REGISTERED[name]
    except KeyError:
        raise UnknownJobKindError(f"job kind {name!r} is not registered in this process") from None


def job_kind(name: str) -> AnyKind:
    """The registered kind the workers run under this name."""
    kind = recorded_kind(name)
    if not isinstance(kind, JobKind):
        raise UnknownJobKindError(f"job kind {name!r} is recorded only, not run by the workers")
    return kind


def runnable(kinds: Iterable[AnyRecorded]) -> list[AnyKind]:
    return [kind for kind in kinds if isinstance(kind, JobKind)]
