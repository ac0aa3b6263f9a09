"""The demo generator: a plausible county, deterministic for a seed (see demo.generate). demo.people makes up
its people, and anyone else's who needs many (the benchmarks)."""

from demo.errors import DemoDataError
from demo.generate import CUSTOMERS_PER_SCALE, VILLAGES_PER_SCALE, DemoCounts, DemoSummary, generate_demo
from demo.staff import DEMO_PASSWORD, DemoLogin

__all__ = [
    "CUSTOMERS_PER_SCALE",
    "DEMO_PASSWORD",
    "VILLAGES_PER_SCALE",
    "DemoCounts",
    "DemoDataError",
    "DemoLogin",
    "DemoSummary",
    "generate_demo",
]
