"""Checks of a customer's own fields, shared by every way a customer enters the bank's records (filed by a
manager, imported from a survey, synced from the core-banking file): each returns the cleaned value or raises a
DomainError naming the field."""

from __future__ import annotations

from domain.customers.errors import CustomerErrorCode
from domain.errors import DomainError, ErrorCode
from domain.geo import in_china

MAX_TAGS = 20
MAX_TAG_LENGTH = 20


def clean_tags(tags: tuple[str, ...] | list[str]) -> str:
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


def check_name(name: str) -> str:
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= 64:
        raise DomainError(ErrorCode.INVALID_VALUE, "姓名须为1到64个字", "name must be 1 to 64 characters", "name")
    return cleaned


def check_address(address: str) -> str:
    if len(address) > 255:
        raise DomainError(ErrorCode.INVALID_VALUE, "地址过长", "address is too long", "address")
    return address.strip()


def check_location(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        raise DomainError(
            CustomerErrorCode.INVALID_COORDINATES, "经度和纬度须同时提供", "give both longitude and latitude", "lon"
        )
    if lon is not None and lat is not None and not in_china(lon, lat):
        raise DomainError(
            CustomerErrorCode.INVALID_COORDINATES,
            "坐标不在中国范围内(经纬度是否颠倒?)",
            "coordinates are outside China (are longitude and latitude swapped?)",
            "lon",
        )
