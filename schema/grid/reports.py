"""Reports of the grid's recorded runs, typed: a grid import (what was checked, every problem by feature, overlaps,
the gap, what was written) and an assignment run (placed, moved, who could not be placed and why, managers told)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry import relay

from resolvers.grid import imports as grid_import

GridImportLevel = strawberry.enum(
    grid_import.ImportLevel, name="GridImportLevel", description="The grid level a polygon layer holds: 村 / 乡镇"
)


@strawberry.enum(name="GridImportSeverity", description="ERROR: the import was refused; WARNING: imported, reported")
class GridImportSeverity(Enum):
    ERROR = "error"
    WARNING = "warning"


@strawberry.type(description="One problem found in an imported file, usually of one feature")
class GridImportProblem:
    feature: int | None = strawberry.field(description="The feature's 0-based position in the file; null for the file")
    code: str | None = strawberry.field(description="The feature's code, when it has one")
    kind: str = strawberry.field(
        description="INVALID_GEOMETRY, REPAIRED_GEOMETRY, EMPTY_GEOMETRY, MISSING_ATTRIBUTE, DUPLICATE_CODE, NO_CRS, "
        "OUTSIDE_CHINA, UNKNOWN_PARENT or CODE_IN_USE"
    )
    severity: GridImportSeverity
    message: str = strawberry.field(description="中文 / English")
    message_zh: str
    message_en: str


@strawberry.type(description="Two imported areas that overlap")
class GridImportOverlap:
    code_a: str
    code_b: str
    area_m2: float = strawberry.field(description="The overlap's area in square metres")


@strawberry.type(description="What an import that went ahead wrote")
class GridImportCounts:
    created: int
    updated: int = strawberry.field(description="Existing nodes whose name, polygon or parent changed; ids kept")
    unchanged: int
    customers_to_place: int = strawberry.field(
        description="Customers marked for placement because a village boundary near them changed (0 for townships)"
    )


@strawberry.type(description="The report of a grid import (网格导入报告)")
class GridImportReport:
    file: str = strawberry.field(description="The imported file's name")
    level: grid_import.ImportLevel | None = strawberry.field(description="Null for imports recorded before levels")
    features_ok: int = strawberry.field(description="Features without errors")
    problems: list[GridImportProblem] = strawberry.field(description="Errors first by file, then by feature")
    overlaps: list[GridImportOverlap]
    gap_area_m2: float | None = strawberry.field(
        description="Area the layer should cover and does not, in m²: inside the townships (villages), the county "
        "outline, or else the layer's convex hull; null when not measured"
    )
    counts: GridImportCounts | None = strawberry.field(description="Null when the import was refused")

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> GridImportReport:
        counts = result.get("counts")
        level = result.get("level")
        return cls(
            file=result.get("file", ""),
            level=grid_import.ImportLevel(level) if level else None,
            features_ok=result.get("features_ok", 0),
            problems=[
                GridImportProblem(
                    feature=p["feature"],
                    code=p["code"],
                    kind=p["kind"],
                    severity=GridImportSeverity(p["severity"]),
                    message=f"{p['message_zh']} / {p['message_en']}",
                    message_zh=p["message_zh"],
                    message_en=p["message_en"],
                )
                for p in result.get("problems", [])
            ],
            overlaps=[
                GridImportOverlap(code_a=o["code_a"], code_b=o["code_b"], area_m2=o["area_m2"])
                for o in result.get("overlaps", [])
            ],
            gap_area_m2=result.get("gap_area_m2"),
            counts=GridImportCounts(
                created=counts["created"],
                updated=counts["updated"],
                unchanged=counts["unchanged"],
                customers_to_place=counts.get("customers_to_place", 0),
            )
            if counts
            else None,
        )


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
