"""Checks of a customer's own fields, shared by every way a customer enters the bank's records (filed by a
manager, imported from a survey, synced from the core-banking file): each returns the cleaned value or raises a
DomainError naming the field."""

from __future__ import annotations

from domain.customers.errors import CustomerErrorCode
from domain.errors import DomainError, ErrorCode
from domain.geo import in_china
from domain.text import first_invisible

MAX_TAGS = 20
MAX_TAG_LENGTH = 20
MAX_NAME_LENGTH = 64
MAX_ADDRESS_LENGTH = 255


def clean_tags(tags: tuple[str, ...] | list[str]) -> str:
    cleaned = sorted({t.strip() for t in tags if t.strip()})
    if len(cleaned) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH or "," in t or first_invisible(t) for t in cleaned):
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"标签最多{MAX_TAGS}个,每个不超过{MAX_TAG_LENGTH}字,不含逗号和控制字符",
            f"at most {MAX_TAGS} tags of {MAX_TAG_LENGTH} characters, without commas or control characters",
            "tags",
        )
    return "," + ",".join(cleaned) + ("," if cleaned else "")


def split_tags(stored: str) -> list[str]:
    return [t for t in stored.split(",") if t]


def _refuse_invisible(text: str, what_zh: str, what_en: str, field: str) -> None:
    """Control characters (NUL, ESC, C1), bidi overrides such as U+202E and zero-width characters make a
    record print differently from what it holds, or look like another: none belongs in a name or address."""
    char = first_invisible(text)
    if char is not None:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"{what_zh}含有控制字符或不可见字符(U+{ord(char):04X})",
            f"{what_en} contains a control or invisible character (U+{ord(char):04X})",
            field,
        )


def check_name(name: str) -> str:
    cleaned = name.strip()
    _refuse_invisible(cleaned, "姓名", "name", "name")
    if not 1 <= len(cleaned) <= MAX_NAME_LENGTH:
        raise DomainError(
            ErrorCode.INVALID_VALUE,
            f"姓名须为1到{MAX_NAME_LENGTH}个字",
            f"name must be 1 to {MAX_NAME_LENGTH} characters",
            "name",
        )
    return cleaned


def check_address(address: str) -> str:
    cleaned = address.strip()
    _refuse_invisible(cleaned, "地址", "address", "address")
    if len(cleaned) > MAX_ADDRESS_LENGTH:
        raise DomainError(ErrorCode.INVALID_VALUE, "地址过长", "address is too long", "address")
    return cleaned


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
