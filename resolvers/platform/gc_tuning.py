"""The garbage collector's settings for a long-running process, the service's and the workers' alike."""

from __future__ import annotations

import gc

# Young objects are collected after this many allocations (Python's default is 700): a drill-down builds a few
# thousand short-lived objects, a screening chunk a few hundred thousand, and at the default the collector ran
# several times per request and hundreds of times per chunk.
GC_YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """Once the process has started: move everything alive (modules, the schema, caches) out of the collector's
    sight, so that its older-generation passes stop walking them, and collect young objects less often.
    Measured by benchmarks/graphql_api.py (--no-gc-tuning for the comparison) for the service, and on
    screening chunks (the village_screening job) for the workers."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
