"""Applications as their readers see them: the applicant masked or in clear by the credit policy, the people
working on it, and what the reader may do next — built for a whole page in a fixed number of statements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.queryset import QuerySet

from domain.access import Actor
from domain.credit import workflow
from domain.credit.products import Product
from domain.credit.workflow import Action, ApplicationFacts, ApplicationState
from domain.customers.masking import mask_address, mask_id_number, mask_phone
from domain.errors import DomainError
from models import ApplicationEvent, CreditApplication, CreditLine, Customer, DecisionRecord, GridNode, Staff
from resolvers.credit import applications as apps
from resolvers.credit import policy
from resolvers.platform.pagination import Page, paginate

ORDERING = (("submitted_at", True), ("id", True))  # the newest first


@dataclass(frozen=True)
class Applicant:
    customer_id: int
    name: str
    id_number: str
    phone: str | None
    address: str
    masked: bool


@dataclass(frozen=True)
class ApplicationView:
    application: CreditApplication
    facts: ApplicationFacts
    product: Product
    applicant: Applicant
    marketer: Staff | None
    investigator: Staff | None
    village_name: str | None
    actions: tuple[Action, ...]

    @property
    def state(self) -> ApplicationState:
        return self.facts.state


def _applicant(actor: Actor, customer: Customer, facts: ApplicationFacts) -> Applicant:
    clear = policy.shows_applicant(actor, facts)
    return Applicant(
        customer_id=customer.id,
        name=customer.name,
        id_number=customer.id_number if clear else mask_id_number(customer.id_number),
        phone=(customer.phone if clear else mask_phone(customer.phone)) if customer.phone else None,
        address=customer.address if clear else mask_address(customer.address),
        masked=not clear,
    )


async def views_of(actor: Actor, applications: Sequence[CreditApplication]) -> list[ApplicationView]:
    """Views of applications the actor may see (the caller has filtered them by the policy)."""
    if not applications:
        return []
    customers = {c.id: c for c in await Customer.filter(id__in={a.customer_id for a in applications})}  # type: ignore[attr-defined]
    villages = {
        int(v["id"]): v
        for v in await GridNode.filter(id__in={a.village_id for a in applications if a.village_id}).values(  # type: ignore[attr-defined]
            "id", "name", "path"
        )
    }
    people = {a.marketer_id for a in applications} | {a.investigator_id for a in applications if a.investigator_id}  # type: ignore[attr-defined]
    staff = {s.id: s for s in await Staff.filter(id__in=people)}
    views = []
    for a in applications:
        village = villages.get(a.village_id)  # type: ignore[attr-defined]
        facts = apps.facts_with_path(a, village["path"] if village else None)
        views.append(
            ApplicationView(
                application=a,
                facts=facts,
                product=apps.product_of(a),
                applicant=_applicant(actor, customers[a.customer_id], facts),  # type: ignore[attr-defined]
                marketer=staff.get(a.marketer_id),  # type: ignore[attr-defined]
                investigator=staff.get(a.investigator_id) if a.investigator_id else None,  # type: ignore[attr-defined]
                village_name=village["name"] if village else None,
                actions=workflow.allowed_actions(actor, facts),
            )
        )
    return views


async def get_application(actor: Actor, application_id: int) -> ApplicationView:
    application, _facts = await apps.find_application(actor, application_id)
    (view,) = await views_of(actor, [application])
    return view


async def get_applications(actor: Actor, application_ids: Sequence[int]) -> list[ApplicationView | None]:
    """For node(id:): None where absent or out of reach."""
    found: list[ApplicationView | None] = []
    for application_id in application_ids:
        try:
            found.append(await get_application(actor, application_id))
        except DomainError:
            found.append(None)
    return found


def visible_applications(actor: Actor) -> QuerySet[CreditApplication]:
    return CreditApplication.filter(policy.visible(actor))


async def list_applications(
    actor: Actor,
    *,
    states: Sequence[ApplicationState] = (),
    product_code: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[ApplicationView]:
    """The actor's work list: what they may see, newest first, filtered by state and product."""
    query = visible_applications(actor)
    if states:
        query = query.filter(state__in=[s.value for s in states])
    if product_code:
        query = query.filter(product_code=product_code)
    page = await paginate(query, ORDERING, first, after)
    return page.with_items(await views_of(actor, page.items))


async def history_of(application_id: int) -> list[ApplicationEvent]:
    return list(await ApplicationEvent.filter(application_id=application_id).order_by("id"))


async def decisions_of(application_id: int) -> list[DecisionRecord]:
    return list(await DecisionRecord.filter(application_id=application_id).order_by("id"))


async def line_of(application_id: int) -> CreditLine | None:
    return await CreditLine.get_or_none(application_id=application_id)


async def lines_seen(actor: Actor, line_ids: Sequence[int]) -> list[CreditLine | None]:
    """For node(id:): None where absent or out of reach."""
    found: list[CreditLine | None] = []
    for line_id in line_ids:
        try:
            found.append((await apps.find_line(actor, line_id))[0])
        except DomainError:
            found.append(None)
    return found
