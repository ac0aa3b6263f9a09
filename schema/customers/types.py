"""Customers in the graph: the 360 view (masked where the viewer may not see personal data) and households."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal

import strawberry
from strawberry import relay

from domain.access import sees_personal_data
from domain.customers.enums import CustomerSource as CustomerSourceModel
from domain.customers.enums import Sex as SexModel
from domain.customers.masking import mask_address, mask_id_number, mask_phone
from domain.customers.validation import split_tags
from domain.errors import DomainError
from models import Customer as CustomerModel
from models import GridNode as GridNodeModel
from models import Staff as StaffModel
from resolvers.customers import browse as cases
from schema.grid.types import GridNode
from schema.platform.context import Info
from schema.staff.types import Staff

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
            tags=split_tags(c.tags),
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
