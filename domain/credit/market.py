"""The bank's particulars and the market rates (rules/bank.toml): the lender's name the contracts carry and the
one-year loan prime rate (LPR) in effect on a day, which the pricing decision starts from."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

BANK_FILE = Path(__file__).resolve().parents[2] / "rules" / "bank.toml"


@dataclass(frozen=True)
class RateEntry:
    effective_from: date
    rate: Decimal


@dataclass(frozen=True)
class Bank:
    lender_name: str
    lpr_1y: tuple[RateEntry, ...]  # by effective date, oldest first

    def lpr_on(self, day: date) -> Decimal:
        """The one-year LPR in effect on `day` (the latest published on or before it)."""
        rate = None
        for entry in self.lpr_1y:
            if entry.effective_from <= day:
                rate = entry.rate
        if rate is None:
            raise ValueError(f"no LPR in effect on {day} in {BANK_FILE.name}")
        return rate


def parse_bank(text: str) -> Bank:
    """Read the file strictly: a missing name, a date that is no date or a rate that is no decimal fraction
    between 0 and 1 stops the platform from starting rather than pricing on a guess."""
    data = tomllib.loads(text)
    name = data.get("lender_name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{BANK_FILE.name}: lender_name is required")
    entries = []
    for raw in data.get("lpr_1y", []):
        day, rate = raw.get("effective_from"), raw.get("rate")
        if not isinstance(day, date) or not isinstance(rate, str):
            raise ValueError(f"{BANK_FILE.name}: each lpr_1y entry has a date effective_from and a quoted rate")
        try:
            value = Decimal(rate)
        except InvalidOperation:
            raise ValueError(f"{BANK_FILE.name}: rate {rate!r} is not a decimal") from None
        if not Decimal(0) < value < Decimal(1):
            raise ValueError(f"{BANK_FILE.name}: rate {rate} is not a fraction such as 0.0300")
        entries.append(RateEntry(day, value))
    if not entries:
        raise ValueError(f"{BANK_FILE.name}: at least one lpr_1y entry is required")
    return Bank(name.strip(), tuple(sorted(entries, key=lambda e: e.effective_from)))


@cache
def bank() -> Bank:
    return parse_bank(BANK_FILE.read_text(encoding="utf-8"))
