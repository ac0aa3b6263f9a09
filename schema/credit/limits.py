"""Changes to an approved limit in the graph (额度调整): proposed by one person, confirmed or rejected by another."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from domain.errors import DomainError
from models import LimitChange as LimitChangeModel
from resolvers.credit import limit_changes
from schema.platform.context import Info
from schema.platform.errors import CreditError
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length


@strawberry.type(description="A change to an approved credit line's amount, maker-checker (额度调整)")
class LimitChange:
    id: int
    from_amount: Decimal
    to_amount: Decimal
    reason: str
    status: str = strawberry.field(description="PROPOSED, CONFIRMED or REJECTED")
    created_at: datetime.datetime
    decided_at: datetime.datetime | None

    @classmethod
    def of(cls, change: LimitChangeModel) -> LimitChange:
        return cls(id=change.id, from_amount=change.from_amount, to_amount=change.to_amount, reason=change.reason,
                   status=change.status, created_at=change.created_at, decided_at=change.decided_at)  # fmt: skip


LimitChangeResult = Annotated[LimitChange | CreditError, strawberry.union("LimitChangeResult")]
Reason = Annotated[str, strawberry.argument(directives=max_length(500))]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Propose a new amount for an approved credit line, with a reason (maker)")
    async def propose_limit_change(
        self, info: Info, line_id: strawberry.ID, amount: Decimal, reason: Reason
    ) -> LimitChangeResult:
        actor = info.context.require_actor()
        try:
            change = await limit_changes.propose(actor, decode_pk(line_id, "CreditLine", "lineId"), amount, reason)
            return LimitChange.of(change)
        except DomainError as error:
            return CreditError.from_domain(error)  # type: ignore[no-any-return]

    @strawberry.mutation(description="Confirm or reject a proposed limit change (checker: not its maker)")
    async def decide_limit_change(
        self, info: Info, change_id: int, confirm: bool, reason: Reason = ""
    ) -> LimitChangeResult:
        actor = info.context.require_actor()
        try:
            return LimitChange.of(await limit_changes.decide(actor, change_id, confirm, reason))
        except DomainError as error:
            return CreditError.from_domain(error)  # type: ignore[no-any-return]
