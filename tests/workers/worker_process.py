"""A real `palmcredit worker` process for the kill test: the project's WorkerSettings (its own Tortoise,
relay and recovery), with the test job kind registered, on the test's queue and namespace.

    python -m tests.workers.worker_process <queue name> <namespace>
"""

from __future__ import annotations

import importlib
import sys

from arq.worker import run_worker

from workers.settings import WorkerSettings, configure_logging


def main() -> None:
    queue_name, namespace = sys.argv[1], sys.argv[2]
    configure_logging()
    importlib.import_module("tests.workers.kinds")  # registers the test job kind
    run_worker(
        WorkerSettings,  # type: ignore[arg-type]
        queue_name=queue_name,
        max_jobs=1,
        poll_delay=0.05,
        ctx={"namespace": namespace},
    )


if __name__ == "__main__":
    main()
