"""What a use case hands back about a customer: a view with the masking already applied by the customer policy,
the village and managing officer attached. The GraphQL layer shows a view as it is; it never decides masking."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.customers.enums import CustomerSource, Sex
from domain.customers.masking import age_band, mask_address, mask_id_number, mask_phone
from domain.customers.validation import split_tags
from models import Customer, Household, Staff


@dataclass
class CustomerView:
    pk: int
    id_number: str
    name: str
    sex: Sex | None  # derived from the ID number: shown only with it
    birth_date: datetime.date | None  # likewise
    age_band: str
    phone: str | None
    address: str
    lon: float | None
    lat: float | None
    deposit_balance: Decimal
    loan_balance: Decimal
    has_ebanking: bool
    has_third_party_payment: bool
    has_social_security_card: bool
    tags: list[str]
    source: CustomerSource
    version: int
    masked: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    village_pk: int | None
    manager_pk: int | None
    household_pk: int | None
    village_node: Mapping[str, Any] | None = None  # the village's row, attached when the actor may see it
    manager_staff: Staff | None = None


@dataclass
class HouseholdView:
    pk: int
    address: str
    masked: bool


# What a view is made of: the customer's own columns, read as plain values (lists read exactly these).
VIEW_COLUMNS = (
    "id", "id_number", "name", "sex", "birth_date", "phone", "address", "lon", "lat", "deposit_balance",
    "loan_balance", "has_ebanking", "has_third_party_payment", "has_social_security_card", "tags", "source",
    "version", "created_at", "updated_at", "village_id", "manager_id", "household_id",
)  # fmt: skip

# A list whose reader selected neither timestamp reads them not at all (on SQLite each is an ISO text to parse).
UNTIMED_COLUMNS = tuple(c for c in VIEW_COLUMNS if c not in {"created_at", "updated_at"})

CustomerRow = Mapping[str, Any]


def row_of(customer: Customer) -> dict[str, Any]:
    """A loaded customer as the plain row a list would have read."""
    return {column: getattr(customer, column) for column in VIEW_COLUMNS}


def customer_view(c: CustomerRow, *, clear: bool, today: datetime.date) -> CustomerView:
    """The customer (a row of VIEW_COLUMNS) as shown to someone who may (clear) or may not see their personal
    data."""
    return CustomerView(
        pk=c["id"],
        id_number=c["id_number"] if clear else mask_id_number(c["id_number"]),
        name=c["name"],
        sex=c["sex"] if clear else None,
        birth_date=c["birth_date"] if clear else None,
        age_band=age_band(c["birth_date"], today),
        phone=c["phone"] if clear else mask_phone(c["phone"]),
        address=c["address"] if clear else mask_address(c["address"]),
        lon=c["lon"] if clear else None,
        lat=c["lat"] if clear else None,
        deposit_balance=c["deposit_balance"],
        loan_balance=c["loan_balance"],
        has_ebanking=c["has_ebanking"],
        has_third_party_payment=c["has_third_party_payment"],
        has_social_security_card=c["has_social_security_card"],
        tags=split_tags(c["tags"]),
        source=c["source"],
        version=c["version"],
        masked=not clear,
        created_at=c.get("created_at"),  # type: ignore[arg-type]  # absent only where nobody selected it
        updated_at=c.get("updated_at"),  # type: ignore[arg-type]
        village_pk=c["village_id"],
        manager_pk=c["manager_id"],
        household_pk=c["household_id"],
    )


def household_view(household: Household, *, clear: bool) -> HouseholdView:
    return HouseholdView(
        pk=household.id, address=household.address if clear else mask_address(household.address), masked=not clear
    )
