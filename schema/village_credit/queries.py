"""Whole-village credit queries: one campaign, each person's work list of campaigns, and the collectors' sync."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.errors import DomainError, ErrorCode
from resolvers.village_credit import campaigns
from resolvers.village_credit import surveys as survey_cases
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.platform.pagination import CountedConnection, Cursor
from schema.village_credit.types import CampaignState, HouseholdSurvey, VillageCampaign


@strawberry.type(description="What changed since the cursor, oldest change first")
class SurveySync:
    surveys: list[HouseholdSurvey]
    next_cursor: str | None = strawberry.field(description="Ask with this next time (the same when nothing changed)")
    has_more: bool = strawberry.field(description="More changes wait: ask again at once with nextCursor")


@strawberry.type
class Query:
    @strawberry.field(description="One whole-village credit campaign you may see; NOT_FOUND otherwise")
    async def village_campaign(self, info: Info, id: strawberry.ID) -> VillageCampaign | None:
        actor = info.context.require_actor()
        try:
            view = await campaigns.get_campaign(actor, decode_pk(id, "VillageCampaign", "id", ErrorCode.NOT_FOUND))
        except DomainError as error:
            raise query_error(error) from None
        return VillageCampaign.of(view)

    @strawberry.field(description="Your work list: the campaigns you may see, newest first")
    async def village_campaigns(
        self,
        info: Info,
        states: list[CampaignState] | None = None,  # type: ignore[valid-type]
        first: int | None = 20,
        after: Cursor = None,
    ) -> CountedConnection[VillageCampaign]:
        actor = info.context.require_actor()
        try:
            page = await campaigns.list_campaigns(actor, states=states or (), first=first, after=after)
        except DomainError as error:
            raise query_error(error) from None
        return CountedConnection.from_page(page, VillageCampaign.of)

    @strawberry.field(
        description="The campaign's household surveys changed after the cursor (none: from the start), at most 500 "
        "a page: a phone offline for a week catches up in one request"
    )
    async def surveys_since(
        self,
        info: Info,
        campaign_id: strawberry.ID,
        cursor: Annotated[str | None, strawberry.argument(directives=max_length(1024))] = None,
        first: int = survey_cases.MAX_SYNC_PAGE,
    ) -> SurveySync:
        actor = info.context.require_actor()
        try:
            pk = decode_pk(campaign_id, "VillageCampaign", "campaignId", ErrorCode.NOT_FOUND)
            page = await survey_cases.surveys_since(actor, pk, cursor, first)
        except DomainError as error:
            raise query_error(error) from None
        return SurveySync(
            surveys=[HouseholdSurvey.of(v) for v in page.surveys], next_cursor=page.next_cursor, has_more=page.has_more
        )
