"""Customer mutations: filing a customer (客户建档) and changing their maintained fields, with typed errors."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from domain.customers.enums import CustomerSource as CustomerSourceModel
from domain.customers.validation import MAX_ADDRESS_LENGTH, MAX_NAME_LENGTH, MAX_TAG_LENGTH
from domain.errors import DomainError
from resolvers.customers import filing
from schema.customers.lists import ID_NUMBER_INPUT_LENGTH, PHONE_INPUT_LENGTH
from schema.customers.types import Customer, shown
from schema.platform.context import Info
from schema.platform.errors import CustomerError
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length


@strawberry.input(description="A new customer (客户建档)")
class CreateCustomerInput:
    id_number: str = strawberry.field(
        description="18-digit resident ID number", directives=max_length(ID_NUMBER_INPUT_LENGTH)
    )
    name: str = strawberry.field(directives=max_length(MAX_NAME_LENGTH))
    village_id: strawberry.ID = strawberry.field(description="Global id of the village (or village group)")
    phone: str | None = strawberry.field(default=None, directives=max_length(PHONE_INPUT_LENGTH))
    address: str = strawberry.field(default="", directives=max_length(MAX_ADDRESS_LENGTH))
    lon: float | None = None
    lat: float | None = None
    manager_id: strawberry.ID | None = strawberry.field(
        default=None, description="Head office only: the managing customer manager"
    )
    tags: list[str] | None = strawberry.field(default=None, directives=max_length(MAX_TAG_LENGTH))
    has_ebanking: bool = False
    has_third_party_payment: bool = False
    has_social_security_card: bool = False
    source: CustomerSourceModel = CustomerSourceModel.SURVEY


@strawberry.input(description="Changes to a customer; omitted fields stay as they are")
class UpdateCustomerInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description="The version you last read")
    name: str | None = strawberry.field(default=strawberry.UNSET, directives=max_length(MAX_NAME_LENGTH))
    phone: str | None = strawberry.field(default=strawberry.UNSET, directives=max_length(PHONE_INPUT_LENGTH))
    address: str | None = strawberry.field(default=strawberry.UNSET, directives=max_length(MAX_ADDRESS_LENGTH))
    lon: float | None = strawberry.UNSET
    lat: float | None = strawberry.UNSET
    village_id: strawberry.ID | None = strawberry.UNSET
    manager_id: strawberry.ID | None = strawberry.UNSET
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, directives=max_length(MAX_TAG_LENGTH))
    has_ebanking: bool | None = strawberry.UNSET
    has_third_party_payment: bool | None = strawberry.UNSET
    has_social_security_card: bool | None = strawberry.UNSET


CustomerResult = Annotated[Customer | CustomerError, strawberry.union("CustomerResult")]


def _gid_pk(gid: str, type_name: str, field: str) -> int:
    return decode_pk(gid, type_name, field)


async def create_customer(info: Info, input: CreateCustomerInput) -> CustomerResult:
    actor = info.context.require_actor()
    try:
        draft = filing.CustomerDraft(
            id_number=input.id_number,
            name=input.name,
            village_id=_gid_pk(input.village_id, "GridNode", "villageId"),
            phone=input.phone,
            address=input.address,
            lon=input.lon,
            lat=input.lat,
            manager_id=_gid_pk(input.manager_id, "Staff", "managerId") if input.manager_id else None,
            tags=tuple(input.tags or ()),
            has_ebanking=input.has_ebanking,
            has_third_party_payment=input.has_third_party_payment,
            has_social_security_card=input.has_social_security_card,
            source=CustomerSourceModel(input.source.value),
        )
        created = await filing.create_customer(actor, draft)
    except DomainError as error:
        return CustomerError.from_domain(error)  # type: ignore[no-any-return]
    return shown(created)


_FIELD_NAMES = {
    "name": "name", "phone": "phone", "address": "address", "lon": "lon", "lat": "lat",
    "tags": "tags", "has_ebanking": "has_ebanking", "has_third_party_payment": "has_third_party_payment",
    "has_social_security_card": "has_social_security_card",
}  # fmt: skip


async def update_customer(info: Info, input: UpdateCustomerInput) -> CustomerResult:
    actor = info.context.require_actor()
    try:
        values: dict[str, Any] = {
            model_field: getattr(input, attr)
            for attr, model_field in _FIELD_NAMES.items()
            if getattr(input, attr) is not strawberry.UNSET
        }
        if input.village_id is not strawberry.UNSET and input.village_id is not None:
            values["village_id"] = _gid_pk(input.village_id, "GridNode", "villageId")
        if input.manager_id is not strawberry.UNSET:
            values["manager_id"] = (
                _gid_pk(input.manager_id, "Staff", "managerId") if input.manager_id is not None else None
            )
        customer_pk = _gid_pk(input.id, "Customer", "id")
        updated = await filing.update_customer(
            actor, customer_pk, filing.CustomerChanges(values=values, expected_version=input.expected_version)
        )
    except DomainError as error:
        return CustomerError.from_domain(error)  # type: ignore[no-any-return]
    return shown(updated)


@strawberry.type
class Mutation:
    create_customer: CustomerResult = strawberry.mutation(
        resolver=create_customer, description="Register a customer (客户建档)"
    )
    update_customer: CustomerResult = strawberry.mutation(
        resolver=update_customer,
        description="Change a customer's maintained fields",
    )
