"""Fixtures of the credit tests: an approved credit line to draw on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.credit_flow import approve_every_tier, credit_world, to_approval
from tests.factories import Api, World, make_staff

LINE = "query($id: ID!) { creditApplication(id: $id) { line { id amount available reserved drawn } } }"


@pytest.fixture
async def line(api: Api, world: World) -> dict[str, Any]:
    """An approved ¥50,000 line of 普惠贷 for 张一, taken by manager1a."""
    await credit_world(world)
    await make_staff("backoffice2", ["BACK_OFFICE"], [world.county])
    approved = await approve_every_tier(api, await to_approval(api, world))
    assert approved["state"] == "APPROVED"
    body = await api.as_("manager1a", LINE, {"id": approved["id"]})
    return body["data"]["creditApplication"]["line"]  # type: ignore[no-any-return]
