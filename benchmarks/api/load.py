"""The load run: the real server (`palmcredit serve --workers N`) on a real database, and C concurrent clients,
each sending the next request as soon as its last one is answered, drawn from a mix of operations, for a fixed
time. Reports requests per second, p50/p99 latency and errors (a failed connection, a status other than 200, or
a GraphQL error in the answer).

The clients are Debian's `wrk` when it is installed (`apt-get install wrk`), driven by mix.lua: it is written in C
and takes a few per cent of one core at these rates, so the server has the machine's cores to itself. Without it,
a bounded asyncio client (httpx) does the same; on a two-core machine that client takes most of a core itself,
which the server then lacks, so its figures are lower bounds."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Call:
    name: str
    body: dict[str, Any] | None  # a GraphQL request posted to /graphql; None: a GET of `path`
    headers: dict[str, str]
    path: str = "/graphql"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(database_url: str, workers: int, port: int, *, baseline: bool = False) -> Iterator[str]:
    """`palmcredit serve` in its own process group, on the database, without Redis (jobs in-process); with
    `baseline`, the hand-written endpoints served the same way by uvicorn."""
    env = {**os.environ, "DATABASE_URL": database_url, "PALMCREDIT_LOG_LEVEL": "warning"}
    env.pop("REDIS_URL", None)
    bin_dir = Path(sys.executable).parent
    if baseline:
        command = [
            str(bin_dir / "uvicorn"),
            "--factory",
            "benchmarks.api.baseline:served_app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "info",
        ]  # as `palmcredit serve`; fmt: skip
    else:
        command = [str(bin_dir / "palmcredit"), "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(  # noqa: S603 — our own command line, no outside input
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.3)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


async def run_load(base: str, calls: Sequence[Call], clients: int, seconds: float, seed: int = 7) -> dict[str, Any]:
    """C clients for `seconds`, each picking its next call at random from `calls`."""
    latencies: dict[str, list[float]] = {c.name: [] for c in calls}
    errors: dict[str, int] = {c.name: 0 for c in calls}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        stop = time.monotonic() + seconds

        async def client(n: int) -> None:
            pick = random.Random(seed + n)
            while time.monotonic() < stop:
                call = pick.choice(calls)
                t0 = time.perf_counter()
                try:
                    if call.body is None:
                        response = await http.get(call.path, headers=call.headers)
                    else:
                        response = await http.post(call.path, json=call.body, headers=call.headers)
                    failed = response.status_code != 200 or "errors" in response.json()
                except httpx.HTTPError:
                    failed = True
                latencies[call.name].append(time.perf_counter() - t0)
                errors[call.name] += failed

        started = time.monotonic()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.monotonic() - started
    every = sorted(x for xs in latencies.values() for x in xs)
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(every),
        "rps": round(len(every) / elapsed, 1),
        "p50_ms": round(statistics.median(every) * 1000, 1) if every else None,
        "p99_ms": round(statistics.quantiles(every, n=100)[98] * 1000, 1) if len(every) > 1 else None,
        "errors": sum(errors.values()),
        "by_operation": {
            name: {
                "requests": len(xs),
                "p50_ms": round(statistics.median(xs) * 1000, 1) if xs else None,
                "errors": errors[name],
            }
            for name, xs in latencies.items()
        },
    }


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    """A Lua long string holding `text` as it is: the first bracket level whose closing mark it does not contain."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def run_wrk(base: str, calls: Sequence[Call], clients: int, seconds: float, threads: int = 1) -> dict[str, Any]:
    """The same closed loop as run_load, by wrk: `clients` connections kept alive, each sending its next call,
    drawn at random, when the last is answered. Latency percentiles are wrk's, over every request."""
    entries = []
    for call in calls:
        headers = {**call.headers}
        body = None
        if call.body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(call.body, ensure_ascii=False)
        header_table = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items())
        entries.append(
            f"{{method = {_lua_string('POST' if body else 'GET')}, path = {_lua_string(call.path)}, "
            f"headers = {{{header_table}}}, body = {_lua_string(body) if body else 'nil'}}}"
        )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="utf-8") as data:
        data.write("calls = {\n  " + ",\n  ".join(entries) + "\n}\n")
        data.flush()
        command = [
            "wrk", "-t", str(threads), "-c", str(clients), "-d", f"{max(1, round(seconds))}s", "--timeout", "60s",
            "-s", str(Path(__file__).with_name("mix.lua")), base + "/",
        ]  # fmt: skip
        done = subprocess.run(  # noqa: S603 — wrk with our own arguments
            command, env={**os.environ, "WRK_CALLS": data.name}, capture_output=True, text=True, check=False
        )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}{done.stdout[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    elapsed = figures["duration_us"] / 1e6
    errors = figures["non_200"] + figures["socket_errors"] + figures["graphql_errors"]
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": figures["requests"],
        "rps": round(figures["requests"] / elapsed, 1),
        "p50_ms": round(figures["p50_us"] / 1000, 1),
        "p99_ms": round(figures["p99_us"] / 1000, 1),
        "errors": errors,
        # wrk cannot tell which call an answer belongs to: per call, the requests sent; the errors are the whole's
        "by_operation": {
            call.name: {"requests": figures["sent"].get(str(i + 1), 0), "p50_ms": None, "errors": None}
            for i, call in enumerate(calls)
        },
    }
