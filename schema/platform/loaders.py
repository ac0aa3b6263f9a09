"""Per-request DataLoaders, named <Target>By<Key>Loader; batch functions return results in key order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.dataloader import DataLoader

from domain.access import Actor
from models import GridKpi as GridKpiModel
from models import GridNode as GridNodeModel
from models import Household as HouseholdModel
from models import Staff as StaffModel
from resolvers.grid import browse as grid
from resolvers.grid import kpis


def grid_node_by_id_loader(actor: Actor) -> DataLoader[int, GridNodeModel | None]:
    async def load(ids: Sequence[int]) -> list[GridNodeModel | None]:
        return await grid.nodes_by_ids(actor, ids)

    return DataLoader(load_fn=load)


def children_by_parent_loader(actor: Actor) -> DataLoader[int, list[GridNodeModel]]:
    async def load(ids: Sequence[int]) -> list[list[GridNodeModel]]:
        return await grid.children_of(actor, ids)

    return DataLoader(load_fn=load)


def customer_count_by_path_loader(actor: Actor) -> DataLoader[str, int]:
    async def load(paths: Sequence[str]) -> list[int]:
        return await grid.customer_counts(actor, paths)

    return DataLoader(load_fn=load)


def kpi_by_node_period_loader(actor: Actor) -> DataLoader[tuple[int, str, str], GridKpiModel | None]:
    async def load(keys: Sequence[tuple[int, str, str]]) -> list[GridKpiModel | None]:
        return await kpis.kpis_by_keys(actor, keys)

    return DataLoader(load_fn=load)


async def _staff_by_ids(ids: Sequence[int]) -> list[StaffModel | None]:
    found = {s.id: s for s in await StaffModel.filter(id__in=list(ids))}
    return [found.get(i) for i in ids]


async def _households_by_ids(ids: Sequence[int]) -> list[HouseholdModel | None]:
    found = {h.id: h for h in await HouseholdModel.filter(id__in=list(ids))}
    return [found.get(i) for i in ids]


@dataclass
class Loaders:
    grid_node_by_id: DataLoader[int, GridNodeModel | None]
    children_by_parent: DataLoader[int, list[GridNodeModel]]
    customer_count_by_path: DataLoader[str, int]
    staff_by_id: DataLoader[int, StaffModel | None]
    household_by_id: DataLoader[int, HouseholdModel | None]
    kpi_by_node_period: DataLoader[tuple[int, str, str], GridKpiModel | None]
    polygon_by_node: DataLoader[int, Any]

    @classmethod
    def for_actor(cls, actor: Actor) -> Loaders:
        return cls(
            grid_node_by_id=grid_node_by_id_loader(actor),
            children_by_parent=children_by_parent_loader(actor),
            customer_count_by_path=customer_count_by_path_loader(actor),
            staff_by_id=DataLoader(load_fn=_staff_by_ids),
            household_by_id=DataLoader(load_fn=_households_by_ids),
            kpi_by_node_period=kpi_by_node_period_loader(actor),
            polygon_by_node=DataLoader(load_fn=grid.polygons),
        )
