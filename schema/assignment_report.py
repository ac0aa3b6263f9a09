"""An assignment run's report in the graph, typed: how many customers were looked at, where they went, who
could not be placed and why, and how many customer managers were told about new arrivals."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay


@strawberry.type(description="Customers whose coordinates could not be used, by reason")
class PlacementFlagCount:
    flag: str = strawberry.field(
        description="NO_COORDINATES (placed by address if it names a village), OUT_OF_RANGE (outside China) "
        "or SWAPPED (latitude and longitude exchanged)"
    )
    customers: int


@strawberry.type(description="The report of an assignment run (网格归属报告)")
class AssignmentReport:
    customers: int = strawberry.field(description="Customers the run looked at")
    placed: int = strawberry.field(description="Placed in a village: inside one, the nearest, or by address")
    moved: int = strawberry.field(description="Placed in another village than the one they were in")
    nearest: int = strawberry.field(description="Outside every village, placed in the nearest within the distance")
    fallback: int = strawberry.field(description="Without coordinates, placed by the village named in the address")
    unplaced: int = strawberry.field(description="Left where they were, for a person to look at (UNPLACED)")
    flagged: list[PlacementFlagCount]
    unplaced_customers: list[relay.GlobalID] = strawberry.field(
        description="The first unplaced customers (at most 200), smallest id first"
    )
    villages_receiving: int = strawberry.field(description="Villages that received customers new to them")
    managers_notified: int = strawberry.field(description="Customer managers told who came into their grid")

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> AssignmentReport:
        return cls(
            customers=int(result.get("customers", 0)),
            placed=int(result.get("placed", 0)),
            moved=int(result.get("moved", 0)),
            nearest=int(result.get("nearest", 0)),
            fallback=int(result.get("fallback", 0)),
            unplaced=int(result.get("unplaced", 0)),
            flagged=[
                PlacementFlagCount(flag=str(flag), customers=int(count))
                for flag, count in sorted(result.get("flagged", {}).items())
            ],
            unplaced_customers=[relay.GlobalID("Customer", str(pk)) for pk in result.get("unplaced_sample", [])],
            villages_receiving=len(result.get("arrivals", {})),
            managers_notified=int(result.get("managers_notified", 0)),
        )


__all__ = ["AssignmentReport", "PlacementFlagCount"]
