"""Masking of personal data for staff who may see a customer but do not manage them."""

from __future__ import annotations


def mask_id_number(number: str) -> str:
    """320324199001011234 → 320324********1234: region kept for the grid, the birth date hidden."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str | None) -> str | None:
    """13812345678 → 138****5678."""
    if not phone:
        return phone
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_address(address: str) -> str:
    """Keep the first six characters (county and township), hide the rest."""
    if len(address) <= 6:
        return address
    return address[:6] + "****"
