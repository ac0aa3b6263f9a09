"""Polygon layers for the grid import tests: small squares near 睢宁 built with shapely, written in any CRS,
and a snapshot of the grid to show that a refused import changed nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas
import shapely

from models import GridNode


def square(west: float, south: float, width: float = 0.01, height: float = 0.01) -> shapely.Polygon:
    return shapely.box(west, south, west + width, south + height)


def write_layer(path: Path, features: list[dict[str, Any]], crs: str = "EPSG:4326") -> Path:
    """Features given as attributes plus a "geometry" (EPSG:4326), written to path (format by its suffix)."""
    frame = geopandas.GeoDataFrame(
        [{k: v for k, v in f.items() if k != "geometry"} for f in features],
        geometry=[f["geometry"] for f in features],
        crs="EPSG:4326",
    ).to_crs(crs)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_file(path, engine="pyogrio")
    return path


async def grid_snapshot() -> str:
    """Every grid node as stored, to compare before and after."""
    rows = (
        await GridNode.all()
        .order_by("id")
        .values("id", "level", "code", "name", "parent_id", "path", "depth", "polygon")
    )
    return json.dumps(rows, default=str, sort_keys=True)
