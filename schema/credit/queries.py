"""Credit queries: the product catalogue on sale, one application, and each person's work list."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.credit.workflow import ApplicationState as ApplicationStateModel
from domain.errors import DomainError, ErrorCode
from resolvers.credit import applications as apps
from resolvers.credit import views
from schema.credit.enums import ApplicationState
from schema.credit.types import CreditApplication, CreditProduct
from schema.platform.context import Info
from schema.platform.errors import query_error
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.platform.pagination import CountedConnection, Cursor


def credit_products(info: Info) -> list[CreditProduct]:
    """Every product on sale today, at its current version."""
    info.context.require_actor()
    return [CreditProduct.of(p) for p in apps.catalogue().on_sale(apps.now().date())]


async def credit_application(info: Info, id: strawberry.ID) -> CreditApplication | None:
    actor = info.context.require_actor()
    try:
        view = await views.get_application(actor, decode_pk(id, "CreditApplication", "id", ErrorCode.NOT_FOUND))
    except DomainError as error:
        raise query_error(error) from None
    return CreditApplication.of(view)


@strawberry.type
class Query:
    credit_products: list[CreditProduct] = strawberry.field(
        resolver=credit_products, description="The credit products on sale today (信贷产品)"
    )
    credit_application: CreditApplication | None = strawberry.field(
        resolver=credit_application, description="One credit application you may see; NOT_FOUND otherwise"
    )

    @strawberry.field(
        description="Your work list: the applications you may see, newest first (an approver's: what waits for "
        "their tier; an investigator's: what is assigned to them)"
    )
    async def credit_applications(
        self,
        info: Info,
        states: list[ApplicationState] | None = None,  # type: ignore[valid-type]
        product_code: Annotated[str | None, strawberry.argument(directives=max_length(32))] = None,
        first: int | None = 20,
        after: Cursor = None,
    ) -> CountedConnection[CreditApplication]:
        actor = info.context.require_actor()
        try:
            page = await views.list_applications(
                actor,
                states=[ApplicationStateModel(s) for s in dict.fromkeys(states or ())],
                product_code=product_code or None,
                first=first,
                after=after,
            )
        except DomainError as error:
            raise query_error(error) from None
        return CountedConnection.from_page(page, CreditApplication.of)
