"""Changes to an approved limit, maker-checker: proposed by one person with the authority of the new amount's
tier, confirmed by another; the line unchanged until then; never below what is drawn; never by the marketer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from models import AuditLog, CreditLine, Customer, LimitChange
from tests.credit_flow import pk_of
from tests.factories import Api, World, make_staff
from tests.schema.credit.test_drawdowns import requested

PROPOSE = """mutation($line: ID!, $amount: Decimal!, $reason: String!) {
  proposeLimitChange(lineId: $line, amount: $amount, reason: $reason) {
    __typename ... on LimitChange { id status toAmount } ... on CreditError { code field } } }"""
DECIDE = """mutation($id: Int!, $ok: Boolean!, $reason: String! = "") {
  decideLimitChange(changeId: $id, confirm: $ok, reason: $reason) {
    __typename ... on LimitChange { id status } ... on CreditError { code field } } }"""


async def propose(
    api: Api, user: str, line: dict[str, Any], amount: str, reason: str = "经营扩大 / business grew"
) -> Any:
    body = await api.as_(user, PROPOSE, {"line": line["id"], "amount": amount, "reason": reason})
    return body["data"]["proposeLimitChange"]


async def test_a_second_person_confirms_and_only_then_the_line_changes(
    api: Api, world: World, line: dict[str, Any]
) -> None:
    await make_staff("approver2", ["APPROVER"], [world.county])
    change = await propose(api, "approver", line, "40000")
    assert (change["__typename"], change["status"]) == ("LimitChange", "PROPOSED"), change
    assert (await CreditLine.get(id=pk_of(line["id"]))).amount == Decimal("50000.00")
    own = (await api.as_("approver", DECIDE, {"id": change["id"], "ok": True}))["data"]["decideLimitChange"]
    assert own["code"] == "SEPARATION_OF_DUTIES"
    confirmed = (await api.as_("approver2", DECIDE, {"id": change["id"], "ok": True}))["data"]["decideLimitChange"]
    assert confirmed["status"] == "CONFIRMED"
    assert (await CreditLine.get(id=pk_of(line["id"]))).amount == Decimal("40000.00")
    assert (await Customer.get(id=world.customers["c1a"].id)).credit_line == Decimal("40000.00")
    assert await AuditLog.filter(action="credit_line.confirm_change").count() == 1


async def test_the_new_amounts_tier_decides_who_may_propose(api: Api, world: World, line: dict[str, Any]) -> None:
    above = await propose(api, "approver", line, "200000")
    assert (above["code"], above["field"]) == ("WRONG_ROLE", "amount")
    by_president = await propose(api, "president1", line, "200000")
    assert by_president["status"] == "PROPOSED"
    outside = await propose(api, "president2", line, "200000")
    assert outside["code"] == "NOT_FOUND"
    assert await LimitChange.all().count() == 1


async def test_refusals_change_nothing(api: Api, world: World, line: dict[str, Any]) -> None:
    await requested(api, line)  # ¥30,000 held by a drawdown
    below = await propose(api, "approver", line, "20000")
    assert (below["code"], below["field"]) == ("LIMIT_BELOW_DRAWN", "amount")
    no_reason = await propose(api, "approver", line, "45000", reason="  ")
    assert (no_reason["code"], no_reason["field"]) == ("INVALID_VALUE", "reason")
    marketer = await propose(api, "manager1a", line, "45000")
    assert marketer["code"] in {"WRONG_ROLE", "SEPARATION_OF_DUTIES"}
    assert await LimitChange.all().count() == 0
    assert (await CreditLine.get(id=pk_of(line["id"]))).amount == Decimal("50000.00")
