"""Whole-village credit's records (整村授信 / 阳光信贷): a campaign per village with its history of steps, and the
household surveys its collectors send from the field, each household's members beside it so that a person is
surveyed in one household of a campaign only (the database holds that too)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from domain.village_credit.campaign_workflow import CampaignState
from models.grid import GridNode
from models.staff import Staff


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
    """One household's survey (入户调查), as its collector's app last sent it. `client_id` is the app's id for
    it and `client_version` the app's edit counter: a resend or an older edit changes nothing; `updated_at` is
    the server's time of the last change, which the sync cursor follows."""

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

    class Meta:
        table = "village_household_survey"
        unique_together = (("campaign_id", "client_id"),)
        indexes = (("campaign_id", "updated_at", "id"), ("campaign_id", "head_id_number"))


class SurveyMember(Model):
    """A person listed in a household survey: one household per person and campaign."""

    id = fields.IntField(primary_key=True)
    survey: fields.ForeignKeyRelation[HouseholdSurvey] = fields.ForeignKeyField(
        "palmcredit.HouseholdSurvey", related_name="member_rows", on_delete=fields.CASCADE
    )
    campaign: fields.ForeignKeyRelation[VillageCampaign] = fields.ForeignKeyField(
        "palmcredit.VillageCampaign", related_name="survey_members", on_delete=fields.RESTRICT
    )
    id_number = fields.CharField(max_length=18)
    relation = fields.CharField(max_length=16)

    class Meta:
        table = "village_survey_member"
        unique_together = (("campaign_id", "id_number"),)
