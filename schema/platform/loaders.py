"""Per-request DataLoaders, named <Target>By<Key>Loader. Every batch goes through a use case with the
signed-in actor, so a loader answers only what that actor may see (None or empty where they may not), in key
order. Each capability declares its own loaders (schema/<capability>/loaders.py); this class holds them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from domain.access import Actor
from models import GridNode as GridNodeModel
from models import Staff as StaffModel
from resolvers.customers import browse as customers
from resolvers.customers.views import HouseholdView
from resolvers.grid import browse as grid
from resolvers.grid import kpis
from resolvers.staff import directory as staff

K = TypeVar("K")
V = TypeVar("V")


def scoped(actor: Actor, batch: Callable[[Actor, Sequence[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
    """A loader whose batches run the use case `batch` as `actor`."""

    async def load(keys: list[K]) -> Sequence[V]:
        return await batch(actor, keys)

    return DataLoader(load_fn=load)


async def _latest_period(keys: list[str]) -> list[str | None]:
    latest = await kpis.latest_period()
    return [latest for _ in keys]


@dataclass
class Loaders:
    grid_node_by_id: DataLoader[int, GridNodeModel | None]
    children_by_parent: DataLoader[int, list[GridNodeModel]]
    polygon_by_node: DataLoader[int, Any]
    kpi_by_node_period: DataLoader[tuple[int, str, str], kpis.KpiRow | None]
    customer_count_by_path: DataLoader[str, int]
    customer_counts: customers.CustomerCounts
    household_by_id: DataLoader[int, HouseholdView | None]
    staff_by_id: DataLoader[int, StaffModel | None]
    latest_kpi_period: DataLoader[str, str | None]  # one key, "latest": the period looked up once per request

    @classmethod
    def for_actor(cls, actor: Actor) -> Loaders:
        counts = customers.CustomerCounts(actor)
        return cls(
            grid_node_by_id=scoped(actor, grid.nodes_by_ids),
            children_by_parent=scoped(actor, grid.children_of),
            polygon_by_node=scoped(actor, grid.polygons),
            kpi_by_node_period=scoped(actor, kpis.kpis_by_keys),
            customer_count_by_path=DataLoader(load_fn=counts.under),
            customer_counts=counts,
            household_by_id=scoped(actor, customers.households_by_ids),
            staff_by_id=scoped(actor, staff.staff_by_ids),
            latest_kpi_period=DataLoader(load_fn=_latest_period),
        )
