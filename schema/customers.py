"""Customers in the graph: the 360 detail (masked where the viewer may not see personal data), lists under a
grid node, and the create/update mutations with typed errors."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry import relay

from domain.access import sees_personal_data
from domain.errors import DomainError, ErrorCode
from domain.masking import mask_address, mask_id_number, mask_phone
from models import Customer as CustomerModel
from models import CustomerSource as CustomerSourceModel
from models import GridNode as GridNodeModel
from models import Sex as SexModel
from models import Staff as StaffModel
from resolvers import customers as cases
from schema.context import Info
from schema.errors import CustomerError, query_error
from schema.grid import GridNode
from schema.pagination import CountedConnection
from schema.staff import Staff

Sex = strawberry.enum(SexModel, name="Sex")
CustomerSource = strawberry.enum(CustomerSourceModel, name="CustomerSource", description="调查采集/核心系统/申请")


@strawberry.type(description="A household (户)")
class Household:
    pk: strawberry.Private[int]
    address: str

    @strawberry.field(description="Household id")
    def id(self) -> int:
        return self.pk


@strawberry.type(name="Customer", description="A customer (客户) — the 360 view")
class Customer(relay.Node):
    pk: relay.NodeID[int]
    id_number: str = strawberry.field(description="Resident ID number; masked unless you manage the customer")
    name: str
    sex: SexModel
    birth_date: datetime.date
    phone: str | None = strawberry.field(description="Mobile number; masked unless you manage the customer")
    address: str = strawberry.field(description="Address; masked unless you manage the customer")
    lon: float | None
    lat: float | None
    deposit_balance: Decimal
    loan_balance: Decimal
    has_ebanking: bool = strawberry.field(description="开通电子银行")
    has_third_party_payment: bool = strawberry.field(description="绑定第三方支付")
    has_social_security_card: bool = strawberry.field(description="持有社保卡")
    tags: list[str]
    source: CustomerSourceModel
    version: int = strawberry.field(description="Pass back as expectedVersion to guard against lost updates")
    masked: bool = strawberry.field(description="True when personal data is masked for you")
    created_at: datetime.datetime
    updated_at: datetime.datetime
    village_pk: strawberry.Private[int | None]
    manager_pk: strawberry.Private[int | None]
    household_pk: strawberry.Private[int | None]
    village_node: strawberry.Private[GridNodeModel | None] = None
    manager_staff: strawberry.Private[StaffModel | None] = None

    @classmethod
    async def many(cls, customers: Sequence[CustomerModel], info: Info) -> list[Customer]:
        """Customers with their village and managing officer attached, loaded in one batch each: the fields
        then resolve without awaiting, which is most of a 100-customer page's cost."""
        loaders = info.context.loaders
        villages = await loaders.grid_node_by_id.load_many([c.village_id for c in customers if c.village_id])  # type: ignore[attr-defined]
        managers = await loaders.staff_by_id.load_many([c.manager_id for c in customers if c.manager_id])  # type: ignore[attr-defined]
        village_by_id = {v.id: v for v in villages if v is not None}
        manager_by_id = {m.id: m for m in managers if m is not None}
        result = []
        for c in customers:
            item = cls.from_model(c, info)
            item.village_node = village_by_id.get(item.village_pk) if item.village_pk else None
            item.manager_staff = manager_by_id.get(item.manager_pk) if item.manager_pk else None
            result.append(item)
        return result

    @classmethod
    async def one(cls, customer: CustomerModel, info: Info) -> Customer:
        return (await cls.many([customer], info))[0]

    @classmethod
    def from_model(cls, c: CustomerModel, info: Info) -> Customer:
        manager_id = c.manager_id  # type: ignore[attr-defined]
        clear = sees_personal_data(info.context.require_actor(), manager_id)
        return cls(
            pk=c.id,
            id_number=c.id_number if clear else mask_id_number(c.id_number),
            name=c.name,
            sex=c.sex,
            birth_date=c.birth_date,
            phone=c.phone if clear else mask_phone(c.phone),
            address=c.address if clear else mask_address(c.address),
            lon=c.lon if clear else None,
            lat=c.lat if clear else None,
            deposit_balance=c.deposit_balance,
            loan_balance=c.loan_balance,
            has_ebanking=c.has_ebanking,
            has_third_party_payment=c.has_third_party_payment,
            has_social_security_card=c.has_social_security_card,
            tags=cases.split_tags(c.tags),
            source=c.source,
            version=c.version,
            masked=not clear,
            created_at=c.created_at,
            updated_at=c.updated_at,
            village_pk=c.village_id,  # type: ignore[attr-defined]
            manager_pk=manager_id,
            household_pk=c.household_id,  # type: ignore[attr-defined]
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Customer | None]:
        actor = info.context.require_actor()
        results: list[Customer | None] = []
        for raw in node_ids:
            try:
                found = await cases.get_customer(actor, int(raw))
            except DomainError:
                results.append(None)
            else:
                results.append(await cls.one(found, info))
        return results

    @strawberry.field(description="The village (村) the customer belongs to")
    def village(self) -> GridNode | None:
        return GridNode.from_model(self.village_node) if self.village_node else None

    @strawberry.field(description="The managing customer manager (管户客户经理)")
    def manager(self) -> Staff | None:
        return Staff.from_model(self.manager_staff) if self.manager_staff else None

    @strawberry.field(description="The household (户)")
    async def household(self, info: Info) -> Household | None:
        if self.household_pk is None:
            return None
        found = await info.context.loaders.household_by_id.load(self.household_pk)
        return (
            Household(pk=found.id, address=found.address if not self.masked else mask_address(found.address))
            if found
            else None
        )


