"""The administrative division codes (GB/T 2260) an ID number's first six digits may carry: every code that
has ever been in force, since a number issued under a code that was later abolished stays valid for life.
The list is data/gb2260.csv; data/README.md says where it comes from and how to bring it up to date."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

DIVISION_CODES_FILE = Path(__file__).resolve().parents[2] / "data" / "gb2260.csv"


@cache
def division_codes() -> frozenset[str]:
    """Every six-digit code in the list, current or historic."""
    with DIVISION_CODES_FILE.open(encoding="utf-8", newline="") as file:
        return frozenset(row["code"] for row in csv.DictReader(file))


def is_division_code(code: str) -> bool:
    return code in division_codes()
