"""After publication in the graph: the collectors' phone call-back and the household's signing, which grants its
credit line in the credit factory. Each answers the household's new step (with the line, once signed) or a typed
VillageCreditError; a refused call changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from domain.errors import DomainError
from domain.village_credit.household_workflow import HouseholdState as HouseholdStateModel
from resolvers.village_credit import signing
from resolvers.village_credit.signing import CallBackOutcome as CallBackOutcomeModel
from resolvers.village_credit.signing import HouseholdStep
from schema.credit.types import CreditLine
from schema.platform.context import Info
from schema.platform.errors import VillageCreditError
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.village_credit.households import HouseholdState

CallBackOutcome = strawberry.enum(
    CallBackOutcomeModel,
    name="CallBackOutcome",
    description="电话回访结果: CONFIRMED (wants the line), DECLINED, UNREACHABLE",
)


@strawberry.type(description="A household's step after a call-back or signing")
class VillageHouseholdStep:
    household_id: strawberry.ID
    state: HouseholdState  # type: ignore[valid-type]
    version: int = strawberry.field(description="Send it back as expectedVersion with the next step")
    limit: Decimal | None
    called_back_at: datetime.datetime | None
    signed_at: datetime.datetime | None
    line: CreditLine | None = strawberry.field(description="The credit line signing granted (签约生效的授信额度)")

    @classmethod
    def of(cls, step: HouseholdStep) -> VillageHouseholdStep:
        s = step.screening
        return cls(
            household_id=strawberry.ID(strawberry.relay.to_base64("VillageHousehold", s.id)),
            state=HouseholdStateModel(s.state),
            version=s.version,
            limit=s.limit,
            called_back_at=s.called_back_at,
            signed_at=s.signed_at,
            line=CreditLine.of(step.line) if step.line else None,
        )


HouseholdStepResult = Annotated[
    VillageHouseholdStep | VillageCreditError, strawberry.union("VillageHouseholdStepResult")
]


async def call_back_household(
    info: Info,
    household_id: strawberry.ID,
    outcome: CallBackOutcome,  # type: ignore[valid-type]
    note: Annotated[str, strawberry.argument(directives=max_length(signing.MAX_NOTE_LENGTH))] = "",
    expected_version: int | None = None,
) -> HouseholdStepResult:
    actor = info.context.require_actor()
    try:
        pk = decode_pk(household_id, "VillageHousehold", "householdId")
        step = await signing.call_back(actor, pk, outcome, note, expected_version)
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return VillageHouseholdStep.of(step)


async def sign_household(
    info: Info, household_id: strawberry.ID, expected_version: int | None = None
) -> HouseholdStepResult:
    actor = info.context.require_actor()
    try:
        step = await signing.sign(actor, decode_pk(household_id, "VillageHousehold", "householdId"), expected_version)
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return VillageHouseholdStep.of(step)


@strawberry.type
class Mutation:
    call_back_household: HouseholdStepResult = strawberry.mutation(
        resolver=call_back_household,
        description="The phone call-back (电话回访) of an approved household, by a collector of the campaign: "
        "CONFIRMED moves it on to signing; DECLINED or UNREACHABLE (a note required) closes it",
    )
    sign_household: HouseholdStepResult = strawberry.mutation(
        resolver=sign_household,
        description="A confirmed household signs (签约), by a collector of the campaign who did not approve it: "
        "its whole-village credit line is granted in the credit factory, ready for drawdown",
    )
