"""The grid (网格): county → township → village → village group, and the bank outlets (网点) covering it."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class GridLevel(StrEnum):
    COUNTY = "COUNTY"
    TOWNSHIP = "TOWNSHIP"
    VILLAGE = "VILLAGE"
    GROUP = "GROUP"


class GridNode(Model):
    """One node of the grid.

    path is the materialized path of ids, "/1/7/42/", so that "everything under this node" is one
    indexed prefix query ("path LIKE '/1/7/%'"). It is written once when the node is created and only
    rewritten when a node moves.
    """

    id = fields.IntField(primary_key=True)
    level = fields.CharEnumField(GridLevel, max_length=16)
    name = fields.CharField(max_length=100)
    code = fields.CharField(max_length=32, unique=True)
    parent: fields.ForeignKeyNullableRelation[GridNode] = fields.ForeignKeyField(
        "palmcredit.GridNode", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    path = fields.CharField(max_length=255, db_index=True)
    depth = fields.SmallIntField()
    polygon = fields.JSONField(null=True, description="GeoJSON geometry (villages and above)")
    centroid_lon = fields.FloatField(null=True)
    centroid_lat = fields.FloatField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "grid_node"
        ordering = ("path",)
        indexes = (("parent_id", "code"),)


class Outlet(Model):
    """A bank outlet (网点) and the grid nodes it serves."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=100)
    address = fields.CharField(max_length=255, default="")
    covers: fields.ManyToManyRelation[GridNode] = fields.ManyToManyField(
        "palmcredit.GridNode", related_name="outlets", through="outlet_coverage"
    )

    class Meta:
        table = "outlet"
