"""The plain fields: marked resolvers and default Relay ids resolve straight from graphql-core, answering what
strawberry's own wrapping answered; a marked field that takes arguments is refused when the schema is built."""

from __future__ import annotations

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
