"""Customers: listing under a grid node, the 360 detail, creating and updating.

Authorization lives here: role plus grid scope (domain.access). A customer outside the actor's scope is
NOT_FOUND. Personal data is masked by the GraphQL layer from sees_personal_data; reading the full detail is
audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import reduce
from operator import or_
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.access import (
    CUSTOMER_CREATE_ROLES,
    PERSONAL_FIELDS,
    Actor,
    Role,
    can_edit_customer,
    can_see_customer,
    inside,
    sees_personal_data,
)
from domain.errors import DomainError, ErrorCode, forbidden, not_found
from domain.idcard import parse_id_number
from domain.phone import normalize_phone
from models import Customer, CustomerSource, GridLevel, GridNode, Placement, Staff
from resolvers import grid
from resolvers.audit import record
from resolvers.pagination import Page, paginate

MAX_TAGS = 20
MAX_TAG_LENGTH = 20


class CustomerOrder(StrEnum):
    NAME = "name"
    CREATED_AT = "created_at"
    DEPOSIT_BALANCE = "deposit_balance"
    LOAN_BALANCE = "loan_balance"


@dataclass(frozen=True)
class CustomerFilter:
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    manager_id: int | None = None
    tags: tuple[str, ...] = ()
    has_ebanking: bool | None = None
    has_third_party_payment: bool | None = None
    has_social_security_card: bool | None = None
    has_loan: bool | None = None


@dataclass(frozen=True)
class CustomerDraft:
    id_number: str
    name: str
    village_id: int
    phone: str | None = None
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    manager_id: int | None = None
    household_id: int | None = None
    tags: tuple[str, ...] = ()
    has_ebanking: bool = False
    has_third_party_payment: bool = False
    has_social_security_card: bool = False
    source: CustomerSource = CustomerSource.SURVEY


@dataclass(frozen=True)
class CustomerChanges:
    """Only the fields that are set are changed; expected_version guards against lost updates."""

    values: dict[str, Any] = field(default_factory=dict)
    expected_version: int | None = None


def visible_customers(actor: Actor) -> QuerySet[Customer]:
    scope = actor.customer_scope()
    if scope is None:
        return Customer.all()
    alternatives = [Q(village__path__startswith=p) for p in scope]
    if actor.has(Role.CUSTOMER_MANAGER):
        alternatives.append(Q(manager_id=actor.staff_id))
    if not alternatives:
        return Customer.filter(id=-1)
    return Customer.filter(reduce(or_, alternatives))


def _apply_filter(qs: QuerySet[Customer], f: CustomerFilter) -> QuerySet[Customer]:
    if len(f.tags) > MAX_TAGS:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"标签条件最多{MAX_TAGS}个",
            f"filter by at most {MAX_TAGS} tags",
            "filter.tags",
        )
    if f.name:
        qs = qs.filter(name__contains=f.name.strip())
    if f.id_number:
        qs = qs.filter(id_number=f.id_number.strip().upper())
    if f.phone:
        qs = qs.filter(phone=f.phone.strip())
    if f.manager_id is not None:
        qs = qs.filter(manager_id=f.manager_id)
    for tag in f.tags:
        qs = qs.filter(tags__contains=f",{tag},")
    for flag in ("has_ebanking", "has_third_party_payment", "has_social_security_card"):
        value = getattr(f, flag)
        if value is not None:
            qs = qs.filter(**{flag: value})
    if f.has_loan is True:
        qs = qs.filter(loan_balance__gt=0)
    elif f.has_loan is False:
        qs = qs.filter(loan_balance=0)
    return qs


async def list_under(
    actor: Actor,
    node_id: int,
    filters: CustomerFilter,
    order: CustomerOrder = CustomerOrder.NAME,
    descending: bool = False,
    first: int | None = None,
    after: str | None = None,
) -> Page[Customer]:
    """Customers at any depth under a grid node that the actor may list."""
    node = await grid.get_node(actor, node_id, field="nodeId")
    qs = _apply_filter(visible_customers(actor), filters).filter(village__path__startswith=node.path)
    return await paginate(qs, ((order.value, descending), ("id", False)), first, after)


async def get_customer(actor: Actor, customer_id: int, *, audit_read: bool = True) -> Customer:
    """A customer the actor may see. Reading the detail with personal data unmasked is audited."""
    customer = await Customer.get_or_none(id=customer_id).select_related("village")
    if customer is None or not can_see_customer(actor, _village_path(customer), customer.manager_id):  # type: ignore[attr-defined]
        raise not_found("客户", "customer", "id")
    if audit_read:
        unmasked = sees_personal_data(actor, customer.manager_id)  # type: ignore[attr-defined]
        await record(actor, "customer.read", "Customer", customer.id, {"unmasked": unmasked})
    return customer


async def customers_by_ids(actor: Actor, ids: list[int]) -> list[Customer | None]:
    found = {c.id: c for c in await visible_customers(actor).filter(id__in=ids)}
    return [found.get(i) for i in ids]


def _village_path(customer: Customer) -> str | None:
    village = customer.village
    return village.path if isinstance(village, GridNode) else None


def _clean_tags(tags: tuple[str, ...] | list[str]) -> str:
    cleaned = sorted({t.strip() for t in tags if t.strip()})
    if len(cleaned) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH or "," in t for t in cleaned):
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"标签最多{MAX_TAGS}个,每个不超过{MAX_TAG_LENGTH}字且不含逗号",
            f"at most {MAX_TAGS} tags of {MAX_TAG_LENGTH} characters, without commas",
            "tags",
        )
    return "," + ",".join(cleaned) + ("," if cleaned else "")


def split_tags(stored: str) -> list[str]:
    return [t for t in stored.split(",") if t]


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= 64:
        raise DomainError(ErrorCode.INVALID_VALUE, "姓名须为1到64个字", "name must be 1 to 64 characters", "name")
    return cleaned


def _check_address(address: str) -> str:
    if len(address) > 255:
        raise DomainError(ErrorCode.INVALID_VALUE, "地址过长", "address is too long", "address")
    return address.strip()


def _check_location(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        raise DomainError(
            ErrorCode.INVALID_COORDINATES, "经度和纬度须同时提供", "give both longitude and latitude", "lon"
        )
    if lon is not None and lat is not None and not (73.0 <= lon <= 135.5 and 3.5 <= lat <= 53.6):
        raise DomainError(
            ErrorCode.INVALID_COORDINATES,
            "坐标不在中国范围内(经纬度是否颠倒?)",
            "coordinates are outside China (are longitude and latitude swapped?)",
            "lon",
        )


async def _village_for(actor: Actor, village_id: int, field: str = "villageId") -> GridNode:
    node = await GridNode.get_or_none(id=village_id)
    if node is None or not (actor.is_head_office or inside(node.path, actor.scope_paths)):
        raise DomainError(ErrorCode.UNKNOWN_GRID_NODE, "网格节点不存在", "unknown grid node", field)
    if node.level not in (GridLevel.VILLAGE, GridLevel.GROUP):
        raise DomainError(
            ErrorCode.NOT_A_VILLAGE,
            "客户须归属到村或村民小组",
            "a customer belongs to a village or group",
            field,
        )
    if node.level == GridLevel.GROUP and node.parent_id is not None:  # type: ignore[attr-defined]
        return await GridNode.get(id=node.parent_id)  # type: ignore[attr-defined]
    return node


async def _manager_for(actor: Actor, manager_id: int, village: GridNode, field: str = "managerId") -> Staff:
    staff = await Staff.get_or_none(id=manager_id, is_active=True).prefetch_related("scope")
    if staff is None or Role.CUSTOMER_MANAGER.value not in staff.roles:
        raise DomainError(ErrorCode.UNKNOWN_STAFF, "客户经理不存在", "unknown customer manager", field)
    if not inside(village.path, [n.path for n in staff.scope]):
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            "该客户经理不负责此村",
            "that customer manager does not cover this village",
            field,
        )
    return staff


async def create_customer(actor: Actor, draft: CustomerDraft, *, today: date | None = None) -> Customer:
    """Register a customer (客户建档). A customer manager files into their own villages and manages the
    customer themselves; head office may file anywhere and name any covering manager."""
    if not actor.roles & CUSTOMER_CREATE_ROLES:
        raise forbidden("新建客户", "create customers")
    today = today or datetime.now(UTC).date()
    resident = parse_id_number(draft.id_number, today=today)
    name = _check_name(draft.name)
    phone = normalize_phone(draft.phone) if draft.phone else None
    address = _check_address(draft.address)
    _check_location(draft.lon, draft.lat)
    tags = _clean_tags(draft.tags)
    village = await _village_for(actor, draft.village_id)
    manager_id = draft.manager_id
    if not actor.is_head_office:
        manager_id = actor.staff_id
    elif manager_id is not None:
        await _manager_for(actor, manager_id, village)
    if await Customer.exists(id_number=resident.number):
        raise _duplicate()
    try:
        async with in_transaction() as conn:
            customer = await Customer.create(
                id_number=resident.number,
                name=name,
                birth_date=resident.birth_date,
                sex=resident.sex,
                phone=phone,
                address=address,
                lon=draft.lon,
                lat=draft.lat,
                village_id=village.id,
                manager_id=manager_id,
                tags=tags,
                has_ebanking=draft.has_ebanking,
                has_third_party_payment=draft.has_third_party_payment,
                has_social_security_card=draft.has_social_security_card,
                source=draft.source,
                needs_placement=draft.lon is not None,  # the hourly assignment checks the village by location
                deposit_balance=Decimal(0),
                loan_balance=Decimal(0),
                using_db=conn,
            )
            await record(
                actor,
                "customer.create",
                "Customer",
                customer.id,
                {"villageId": village.id, "managerId": manager_id, "source": draft.source.value},
                using_db=conn,
            )
    except IntegrityError:
        raise _duplicate() from None
    customer.village = village
    return customer


def _duplicate() -> DomainError:
    return DomainError(
        ErrorCode.DUPLICATE_ID_NUMBER,
        "该身份证号码的客户已存在",
        "a customer with this ID number exists",
        "idNumber",
    )


UPDATABLE = frozenset(
    {
        "name", "phone", "address", "lon", "lat", "village_id", "manager_id", "tags",
        "has_ebanking", "has_third_party_payment", "has_social_security_card",
    }
)  # fmt: skip


async def update_customer(actor: Actor, customer_id: int, changes: CustomerChanges) -> Customer:
    """Change a customer's maintained fields. Personal fields only by someone who sees them unmasked; the
    managing officer may be reassigned by head office or the branch president, within the branch."""
    unknown = set(changes.values) - UPDATABLE
    if unknown:
        raise DomainError(ErrorCode.INVALID_VALUE, "不可修改的字段", "field cannot be changed", sorted(unknown)[0])
    customer = await get_customer(actor, customer_id, audit_read=False)
    manager_id = customer.manager_id  # type: ignore[attr-defined]
    if not can_edit_customer(actor, _village_path(customer), manager_id):
        raise forbidden("修改该客户", "change this customer")
    touched_personal = PERSONAL_FIELDS & set(changes.values)
    if touched_personal and not sees_personal_data(actor, manager_id):
        raise forbidden("修改客户个人信息", "change this customer's personal data")
    if "manager_id" in changes.values and not (actor.is_head_office or actor.has(Role.BRANCH_PRESIDENT)):
        raise forbidden("变更管户客户经理", "reassign the managing officer")
    if changes.expected_version is not None and changes.expected_version != customer.version:
        raise DomainError(
            ErrorCode.STALE_VERSION,
            "客户信息已被他人修改,请刷新后重试",
            "the customer was changed by someone else; reload and retry",
            "expectedVersion",
        )
    new = await _validated_changes(actor, customer, changes.values)
    before = {k: _plain(getattr(customer, k)) for k in new}
    diff = {k: {"from": before[k], "to": _plain(v)} for k, v in new.items() if before[k] != _plain(v)}
    if not diff:
        return customer
    async with in_transaction() as conn:
        updated = (
            await Customer.filter(id=customer.id, version=customer.version)
            .using_db(conn)
            .update(**new, version=customer.version + 1, updated_at=datetime.now(UTC))
        )
        if updated != 1:
            raise DomainError(
                ErrorCode.STALE_VERSION,
                "客户信息已被他人修改,请刷新后重试",
                "the customer was changed by someone else; reload and retry",
                "expectedVersion",
            )
        await record(actor, "customer.update", "Customer", customer.id, _audit_diff(diff), using_db=conn)
    return await Customer.get(id=customer.id).select_related("village")


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    return value


def _audit_diff(diff: dict[str, dict[str, object]]) -> dict[str, object]:
    """Changes for the audit log; personal values are recorded as changed, not copied."""
    return {k: ({"changed": True} if k in PERSONAL_FIELDS else v) for k, v in diff.items()}


async def _validated_changes(actor: Actor, customer: Customer, values: dict[str, Any]) -> dict[str, Any]:
    new: dict[str, Any] = {}
    if "name" in values:
        new["name"] = _check_name(values["name"] or "")
    if "phone" in values:
        new["phone"] = normalize_phone(values["phone"]) if values["phone"] else None
    if "address" in values:
        new["address"] = _check_address(values["address"] or "")
    if "lon" in values or "lat" in values:
        lon = values.get("lon", customer.lon)
        lat = values.get("lat", customer.lat)
        _check_location(lon, lat)
        new["lon"], new["lat"] = lon, lat
    village = customer.village if isinstance(customer.village, GridNode) else None
    if values.get("village_id") is not None:
        village = await _village_for(actor, int(values["village_id"]))
        new["village_id"] = village.id
    if "manager_id" in values:
        manager_id = values["manager_id"]
        if manager_id is not None:
            if village is None:
                raise DomainError(
                    ErrorCode.NOT_A_VILLAGE,
                    "客户尚未归属到村",
                    "the customer has no village yet",
                    "managerId",
                )
            await _manager_for(actor, int(manager_id), village)
        new["manager_id"] = manager_id
    if "tags" in values:
        new["tags"] = _clean_tags(values["tags"] or [])
    if "village_id" in new:
        new["placement"] = Placement.MANUAL  # a person chose the village: keep it
        new["needs_placement"] = False
    elif "lon" in new and (new["lon"], new["lat"]) != (customer.lon, customer.lat):
        new["needs_placement"] = new["lon"] is not None  # moved: the next assignment run places them again
    for flag in ("has_ebanking", "has_third_party_payment", "has_social_security_card"):
        if values.get(flag) is not None:
            new[flag] = bool(values[flag])
    return new
