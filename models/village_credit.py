"""Whole-village credit's records (整村授信 / 阳光信贷): a campaign per village with its history of steps, and the
household surveys its collectors send from the field, each household's members beside it so that a person is
surveyed in one household of a campaign only (the database holds that too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from domain.village_credit.campaign_workflow import CampaignState
from domain.village_credit.household_workflow import HouseholdState, ListColour
from models.credit import CreditApplication
from models.customer import Customer
from models.grid import GridNode
from models.staff import Staff

if TYPE_CHECKING:
    from models.survey_imports import SurveyImport


class VillageCampaign(Model):
    """One village's whole-village credit campaign (整村授信活动), from planning to acceptance."""

    id = fields.IntField(primary_key=True)
    village: fields.ForeignKeyRelation[GridNode] = fields.ForeignKeyField(
        "palmcredit.GridNode", related_name="village_campaigns", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=100)
    collector_ids = fields.JSONField(default=list, description="the customer managers collecting (采集客户经理)")
    reviewer: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="first_reviewed_campaigns", on_delete=fields.RESTRICT
    )
    second_reviewer: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="second_reviewed_campaigns", null=True, on_delete=fields.RESTRICT
    )
    approver: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="approved_campaigns", null=True, on_delete=fields.RESTRICT
    )
    created_by: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="planned_campaigns", on_delete=fields.RESTRICT
    )
    state = fields.CharEnumField(CampaignState, max_length=24)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    state_since = fields.DatetimeField()
    # the campaign template's decision pair (rules/decisions/<name>.json): how its households are screened and limited
    screening_decision = fields.CharField(max_length=32, default="village_screening")
    limit_decision = fields.CharField(max_length=32, default="village_limit")

    class Meta:
        table = "village_campaign"
        indexes = (("village_id", "state"), ("reviewer_id", "state"))


class VillageCampaignEvent(Model):
    """One step of a campaign: which action, from and to which state, by whom, when and why."""

    id = fields.IntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[VillageCampaign] = fields.ForeignKeyField(
        "palmcredit.VillageCampaign", related_name="events", on_delete=fields.CASCADE
    )
    action = fields.CharField(max_length=32)
    from_state = fields.CharField(max_length=24, null=True)
    to_state = fields.CharField(max_length=24)
    actor: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="campaign_events", on_delete=fields.RESTRICT
    )
    at = fields.DatetimeField()
    reason = fields.CharField(max_length=500, default="")

    class Meta:
        table = "village_campaign_event"
        indexes = (("campaign_id", "id"),)


class HouseholdSurvey(Model):
    """One household's survey (入户调查), as its collector's app (or a spreadsheet import) last sent it.
    `client_id` is the app's id for it and `client_version` the app's edit counter: a resend or an older edit
    changes nothing; `updated_at` is the server's time of the last change, which the sync cursor follows."""

    id = fields.IntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[VillageCampaign] = fields.ForeignKeyField(
        "palmcredit.VillageCampaign", related_name="surveys", on_delete=fields.RESTRICT
    )
    client_id = fields.CharField(max_length=64)
    client_version = fields.IntField()
    collector: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="household_surveys", on_delete=fields.RESTRICT
    )
    head_id_number = fields.CharField(max_length=18)
    head_name = fields.CharField(max_length=64)
    surveyed_at = fields.DatetimeField()
    phone = fields.CharField(max_length=11, null=True)
    address = fields.CharField(max_length=255, default="")
    lon = fields.FloatField(null=True)
    lat = fields.FloatField(null=True)
    land_contracted_mu = fields.DecimalField(max_digits=12, decimal_places=2, default=0, description="承包地,亩")
    land_rented_mu = fields.DecimalField(max_digits=12, decimal_places=2, default=0, description="流转地,亩")
    annual_income = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    annual_expenses = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    house_value = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    vehicle_value = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    machinery_value = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    operations = fields.CharField(max_length=500, default="")
    # the rest of the form, read whole: members, crops, livestock, debts elsewhere, soft information, photos
    details = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    merged_into: fields.ForeignKeyNullableRelation[HouseholdSurvey] = fields.ForeignKeyField(
        "palmcredit.HouseholdSurvey",
        related_name="merged_surveys",
        null=True,
        on_delete=fields.RESTRICT,
        description="the survey this one was confirmed a duplicate of (查重合并), kept for its history",
    )
    last_import: fields.ForeignKeyNullableRelation[SurveyImport] = fields.ForeignKeyField(
        "palmcredit.SurveyImport",
        related_name="surveys_written",
        null=True,
        on_delete=fields.SET_NULL,
        description="the spreadsheet import that wrote it last (null: the collector's app did)",
    )

    class Meta:
        table = "village_household_survey"
        unique_together = (("campaign_id", "client_id"),)
        indexes = (("campaign_id", "updated_at", "id"), ("campaign_id", "head_id_number"))


