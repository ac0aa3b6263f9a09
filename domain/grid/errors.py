"""The codes of grid errors, beside the shared ones (domain.errors.ErrorCode)."""

from __future__ import annotations

from enum import StrEnum


class GridErrorCode(StrEnum):
    UNKNOWN_GRID_NODE = "UNKNOWN_GRID_NODE"
