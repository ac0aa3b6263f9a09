"""A real `palmcredit worker` process for the kill tests: the project's WorkerSettings (its own Tortoise,
relay and recovery, as many tasks at once as PALMCREDIT_WORKER_CONCURRENCY allows, leases as long as
PALMCREDIT_JOB_LEASE), with the test job kind registered, on the test's queue and namespace.

    python -m tests.workers.worker_process <queue name> <namespace>
"""

from __future__ import annotations

import sys

from arq.worker import run_worker

from resolvers.platform import job_kinds
from tests.workers.kinds import TEST_SUM
from workers.settings import WorkerSettings, configure_logging


def main() -> None:
    queue_name, namespace = sys.argv[1], sys.argv[2]
    configure_logging()
    job_kinds.register([TEST_SUM])
    run_worker(
        WorkerSettings,  # type: ignore[arg-type]
        queue_name=queue_name,
        poll_delay=0.05,
        ctx={"namespace": namespace},
    )


if __name__ == "__main__":
    main()