class SurveyMember(Model):
    """A person listed in a household survey: one household per person and campaign."""

    id = fields.IntField(primary_key=True)
    survey: fields.ForeignKeyRelation[HouseholdSurvey] = fields.ForeignKeyField(
        "palmcredit.HouseholdSurvey", related_name="member_rows", on_delete=fields.CASCADE, db_index=True
    )  # indexed: screening reads a chunk's members by survey id, and deleting a survey cascades to its members
    campaign: fields.ForeignKeyRelation[VillageCampaign] = fields.ForeignKeyField(
        "palmcredit.VillageCampaign", related_name="survey_members", on_delete=fields.RESTRICT
    )
    id_number = fields.CharField(max_length=18)
    relation = fields.CharField(max_length=16)

    class Meta:
        table = "village_survey_member"
        unique_together = (("campaign_id", "id_number"),)


class DuplicateCandidate(Model):
    """Two surveys that probably (or, by ID number, certainly) hold the same person, queued for a person to
    confirm (the duplicate is merged into the kept survey) or reject. `survey` is the campaign's own; `other` may
    be of another campaign of the county. One row per pair: survey_id < other_id or the pair seen from the other
    side is the same row (the job looks both ways before inserting)."""

    id = fields.IntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[VillageCampaign] = fields.ForeignKeyField(
        "palmcredit.VillageCampaign", related_name="duplicate_candidates", on_delete=fields.RESTRICT
    )
    survey: fields.ForeignKeyRelation[HouseholdSurvey] = fields.ForeignKeyField(
        "palmcredit.HouseholdSurvey", related_name="duplicate_candidates", on_delete=fields.CASCADE
    )
    other: fields.ForeignKeyRelation[HouseholdSurvey] = fields.ForeignKeyField(
        "palmcredit.HouseholdSurvey", related_name="duplicate_of_candidates", on_delete=fields.CASCADE
    )
    score = fields.FloatField()
    rule = fields.CharField(max_length=24, description="EXACT_ID, NAME_PHONE, NAME_BIRTH_DATE or NAME_ADDRESS")
    reasons = fields.JSONField(default=list, description="[{code, zh, en, person, otherPerson}]")
    status = fields.CharField(max_length=16, default="OPEN", description="OPEN, CONFIRMED or REJECTED")
    found_by_job = fields.IntField(null=True)
    found_at = fields.DatetimeField()
    decided_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="duplicate_decisions", null=True, on_delete=fields.RESTRICT
    )
    decided_at = fields.DatetimeField(null=True)
    note = fields.CharField(max_length=500, default="")

    class Meta:
        table = "village_duplicate_candidate"
        unique_together = (("survey_id", "other_id"),)
        indexes = (("campaign_id", "status", "id"),)


class HouseholdScreening(Model):
    """A surveyed household's place in the campaign after screening (筛查): its list (黑/灰/白名单) with the reasons,
    the pre-approved limit (预授信额度) the decision proposed and the limit as reviewed, and its way to a signed
    credit line (domain.village_credit.household_workflow)."""

    id = fields.IntField(primary_key=True)
    survey: fields.OneToOneRelation[HouseholdSurvey] = fields.OneToOneField(
        "palmcredit.HouseholdSurvey", related_name="screening", on_delete=fields.CASCADE
    )
    campaign: fields.ForeignKeyRelation[VillageCampaign] = fields.ForeignKeyField(
        "palmcredit.VillageCampaign", related_name="screenings", on_delete=fields.RESTRICT
    )
    state = fields.CharEnumField(HouseholdState, max_length=16)
    colour = fields.CharEnumField(ListColour, max_length=8)
    reasons = fields.JSONField(default=list, description="why black or grey: [{code, zh, en}]")
    rating = fields.CharField(max_length=8, null=True, description="the collector's and the data's grade")
    proposed_limit = fields.DecimalField(max_digits=16, decimal_places=2, null=True, description="as decided")
    limit = fields.DecimalField(max_digits=16, decimal_places=2, null=True, description="as reviewed")
    screened_at = fields.DatetimeField()
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "palmcredit.Customer", related_name="village_screenings", null=True, on_delete=fields.RESTRICT
    )
    called_back_at = fields.DatetimeField(null=True)
    called_back_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="village_call_backs", null=True, on_delete=fields.RESTRICT
    )
    call_back_note = fields.CharField(max_length=500, default="")
    signed_at = fields.DatetimeField(null=True)
    signed_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="village_signings", null=True, on_delete=fields.RESTRICT
    )
    application: fields.ForeignKeyNullableRelation[CreditApplication] = fields.ForeignKeyField(
        "palmcredit.CreditApplication", related_name="village_screenings", null=True, on_delete=fields.RESTRICT
    )
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "village_household_screening"
        indexes = (("campaign_id", "state"), ("campaign_id", "colour"))


