"""The customer record's vocabulary."""

from __future__ import annotations

from enum import StrEnum


class Sex(StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"


class CustomerSource(StrEnum):
    """How the customer came to the bank's records: a field survey, the core-banking file, an application."""

    SURVEY = "SURVEY"
    CORE_BANKING = "CORE_BANKING"
    APPLICATION = "APPLICATION"


class Placement(StrEnum):
    """How a customer came to belong to their village."""

    MANUAL = "MANUAL"
    INSIDE = "INSIDE"
    NEAREST = "NEAREST"
    ADDRESS = "ADDRESS"
    UNPLACED = "UNPLACED"
