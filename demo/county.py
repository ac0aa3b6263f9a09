"""The demo county's plan (演示县网格): the county, its townships and villages drawn by geo.demo_grid, the
village groups (村民小组) and the outlets, as model objects with their ids, paths and parents already known,
so that everything that refers to them can be planned before a row is written."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from shapely.geometry import mapping

from geo.demo_grid import COUNTY_NAME, DemoGrid
from models import GridLevel, GridNode, Outlet

BANK_NAME = "睢宁农商银行"
GROUP_NAMES = ("一组", "二组", "三组", "四组")
BRANCH_STREETS = ("人民路", "建设路", "解放路", "中山路", "府前路", "新华街")

Ints = npt.NDArray[np.int64]
Geometries = npt.NDArray[np.object_]


@dataclass(frozen=True)
class GridPlan:
    county: GridNode
    townships: list[GridNode]
    villages: list[GridNode]
    groups: list[GridNode]
    village_polygons: Geometries  # as stored, EPSG:4326
    village_township: Ints  # index into townships
    village_groups: list[list[str]]  # group names of every village

    @property
    def nodes(self) -> list[GridNode]:
        """Parents before children, as the foreign keys need them."""
        return [self.county, *self.townships, *self.villages, *self.groups]


@dataclass(frozen=True)
class OutletPlan:
    outlets: list[Outlet]
    coverage: list[tuple[int, int]]  # (outlet id, grid node id)


def plan_grid(grid: DemoGrid, rng: np.random.Generator) -> GridPlan:
    """Ids in order: the county 1, then the townships, the villages and their groups (two to four each)."""
    ids = itertools.count(1)
    county = _grid_node(next(ids), GridLevel.COUNTY, grid.county.iloc[0], None)
    townships = [_grid_node(next(ids), GridLevel.TOWNSHIP, row, county) for _, row in grid.townships.iterrows()]
    by_code = {t.code: t for t in townships}
    villages = [
        _grid_node(next(ids), GridLevel.VILLAGE, row, by_code[row["parent_code"]])
        for _, row in grid.villages.iterrows()
    ]
    village_groups = [list(GROUP_NAMES[: rng.integers(2, len(GROUP_NAMES) + 1)]) for _ in villages]
    groups = [
        _node(next(ids), GridLevel.GROUP, name, f"{village.code}{number:02d}", village)
        for village, names in zip(villages, village_groups, strict=True)
        for number, name in enumerate(names, 1)
    ]
    township_index = {t.code: i for i, t in enumerate(townships)}
    return GridPlan(
        county=county,
        townships=townships,
        villages=villages,
        groups=groups,
        village_polygons=grid.villages.geometry.to_numpy(),
        village_township=np.array([township_index[code] for code in grid.villages["parent_code"]], dtype=np.int64),
        village_groups=village_groups,
    )


def _grid_node(node_id: int, level: GridLevel, row: Any, parent: GridNode | None) -> GridNode:
    """A node with its polygon (GeoJSON, coordinates already snapped to six decimals) and centroid."""
    node = _node(node_id, level, row["name"], row["code"], parent)
    node.polygon = mapping(row.geometry)
    node.centroid_lon, node.centroid_lat = float(row["lon"]), float(row["lat"])
    return node


def _node(node_id: int, level: GridLevel, name: str, code: str, parent: GridNode | None) -> GridNode:
    return GridNode(
        id=node_id,
        level=level,
        name=name,
        code=code,
        parent_id=parent.id if parent else None,
        path=f"{parent.path if parent else '/'}{node_id}/",
        depth=parent.depth + 1 if parent else 0,
    )


def plan_outlets(grid: GridPlan, rng: np.random.Generator) -> OutletPlan:
    """The head office's business department (营业部) serves the county, one branch (支行) each township."""
    outlets = [Outlet(id=1, code="SN000", name=f"{BANK_NAME}营业部", address=f"{COUNTY_NAME}睢城街道人民路88号")]
    for number, township in enumerate(grid.townships, 1):
        street = BRANCH_STREETS[rng.integers(len(BRANCH_STREETS))]
        outlets.append(
            Outlet(
                id=number + 1,
                code=f"SN{number:03d}",
                name=f"{BANK_NAME}{_short_name(township.name)}支行",
                address=f"{COUNTY_NAME}{township.name}{street}{rng.integers(1, 200)}号",
            )
        )
    coverage = [(outlet.id, node.id) for outlet, node in zip(outlets, [grid.county, *grid.townships], strict=True)]
    return OutletPlan(outlets, coverage)


def _short_name(township: str) -> str:
    """王集镇 → 王集, 睢城街道 → 睢城: how branches are named."""
    return township.removesuffix("街道").removesuffix("镇")
