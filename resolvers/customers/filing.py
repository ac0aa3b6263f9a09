"""Filing customers (客户建档) and maintaining them: the checks every field passes, who may change what, and
an optimistic version so that two people editing at once cannot overwrite each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.access import Actor, Role
from domain.customers.enums import CustomerSource, Placement
from domain.customers.errors import CustomerErrorCode
from domain.customers.idcard import parse_id_number
from domain.customers.masking import mask_id_number
from domain.customers.phone import normalize_phone
from domain.customers.validation import check_address, check_location, check_name, clean_tags
from domain.errors import DomainError, ErrorCode, forbidden
from domain.grid.errors import GridErrorCode
from domain.grid.paths import inside
from models import Customer, GridLevel, GridNode, Staff
from resolvers.customers import policy
from resolvers.customers.browse import facts, find_customer, views_of
from resolvers.customers.views import CustomerView
from resolvers.platform.unit_of_work import unit_of_work


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


async def _village_for(actor: Actor, village_id: int, field: str = "villageId") -> GridNode:
    node = await GridNode.get_or_none(id=village_id)
    if node is None or not policy.may_file_into(actor, node.path):
        raise DomainError(GridErrorCode.UNKNOWN_GRID_NODE, "网格节点不存在", "unknown grid node", field)
    if node.level not in (GridLevel.VILLAGE, GridLevel.GROUP):
        raise DomainError(
            CustomerErrorCode.NOT_A_VILLAGE,
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
        raise DomainError(CustomerErrorCode.UNKNOWN_STAFF, "客户经理不存在", "unknown customer manager", field)
    if not inside(village.path, [n.path for n in staff.scope]):
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            "该客户经理不负责此村",
            "that customer manager does not cover this village",
            field,
        )
    return staff


async def create_customer(actor: Actor, draft: CustomerDraft, *, today: date | None = None) -> CustomerView:
    """Register a customer (客户建档). A customer manager files into their own villages and manages the
    customer themselves; head office may file anywhere and name any covering manager."""
    if not policy.may_file(actor):
        raise forbidden("新建客户", "create customers")
    today = today or datetime.now(UTC).date()
    resident = parse_id_number(draft.id_number, today=today)
    name = check_name(draft.name)
    phone = normalize_phone(draft.phone) if draft.phone else None
    address = check_address(draft.address)
    check_location(draft.lon, draft.lat)
    tags = clean_tags(draft.tags)
    village = await _village_for(actor, draft.village_id)
    manager_id = draft.manager_id
    if not actor.is_head_office:
        manager_id = actor.staff_id
    elif manager_id is not None:
        await _manager_for(actor, manager_id, village)
    if await Customer.exists(id_number=resident.number):
        raise await _duplicate(actor, resident.number)
    try:
        async with unit_of_work() as uow:
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
            )
            await uow.audit(
                actor,
                "customer.create",
                "Customer",
                customer.id,
                {"villageId": village.id, "managerId": manager_id, "source": draft.source.value},
            )
    except IntegrityError:
        raise await _duplicate(actor, resident.number) from None
    (view,) = await views_of(actor, [customer])
    return view


async def _duplicate(actor: Actor, id_number: str) -> DomainError:
    """The answer to filing someone who is already the bank's customer. It names nothing of the existing record —
    not its village, its manager or that it is near — and the attempt is audited (with the existing customer's
    id, for the auditors), since repeated attempts are how someone would probe who banks where."""
    existing = await Customer.get_or_none(id_number=id_number).values_list("id", flat=True)
    async with unit_of_work() as uow:
        await uow.audit(
            actor, "customer.create.duplicate", "Customer", existing or "", {"idNumber": mask_id_number(id_number)}
        )
    return DomainError(
        CustomerErrorCode.DUPLICATE_ID_NUMBER,
        "此人已是本行客户,如需由您管户,请联系支行行长办理移交",
        "already a customer of the bank; ask your branch president to transfer them to you",
        "idNumber",
    )


UPDATABLE = frozenset(
    {
        "name", "phone", "address", "lon", "lat", "village_id", "manager_id", "tags",
        "has_ebanking", "has_third_party_payment", "has_social_security_card",
    }
)  # fmt: skip


async def update_customer(actor: Actor, customer_id: int, changes: CustomerChanges) -> CustomerView:
    """Change a customer's maintained fields. Personal fields only by someone who sees them unmasked; the
    managing officer may be reassigned by head office or the branch president, within the branch."""
    unknown = set(changes.values) - UPDATABLE
    if unknown:
        raise DomainError(ErrorCode.INVALID_VALUE, "不可修改的字段", "field cannot be changed", sorted(unknown)[0])
    customer = await find_customer(actor, customer_id)
    village = customer.village if isinstance(customer.village, GridNode) else None
    rules = facts(customer, village.path if village else None)
    if not policy.may_edit(actor, rules):
        raise forbidden("修改该客户", "change this customer")
    touched_personal = policy.PERSONAL_FIELDS & set(changes.values)
    if touched_personal and not policy.sees_personal_data(actor, rules):
        raise forbidden("修改客户个人信息", "change this customer's personal data")
    if "manager_id" in changes.values and not policy.may_reassign_manager(actor):
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
        return (await views_of(actor, [customer]))[0]
    async with unit_of_work() as uow:
        updated = await Customer.filter(id=customer.id, version=customer.version).update(
            **new, version=customer.version + 1, updated_at=datetime.now(UTC)
        )
        if updated != 1:
            raise DomainError(
                ErrorCode.STALE_VERSION,
                "客户信息已被他人修改,请刷新后重试",
                "the customer was changed by someone else; reload and retry",
                "expectedVersion",
            )
        await uow.audit(actor, "customer.update", "Customer", customer.id, _audit_diff(diff))
    return (await views_of(actor, [await Customer.get(id=customer.id)]))[0]


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    return value


def _audit_diff(diff: dict[str, dict[str, object]]) -> dict[str, object]:
    """Changes for the audit log; personal values are recorded as changed, not copied."""
    return {k: ({"changed": True} if k in policy.PERSONAL_FIELDS else v) for k, v in diff.items()}


async def _validated_changes(actor: Actor, customer: Customer, values: dict[str, Any]) -> dict[str, Any]:
    new: dict[str, Any] = {}
    if "name" in values:
        new["name"] = check_name(values["name"] or "")
    if "phone" in values:
        new["phone"] = normalize_phone(values["phone"]) if values["phone"] else None
    if "address" in values:
        new["address"] = check_address(values["address"] or "")
    if "lon" in values or "lat" in values:
        lon = values.get("lon", customer.lon)
        lat = values.get("lat", customer.lat)
        check_location(lon, lat)
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
                    CustomerErrorCode.NOT_A_VILLAGE,
                    "客户尚未归属到村",
                    "the customer has no village yet",
                    "managerId",
                )
            await _manager_for(actor, int(manager_id), village)
        new["manager_id"] = manager_id
    if "tags" in values:
        new["tags"] = clean_tags(values["tags"] or [])
    if "village_id" in new:
        new["placement"] = Placement.MANUAL  # a person chose the village: keep it
        new["needs_placement"] = False
    elif "lon" in new and (new["lon"], new["lat"]) != (customer.lon, customer.lat):
        new["needs_placement"] = new["lon"] is not None  # moved: the next assignment run places them again
    for flag in ("has_ebanking", "has_third_party_payment", "has_social_security_card"):
        if values.get(flag) is not None:
            new[flag] = bool(values[flag])
    return new
