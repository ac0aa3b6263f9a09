"""Tortoise models, one module per aggregate. Tortoise discovers them from this package."""

from models.audit import AuditLog
from models.customer import Customer, CustomerSource, Household, Sex
from models.grid import GridLevel, GridNode, Outlet
from models.staff import Staff

__all__ = [
    "AuditLog",
    "Customer",
    "CustomerSource",
    "GridLevel",
    "GridNode",
    "Household",
    "Outlet",
    "Sex",
    "Staff",
]
