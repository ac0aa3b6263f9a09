"""The GraphQL surface, the only package that imports strawberry. Each capability's package declares its own
root fields (a Query, a Mutation, a Subscription piece); this module only merges them into one schema."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from schema.credit import drawdowns as credit_drawdowns
from schema.credit import limits as credit_limits
from schema.credit import metrics as credit_metrics
from schema.credit import mutations as credit_mutations
from schema.credit import queries as credit_queries
from schema.credit.drawdowns import Drawdown
from schema.credit.types import CreditApplication, CreditLine
from schema.customers import mutations as customer_mutations
from schema.customers import queries as customer_queries
from schema.customers.types import Customer
from schema.grid import mutations as grid_mutations
from schema.grid import types as grid_types
from schema.platform import audit, jobs, node, notifications
from schema.platform.extensions import PalmCreditSchema, build_extensions
from schema.platform.input_limits import InputLimits
from schema.staff import admin as staff_admin
from schema.staff import auth
from schema.staff import types as staff_types
from schema.staff.password_gate import PasswordChangeGate
from schema.village_credit import duplicates as village_duplicates
from schema.village_credit import funnel as village_funnel
from schema.village_credit import households as village_households
from schema.village_credit import imports as village_imports
from schema.village_credit import mutations as village_mutations
from schema.village_credit import queries as village_queries
from schema.village_credit import signing as village_signing
from schema.village_credit.types import VillageCampaign
from settings import SETTINGS, Settings

Query = merge_types(
    "Query",
    (
        node.Query,
        staff_types.Query,
        grid_types.Query,
        customer_queries.Query,
        credit_queries.Query,
        credit_metrics.Query,
        village_queries.Query,
        village_funnel.Query,
        village_imports.Query,
        jobs.Query,
        notifications.Query,
        audit.Query,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        auth.Mutation,
        staff_admin.Mutation,
        customer_mutations.Mutation,
        credit_mutations.Mutation,
        credit_drawdowns.Mutation,
        credit_limits.Mutation,
        village_mutations.Mutation,
        village_signing.Mutation,
        village_households.Mutation,
        village_duplicates.Mutation,
        village_imports.Mutation,
        notifications.Mutation,
        grid_mutations.Mutation,
    ),
)
Subscription = merge_types("Subscription", (notifications.Subscription,))


def build_schema(settings: Settings = SETTINGS) -> strawberry.Schema:
    return PalmCreditSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            staff_types.Staff,
            grid_types.GridNode,
            Customer,
            CreditApplication,
            CreditLine,
            Drawdown,
            VillageCampaign,
            village_households.VillageHousehold,
            audit.AuditEntry,
        ],
        extensions=[*build_extensions(settings), PasswordChangeGate, InputLimits],
    )


schema = build_schema()
