"""Every kind of recorded run, in one list. The workers, the API process's background, the schedules and the
GraphQL reports all take the kinds from here: adding a kind is its declaration (a JobKind beside its use case)
and one line below."""

from __future__ import annotations

from resolvers.credit.assignment import CREDIT_ASSIGNMENT
from resolvers.grid.assignment import ASSIGNMENT
from resolvers.grid.imports import GRID_IMPORT
from resolvers.grid.kpis import KPI_ROLLUP
from resolvers.platform.job_kinds import AnyRecorded
from resolvers.village_credit.core_file import FEED_IMPORT
from resolvers.village_credit.duplicates import VILLAGE_DEDUP
from resolvers.village_credit.imports import SURVEY_CHECK, SURVEY_IMPORT
from resolvers.village_credit.screening import VILLAGE_SCREENING

KINDS: list[AnyRecorded] = [
    ASSIGNMENT,
    KPI_ROLLUP,
    GRID_IMPORT,
    CREDIT_ASSIGNMENT,
    VILLAGE_SCREENING,
    VILLAGE_DEDUP,
    FEED_IMPORT,
    SURVEY_CHECK,
    SURVEY_IMPORT,
]
