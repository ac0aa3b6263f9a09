"""Masking of personal data for staff who may see a customer but do not manage them."""

from __future__ import annotations

from datetime import date


def mask_id_number(number: str) -> str:
    """320324199001011234 → 320324********1234: region kept for the grid, the birth date hidden. Whoever sees
    a masked number sees no birth date either (only an age band), or the two together would rebuild it."""
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


AGE_BANDS = ((0, 17, "<18"), (18, 29, "18-29"), (30, 39, "30-39"), (40, 49, "40-49"), (50, 59, "50-59"),
             (60, 69, "60-69"))  # fmt: skip
OLDEST_BAND = "70+"


def age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def age_band(birth: date, today: date) -> str:
    """What a colleague who may not see the ID number needs of the age: a band of at least ten years, never
    the birth date (which with the masked number's region and last four digits would rebuild the number)."""
    years = age(birth, today)
    for low, high, label in AGE_BANDS:
        if low <= years <= high:
            return label
    return OLDEST_BAND
