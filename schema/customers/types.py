"""Customers in the graph: the 360 view (masked where the viewer may not see personal data) and households."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar, cast

import strawberry
from strawberry import relay

from domain.customers.enums import CustomerSource as CustomerSourceModel
from domain.customers.enums import Sex as SexModel
from domain.errors import DomainError
from models import Staff as StaffModel
from resolvers.customers import browse
from resolvers.customers.views import CustomerView
from schema.grid.types import GridNode
from schema.platform.context import Info
from schema.platform.plain_fields import plain
from schema.staff.types import Staff

T = TypeVar("T")
Sex = strawberry.enum(SexModel, name="Sex")
CustomerSource = strawberry.enum(CustomerSourceModel, name="CustomerSource", description="调查采集/核心系统/申请")


@strawberry.type(description="A household (户)")
class Household:
    pk: strawberry.Private[int]
    stored_address: strawberry.Private[str]
    masked: strawberry.Private[bool]

    @strawberry.field(description="Household id")
    def id(self) -> int:
        return self.pk

    @strawberry.field(description="The household's address; masked unless you see a member's personal data")
    def address(self, info: Info) -> str:
        if not self.masked:
            info.context.disclose("Household", self.pk, "address")
        return self.stored_address


@strawberry.type(name="Customer", description="A customer (客户) — the 360 view")
class Customer(relay.Node):
    pk: relay.NodeID[int]
    name: str
    age_band: str = strawberry.field(description="Age in a band of at least ten years, e.g. 30-39 (always shown)")
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
    id_number: strawberry.Private[str]
    sex: strawberry.Private[SexModel | None]
    birth_date: strawberry.Private[datetime.date | None]
    phone: strawberry.Private[str | None]
    address: strawberry.Private[str]
    lon: strawberry.Private[float | None]
    lat: strawberry.Private[float | None]
    village_pk: strawberry.Private[int | None]
    manager_pk: strawberry.Private[int | None]
    household_pk: strawberry.Private[int | None]
    village_node: strawberry.Private[Mapping[str, Any] | None]
    manager_staff: strawberry.Private[StaffModel | None]

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        """The use cases hand back CustomerViews, already masked; the fields above read them as they are."""
        return isinstance(obj, (cls, CustomerView))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Customer | None]:
        actor = info.context.require_actor()
        results: list[Customer | None] = []
        for raw in node_ids:
            try:
                found = await browse.get_customer(actor, int(raw))
            except DomainError:
                results.append(None)
            else:
                results.append(shown(found))
        return results

    # Personal data: shown in clear only where the customer policy says so (the view is already masked), and
    # every value shown in clear is noted for the audit row the response is not sent without.

    @strawberry.field(name="idNumber", description="Resident ID number; masked unless you manage the customer")
    @plain
    def shown_id_number(self, info: Info) -> str:
        return _disclosed(info, self, "idNumber", self.id_number)

    @strawberry.field(name="sex", description="Derived from the ID number: null where the number is masked")
    @plain
    def shown_sex(self, info: Info) -> SexModel | None:
        return _disclosed(info, self, "sex", self.sex)

    @strawberry.field(name="birthDate", description="Derived from the ID number: null where the number is masked")
    @plain
    def shown_birth_date(self, info: Info) -> datetime.date | None:
        return _disclosed(info, self, "birthDate", self.birth_date)

    @strawberry.field(name="phone", description="Mobile number; masked unless you manage the customer")
    @plain
    def shown_phone(self, info: Info) -> str | None:
        return _disclosed(info, self, "phone", self.phone)

    @strawberry.field(name="address", description="Address; masked unless you manage the customer")
    @plain
    def shown_address(self, info: Info) -> str:
        return _disclosed(info, self, "address", self.address)

    @strawberry.field(name="lon", description="Home longitude; null unless you manage the customer")
    @plain
    def shown_lon(self, info: Info) -> float | None:
        return _disclosed(info, self, "lon", self.lon)

    @strawberry.field(name="lat", description="Home latitude; null unless you manage the customer")
    @plain
    def shown_lat(self, info: Info) -> float | None:
        return _disclosed(info, self, "lat", self.lat)

    @strawberry.field(description="The village (村) the customer belongs to")
    @plain
    def village(self) -> GridNode | None:
        return GridNode.from_row(self.village_node) if self.village_node else None

    @strawberry.field(description="The managing customer manager (管户客户经理)")
    @plain
    def manager(self, info: Info) -> Staff | None:
        actor = info.context.require_actor()
        return Staff.from_model(self.manager_staff, actor) if self.manager_staff else None

    @strawberry.field(description="The household (户)")
    async def household(self, info: Info) -> Household | None:
        if self.household_pk is None:
            return None
        found = await info.context.loaders.household_by_id.load(self.household_pk)
        return Household(pk=found.pk, stored_address=found.address, masked=found.masked) if found else None


def _disclosed(info: Info, customer: Customer, field_name: str, value: T) -> T:
    """The value as the view holds it; noted as disclosed when it is personal data shown in clear."""
    if value is not None and not customer.masked:
        info.context.disclose("Customer", customer.pk, field_name)
    return value


def shown(view: CustomerView) -> Customer:
    """A customer view as the Customer type (whose fields read the view's attributes)."""
    return cast(Customer, view)


def shown_all(views: Sequence[CustomerView]) -> list[Customer]:
    return [cast(Customer, v) for v in views]
