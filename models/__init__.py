"""Tortoise models, one module per aggregate. Tortoise discovers them from this package."""

from models import json_filters  # noqa: F401  (registers JSON containment on SQLite)
from models.audit import AuditLog
from models.credit import (
    ApplicationEvent,
    ContractDocument,
    CreditApplication,
    CreditLine,
    CreditReport,
    DecisionFileVersion,
    DecisionRecord,
    Drawdown,
    DrawdownEvent,
    Guarantee,
    LimitChange,
    Loan,
    LoanInstalment,
)
from models.customer import Customer, Household
from models.grid import GridLevel, GridNode, Outlet
from models.jobs import Job, JobChunk, JobOutput, JobStatus, Notification, OutboxMessage
from models.kpi import GridKpi
from models.staff import RevokedToken, Staff
from models.survey_imports import SurveyImport, SurveyImportStatus, SurveyImportTemplate
from models.throttle import LoginPairThrottle, LoginThrottle
from models.village_credit import (
    BankFeedFile,
    CoreCustomerRecord,
    DuplicateCandidate,
    EnforcementListEntry,
    HouseholdScreening,
    HouseholdSurvey,
    LimitAdjustment,
    SurveyMember,
    VillageCampaign,
    VillageCampaignEvent,
    VillageDecisionRecord,
)

__all__ = [
    "ApplicationEvent",
    "AuditLog",
    "BankFeedFile",
    "ContractDocument",
    "CoreCustomerRecord",
    "CreditApplication",
    "CreditLine",
    "CreditReport",
    "Customer",
    "DecisionFileVersion",
    "DecisionRecord",
    "Drawdown",
    "DrawdownEvent",
    "DuplicateCandidate",
    "EnforcementListEntry",
    "GridKpi",
    "GridLevel",
    "GridNode",
    "Guarantee",
    "Household",
    "HouseholdScreening",
    "HouseholdSurvey",
    "Job",
    "JobChunk",
    "JobOutput",
    "JobStatus",
    "LimitAdjustment",
    "LimitChange",
    "Loan",
    "LoanInstalment",
    "LoginPairThrottle",
    "LoginThrottle",
    "Notification",
    "OutboxMessage",
    "Outlet",
    "RevokedToken",
    "Staff",
    "SurveyImport",
    "SurveyImportStatus",
    "SurveyImportTemplate",
    "SurveyMember",
    "VillageCampaign",
    "VillageCampaignEvent",
    "VillageDecisionRecord",
]
