"""Tortoise models, one module per aggregate. Tortoise discovers them from this package."""

from models.audit import AuditLog
from models.customer import Customer, CustomerSource, Household, LoanClass, Placement, Sex
from models.grid import GridLevel, GridNode, Outlet
from models.jobs import Job, JobChunk, JobStatus, Notification, OutboxMessage
from models.kpi import GridKpi
from models.staff import Staff
from models.throttle import LoginThrottle

__all__ = [
    "AuditLog",
    "Customer",
    "CustomerSource",
    "GridKpi",
    "GridLevel",
    "GridNode",
    "Household",
    "Job",
    "JobChunk",
    "JobStatus",
    "LoanClass",
    "LoginThrottle",
    "Notification",
    "OutboxMessage",
    "Outlet",
    "Placement",
    "Sex",
    "Staff",
]