@strawberry.input(description="Narrow a customer list; every given condition must hold")
class CustomerFilterInput:
    name: str | None = strawberry.field(default=None, description="Part of the name")
    id_number: str | None = strawberry.field(default=None, description="The full ID number")
    phone: str | None = None
    manager_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of a Staff")
    tags: list[str] | None = strawberry.field(default=None, description="Customers carrying all of these tags")
    has_ebanking: bool | None = None
    has_third_party_payment: bool | None = None
    has_social_security_card: bool | None = None
    has_loan: bool | None = None


@strawberry.enum(description="What to order customers by")
class CustomerOrderField(Enum):
    NAME = "name"
    CREATED_AT = "created_at"
    DEPOSIT_BALANCE = "deposit_balance"
    LOAN_BALANCE = "loan_balance"


@strawberry.input
class CustomerOrderInput:
    field: CustomerOrderField = CustomerOrderField.NAME
    descending: bool = False


def decode_pk(global_id: str, type_name: str, field: str, code: ErrorCode = ErrorCode.INVALID_VALUE) -> int:
    """The database id inside a Relay global id of the given type, or a typed error naming the field."""
    try:
        gid = relay.GlobalID.from_id(global_id)
        if gid.type_name != type_name:
            raise ValueError(type_name)
        return int(gid.node_id)
    except ValueError:  # strawberry's GlobalIDValueError is a ValueError too
        raise DomainError(code, f"无效的{type_name}标识", f"not a valid {type_name} id", field) from None


def _filters(f: CustomerFilterInput | None) -> cases.CustomerFilter:
    if f is None:
        return cases.CustomerFilter()
    return cases.CustomerFilter(
        name=f.name,
        id_number=f.id_number,
        phone=f.phone,
        manager_id=decode_pk(f.manager_id, "Staff", "managerId") if f.manager_id else None,
        tags=tuple(f.tags or ()),
        has_ebanking=f.has_ebanking,
        has_third_party_payment=f.has_third_party_payment,
        has_social_security_card=f.has_social_security_card,
        has_loan=f.has_loan,
    )


async def customer_page(
    info: Info,
    node_pk: int,
    filter: CustomerFilterInput | None,
    order_by: CustomerOrderInput | None,
    first: int | None,
    after: str | None,
) -> CountedConnection[Customer]:
    order = order_by or CustomerOrderInput()
    try:
        page = await cases.list_under(
            info.context.require_actor(),
            node_pk,
            _filters(filter),
            cases.CustomerOrder(order.field.value),
            order.descending,
            first,
            after,
        )
    except DomainError as error:
        raise query_error(error) from None
    nodes = iter(await Customer.many(page.items, info))
    return CountedConnection[Customer].from_page(page, lambda _c: next(nodes))


async def customers_under(
    info: Info,
    node_id: strawberry.ID,
    filter: CustomerFilterInput | None = None,
    order_by: CustomerOrderInput | None = None,
    first: int | None = 20,
    after: str | None = None,
) -> CountedConnection[Customer]:
    try:
        pk = decode_pk(node_id, "GridNode", "nodeId", ErrorCode.UNKNOWN_GRID_NODE)
    except DomainError as error:
        raise query_error(error) from None
    return await customer_page(info, pk, filter, order_by, first, after)


async def customer_detail(info: Info, id: strawberry.ID) -> Customer | None:
    """The 360 view of one customer; reading it is audited."""
    actor = info.context.require_actor()
    try:
        found = await cases.get_customer(actor, decode_pk(id, "Customer", "id", ErrorCode.NOT_FOUND))
    except DomainError as error:
        raise query_error(error) from None
    return await Customer.one(found, info)


# --- mutations -------------------------------------------------------------------------------------------


@strawberry.input(description="A new customer (客户建档)")
class CreateCustomerInput:
    id_number: str = strawberry.field(description="18-digit resident ID number")
    name: str
    village_id: strawberry.ID = strawberry.field(description="Global id of the village (or village group)")
    phone: str | None = None
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    manager_id: strawberry.ID | None = strawberry.field(
        default=None, description="Head office only: the managing customer manager"
    )
    tags: list[str] | None = None
    has_ebanking: bool = False
    has_third_party_payment: bool = False
    has_social_security_card: bool = False
    source: CustomerSourceModel = CustomerSourceModel.SURVEY


@strawberry.input(description="Changes to a customer; omitted fields stay as they are")
class UpdateCustomerInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description="The version you last read")
    name: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    lon: float | None = strawberry.UNSET
    lat: float | None = strawberry.UNSET
    village_id: strawberry.ID | None = strawberry.UNSET
    manager_id: strawberry.ID | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    has_ebanking: bool | None = strawberry.UNSET
    has_third_party_payment: bool | None = strawberry.UNSET
    has_social_security_card: bool | None = strawberry.UNSET


CustomerResult = Annotated[Customer | CustomerError, strawberry.union("CustomerResult")]


def _gid_pk(gid: str, type_name: str, field: str) -> int:
    return decode_pk(gid, type_name, field)


async def create_customer(info: Info, input: CreateCustomerInput) -> CustomerResult:
    actor = info.context.require_actor()
    try:
        draft = cases.CustomerDraft(
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
        created = await cases.create_customer(actor, draft)
    except DomainError as error:
        return CustomerError.from_domain(error)  # type: ignore[no-any-return]
    return await Customer.one(created, info)


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
        updated = await cases.update_customer(
            actor, customer_pk, cases.CustomerChanges(values=values, expected_version=input.expected_version)
        )
    except DomainError as error:
        return CustomerError.from_domain(error)  # type: ignore[no-any-return]
    return await Customer.one(updated, info)
