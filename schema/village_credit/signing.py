"""After publication in the graph: the collectors' phone call-back and the household's signing, which grants its
credit line in the credit factory. Each answers the household as it now is (with its line's id, once signed) or
a typed VillageCreditError; a refused call changes nothing."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.errors import DomainError
from resolvers.village_credit import households as household_cases
from resolvers.village_credit import signing
from resolvers.village_credit.signing import CallBackOutcome as CallBackOutcomeModel
from resolvers.village_credit.signing import HouseholdStep
from schema.platform.context import Info
from schema.platform.errors import VillageCreditError
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.village_credit.households import VillageHousehold

CallBackOutcome = strawberry.enum(
    CallBackOutcomeModel,
    name="CallBackOutcome",
    description="电话回访结果: CONFIRMED (wants the line), DECLINED, UNREACHABLE",
)


HouseholdStepResult = Annotated[VillageHousehold | VillageCreditError, strawberry.union("VillageHouseholdResult")]


async def _after(info: Info, step: HouseholdStep) -> VillageHousehold:
    """The household as its reader now sees it."""
    return VillageHousehold.of(await household_cases.get_household(info.context.require_actor(), step.screening.id))


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
    return await _after(info, step)


async def sign_household(
    info: Info, household_id: strawberry.ID, expected_version: int | None = None
) -> HouseholdStepResult:
    actor = info.context.require_actor()
    try:
        step = await signing.sign(actor, decode_pk(household_id, "VillageHousehold", "householdId"), expected_version)
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return await _after(info, step)


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
