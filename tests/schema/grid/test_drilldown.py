"""The drill-down county → townships → villages with customer counts: built at the top in a fixed number of
statements however many villages there are, and within each user's reach."""

from __future__ import annotations

from typing import Any

from models import GridLevel
from tests.conftest import QueryCounter
from tests.factories import Api, World, make_customer, make_node

DRILLDOWN = """
query { gridRoots { name customerCount
  children { name customerCount children { name customerCount } } } }
"""

# the same drill-down written with a fragment and aliases: the tree is still built at the top
DRILLDOWN_WITH_FRAGMENT = """
fragment Counted on GridNode { name customerCount }
query { gridRoots { ...Counted towns: children { ...Counted villages: children { ...Counted } } } }
"""


def tree(nodes: list[dict[str, Any]], key: str = "children") -> dict[str, Any]:
    return {n["name"]: (n["customerCount"], tree(n[key], key) if key in n else None) for n in nodes}


async def test_a_drilldown_reads_its_nodes_and_counts_in_statements_that_do_not_grow_with_the_villages(
    api: Api, world: World, count_queries: QueryCounter
) -> None:
    await api.as_("head", DRILLDOWN)  # signs in and caches the scope
    count_queries.statements.clear()
    await api.as_("head", DRILLDOWN)
    few = list(count_queries.statements)
    for i in range(30):
        village = await make_node(f"新村{i}", GridLevel.VILLAGE, world.township2 if i % 2 else world.township1)
        await make_customer(village, world.staff["manager2a"], f"客户{i}")
    count_queries.statements.clear()
    body = await api.as_("head", DRILLDOWN)
    assert len(count_queries.statements) == len(few), count_queries.statements
    # the token check, the roots, the tree below them and the counts: one statement each
    assert len(few) == 4, few
    county = body["data"]["gridRoots"][0]
    assert county["customerCount"] == 33
    towns = {t["name"]: t for t in county["children"]}
    assert towns["王集镇"]["customerCount"] == 2 + 15
    assert towns["双沟镇"]["customerCount"] == 1 + 15
    assert len(towns["王集镇"]["children"]) == 2 + 15
    assert {v["name"]: v["customerCount"] for v in towns["双沟镇"]["children"]}["王庄村"] == 1


async def test_the_drilldown_with_fragments_and_aliases_answers_the_same_in_as_few_statements(
    api: Api, world: World, count_queries: QueryCounter
) -> None:
    plain = await api.as_("head", DRILLDOWN)
    count_queries.statements.clear()
    aliased = await api.as_("head", DRILLDOWN_WITH_FRAGMENT)
    assert len(count_queries.statements) == 4, count_queries.statements
    county = aliased["data"]["gridRoots"][0]
    as_plain = {
        county["name"]: (
            county["customerCount"],
            {t["name"]: (t["customerCount"], tree(t["villages"])) for t in county["towns"]},
        )
    }
    expected = {
        k: (v[0], {t: (n, vs) for t, (n, vs) in v[1].items()}) for k, v in tree(plain["data"]["gridRoots"]).items()
    }
    assert as_plain == expected


async def test_a_drilldown_shows_each_user_only_their_reach_with_the_counts_they_may_see(
    api: Api, world: World
) -> None:
    await make_customer(world.village1b, world.staff["manager1a"], "赵四")  # managed by 1a, living in 1b
    head = tree((await api.as_("head", DRILLDOWN))["data"]["gridRoots"])
    assert head == {"睢宁县": (4, {"王集镇": (3, {"张庄村": (1, None), "李庄村": (2, None)}),
                                   "双沟镇": (1, {"王庄村": (1, None)})})}  # fmt: skip
    president = tree((await api.as_("president1", DRILLDOWN))["data"]["gridRoots"])
    # the county on the breadcrumb, counting only what the president may see
    assert president == {"睢宁县": (3, {"王集镇": (3, {"张庄村": (1, None), "李庄村": (2, None)})})}
    manager = tree((await api.as_("manager1a", DRILLDOWN))["data"]["gridRoots"])
    # their village, and the customer they manage in the next village counted where that customer lives
    assert manager == {"睢宁县": (2, {"王集镇": (2, {"张庄村": (1, None)})})}
    investigator = await api.as_("investigator", DRILLDOWN)
    assert tree(investigator["data"]["gridRoots"]) == {
        "睢宁县": (0, {"王集镇": (0, {"张庄村": (0, None), "李庄村": (0, None)}), "双沟镇": (0, {"王庄村": (0, None)})})
    }