class VillageDecisionRecord(Model):
    """A decision evaluated on a surveyed household (screening or limit), as evaluated: replayable later against
    the exact file text kept in credit_decision_file, like every credit-factory decision."""

    id = fields.IntField(primary_key=True)
    screening: fields.ForeignKeyRelation[HouseholdScreening] = fields.ForeignKeyField(
        "palmcredit.HouseholdScreening", related_name="decisions", on_delete=fields.CASCADE
    )
    decision = fields.CharField(max_length=32)
    version = fields.IntField()
    content_sha256 = fields.CharField(max_length=64)
    inputs = fields.JSONField()
    outputs = fields.JSONField()
    fired_rules = fields.JSONField(default=list)
    created_at = fields.DatetimeField()

    class Meta:
        table = "village_decision_record"
        indexes = (("screening_id", "id"),)


class LimitAdjustment(Model):
    """A reviewer's change of a household's limit with its reason (maker), confirmed or rejected by the next
    step's person (checker); the limit changes only when confirmed."""

    id = fields.IntField(primary_key=True)
    screening: fields.ForeignKeyRelation[HouseholdScreening] = fields.ForeignKeyField(
        "palmcredit.HouseholdScreening", related_name="adjustments", on_delete=fields.CASCADE
    )
    campaign: fields.ForeignKeyRelation[VillageCampaign] = fields.ForeignKeyField(
        "palmcredit.VillageCampaign", related_name="limit_adjustments", on_delete=fields.RESTRICT
    )
    stage = fields.CharField(max_length=24, description="the campaign state it was made in")
    from_limit = fields.DecimalField(max_digits=16, decimal_places=2)
    to_limit = fields.DecimalField(max_digits=16, decimal_places=2)
    reason = fields.CharField(max_length=500)
    status = fields.CharField(max_length=16, default="PROPOSED", description="PROPOSED, CONFIRMED or REJECTED")
    made_by: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="village_limit_adjustments", on_delete=fields.RESTRICT
    )
    made_at = fields.DatetimeField()
    checked_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="village_limit_checks", null=True, on_delete=fields.RESTRICT
    )
    checked_at = fields.DatetimeField(null=True)
    check_note = fields.CharField(max_length=500, default="")

    class Meta:
        table = "village_limit_adjustment"
        indexes = (("campaign_id", "status"), ("screening_id", "id"))


class CoreCustomerRecord(Model):
    """A person in the core-banking customer file (核心系统客户信息), as its last CSV feed gave them: deposits,
    loans, overdue history, e-banking and payment bindings, social-security card. Linked to surveys by ID number."""

    id = fields.IntField(primary_key=True)
    id_number = fields.CharField(max_length=18, unique=True)
    name = fields.CharField(max_length=64)
    phone = fields.CharField(max_length=11, null=True)
    address = fields.CharField(max_length=255, default="")
    deposit_balance = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    loan_balance = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    overdue_amount = fields.DecimalField(max_digits=16, decimal_places=2, default=0, description="overdue now")
    overdue_days = fields.IntField(default=0, description="days overdue now")
    max_overdue_days = fields.IntField(default=0, description="the longest overdue in the last 24 months")
    npl_history = fields.BooleanField(default=False, description="ever classed substandard or worse (不良记录)")
    has_ebanking = fields.BooleanField(default=False)
    has_third_party_payment = fields.BooleanField(default=False)
    has_social_security_card = fields.BooleanField(default=False)
    as_of = fields.DateField(description="the feed's date")
    updated_at = fields.DatetimeField()

    class Meta:
        table = "core_customer_file"


class BankFeedFile(Model):
    """A core-banking file or court list head office sent (CORE_FILE or ENFORCEMENT_LIST), kept until the job
    that checks and imports it has run to its end (imported or refused), so a worker that dies or a Redis that
    is down loses nothing; then only its name, size and SHA-256 stay."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=24, description="CORE_FILE or ENFORCEMENT_LIST")
    file_name = fields.CharField(max_length=100)
    size_bytes = fields.IntField()
    file_sha256 = fields.CharField(max_length=64)
    content = fields.BinaryField(null=True, description="the file as uploaded, emptied once its job has ended")
    created_by: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="bank_feed_files", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()

    class Meta:
        table = "bank_feed_file"


class EnforcementListEntry(Model):
    """A person on the court's list of dishonest judgment debtors (失信被执行人名单), as imported."""

    id = fields.IntField(primary_key=True)
    id_number = fields.CharField(max_length=18, db_index=True)
    name = fields.CharField(max_length=64)
    case_number = fields.CharField(max_length=64)
    court = fields.CharField(max_length=100, default="")
    listed_on = fields.DateField(null=True)
    imported_at = fields.DatetimeField()

    class Meta:
        table = "court_enforcement_list"
        unique_together = (("id_number", "case_number"),)
