"""The plain fields: marked resolvers and default Relay ids resolve straight from graphql-core, answering what
strawberry's own wrapping answered; a marked field that takes arguments is refused when the schema is built;
plain scalar and enum leaves answered at once by the execution context, as the full path answers them."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from enum import Enum

import pytest
import strawberry
from strawberry import relay

from schema import build_schema
from schema.platform import plain_fields
from schema.platform.plain_fields import plain


@strawberry.type
class Fruit(relay.Node):
    pk: relay.NodeID[int]
    name: str

    @strawberry.field
    @plain
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    @plain
    def seen_by(self, info: strawberry.Info) -> str:
        return str(info.context["who"])

    @strawberry.field
    def slow(self) -> str:
        return self.name

    @classmethod
    def resolve_nodes(cls, *, info: strawberry.Info, node_ids: list[str], required: bool = False) -> list[Fruit]:
        return [Fruit(pk=int(i), name="pear") for i in node_ids]


@strawberry.type
class Query:
    @strawberry.field
    def fruits(self) -> list[Fruit]:
        return [Fruit(pk=7, name="pear"), Fruit(pk=8, name="plum")]


QUERY = "{ fruits { id name shout seenBy slow } }"


def test_plain_fields_answer_as_strawberry_does() -> None:
    wrapped = strawberry.Schema(query=Query)
    expected = wrapped.execute_sync(QUERY, context_value={"who": "manager032"})
    direct = strawberry.Schema(query=Query)
    assert plain_fields.install(direct) == 3  # shout, seenBy and the Relay id
    fields = direct._schema.type_map["Fruit"].fields  # type: ignore[attr-defined]
    assert fields["shout"].resolve.__qualname__.startswith("_direct")
    assert not fields["slow"].resolve.__qualname__.startswith("_direct")  # unmarked: strawberry's own
    got = direct.execute_sync(QUERY, context_value={"who": "manager032"})
    assert got.errors is None
    assert got.data == expected.data
    assert got.data["fruits"][0]["shout"] == "PEAR"
    assert got.data["fruits"][1]["seenBy"] == "manager032"
    assert relay.GlobalID.from_id(got.data["fruits"][1]["id"]) == relay.GlobalID("Fruit", "8")


@strawberry.type
class Bad:
    @strawberry.field
    @plain
    def many(self, times: int) -> str:
        return "x" * times


@strawberry.type
class BadQuery:
    bad: Bad


def test_a_plain_field_with_arguments_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot be plain"):
        plain_fields.install(strawberry.Schema(query=BadQuery))


def test_the_service_schema_takes_the_hot_fields_the_short_way() -> None:
    schema = build_schema()
    customer = schema._schema.type_map["Customer"].fields  # type: ignore[attr-defined]
    node = schema._schema.type_map["GridNode"].fields  # type: ignore[attr-defined]
    for field in (customer["idNumber"], customer["phone"], customer["village"], customer["id"],
                  node["children"], node["customerCount"], node["id"]):  # fmt: skip
        assert field.resolve.__qualname__.startswith(("_direct", "_relay_id")), field
    assert not customer["household"].resolve.__qualname__.startswith("_direct")


class Ripeness(Enum):
    GREEN = "green"
    RIPE = "ripe"


@strawberry.type
class Crate:
    label: str
    weight: Decimal
    ripeness: Ripeness
    note: str | None
    grade: str  # non-null: a crate without one is a field error, as the full path reports it
    count: int

    @strawberry.field
    def label_again(self, info: strawberry.Info) -> str:  # takes info, unmarked: never answered at once
        return self.label

    @strawberry.field
    @plain
    def packer(self, info: strawberry.Info) -> str:  # reads the context: answered at once, given it
        info.context["read"].append(self.label)
        return str(info.context["who"])

    @strawberry.field
    @plain
    def later(self, info: strawberry.Info) -> int:  # an awaitable, as a loader answers
        async def count() -> int:
            return self.count * 10

        return count()  # type: ignore[return-value]


@strawberry.type
class CrateQuery:
    @strawberry.field
    def crates(self) -> list[Crate | None]:  # the crate at fault is null, the others stay
        return [
            Crate(label="梨", weight=Decimal("12.50"), ripeness=Ripeness.RIPE, note=None, grade="A", count=3),
            Crate(label="李", weight=Decimal("0.10"), ripeness=Ripeness.GREEN, note="早", grade=None, count=0),  # type: ignore[arg-type]
        ]


CRATES = "{ crates { label labelAgain packer later weight ripeness note grade count __typename } }"


def test_leaves_answered_at_once_answer_as_the_full_path_does() -> None:
    """PlainExecutionContext answers plain scalar and enum fields without graphql-core's per-field steps: the
    same data, the same error at the same path for a missing non-null value, and only the right fields."""
    full_schema = strawberry.Schema(query=CrateQuery)
    plain_fields.install(full_schema)
    full_read: list[str] = []
    full = asyncio.run(full_schema.execute(CRATES, context_value={"who": "packer7", "read": full_read}))
    fast_schema = strawberry.Schema(query=CrateQuery, execution_context_class=plain_fields.PlainExecutionContext)
    plain_fields.install(fast_schema)
    fields = fast_schema._schema.type_map["Crate"].fields  # type: ignore[attr-defined]
    at_once = {name for name, field in fields.items() if getattr(field, "_palmcredit_leaf", None) is not None}
    assert at_once == {"label", "weight", "ripeness", "note", "grade", "count", "packer", "later"}
    fast_read: list[str] = []
    fast = asyncio.run(fast_schema.execute(CRATES, context_value={"who": "packer7", "read": fast_read}))
    assert fast.data == full.data
    assert fast.data is not None
    assert fast.data["crates"][0] == {"label": "梨", "labelAgain": "梨", "packer": "packer7", "later": 30,
                                      "weight": "12.50", "ripeness": "RIPE", "note": None, "grade": "A", "count": 3,
                                      "__typename": "Crate"}  # fmt: skip
    assert fast_read == full_read == ["梨", "李"]  # each resolver called once
    assert [(e.message, e.path) for e in fast.errors or []] == [(e.message, e.path) for e in full.errors or []]
    assert [e.path for e in fast.errors or []] == [["crates", 1, "grade"]]
    assert fast.data["crates"][1] is None


def test_the_service_schema_answers_plain_leaves_at_once() -> None:
    schema = build_schema()
    assert schema.execution_context_class is plain_fields.PlainExecutionContext
    customer = schema._schema.type_map["Customer"].fields  # type: ignore[attr-defined]
    node = schema._schema.type_map["GridNode"].fields  # type: ignore[attr-defined]
    assert getattr(node["name"], "_palmcredit_leaf", None)[1] is False  # type: ignore[index]
    assert getattr(node["id"], "_palmcredit_leaf", None)[1] is False  # type: ignore[index]
    # these read the request's context (a loader, the disclosure noted for the audit): given it, nothing more
    for field in (node["customerCount"], customer["idNumber"], customer["phone"]):
        assert getattr(field, "_palmcredit_leaf", None)[1] is True  # type: ignore[index]
    assert getattr(node["children"], "_palmcredit_leaf", None) is None  # a list: the full path
