"""Bulk imports of household surveys from the spreadsheets banks already keep (入户调查表批量导入): the column
mapping a bank saves per sheet template, and each import — its file as uploaded (so the job reads it after the
request has ended), the dry run's problems, the job that stores it, and the error sheet to download."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.jobs import Job
from models.staff import Staff
from models.village_credit import VillageCampaign


class SurveyImportStatus(StrEnum):
    CHECKING = "CHECKING"  # a large sheet's dry run, checked by a job; nothing stored yet
    DRY_RUN_DONE = "DRY_RUN_DONE"  # checked, nothing stored; problems listed
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class SurveyImportTemplate(Model):
    """A bank's sheet layout: which of their header texts holds each of our fields."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    mapping = fields.JSONField(default=dict, description="our field → their header text")
    created_by: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="survey_import_templates", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "survey_import_template"


class SurveyImport(Model):
    """One spreadsheet sent for a campaign: dry run first, then (on start) the job that stores it."""

    id = fields.IntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[VillageCampaign] = fields.ForeignKeyField(
        "palmcredit.VillageCampaign", related_name="survey_imports", on_delete=fields.CASCADE
    )
    template: fields.ForeignKeyNullableRelation[SurveyImportTemplate] = fields.ForeignKeyField(
        "palmcredit.SurveyImportTemplate", related_name="imports", null=True, on_delete=fields.SET_NULL
    )
    file_name = fields.CharField(max_length=120)
    file_format = fields.CharField(max_length=8, description="XLSX or CSV")
    file_sha256 = fields.CharField(max_length=64)
    content = fields.BinaryField(description="the file as uploaded")
    mapping = fields.JSONField(default=dict, description="the mapping the rows were read with")
    status = fields.CharEnumField(SurveyImportStatus, max_length=16)
    rows_total = fields.IntField(default=0)
    households_total = fields.IntField(default=0)
    households_valid = fields.IntField(default=0)
    saved = fields.IntField(default=0)
    updated = fields.IntField(default=0, description="households an earlier import stored, corrected by this one")
    duplicates = fields.IntField(default=0)
    errors = fields.IntField(default=0)
    problems = fields.JSONField(
        default=list, description="the first problems: [{row, column, header, field, code, zh, en}]"
    )
    problems_total = fields.IntField(default=0)
    error_sheet = fields.BinaryField(null=True, description="XLSX: the rows at fault with their errors")
    job: fields.ForeignKeyNullableRelation[Job] = fields.ForeignKeyField(
        "palmcredit.Job", related_name="survey_imports", null=True, on_delete=fields.SET_NULL
    )
    created_by: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="survey_imports", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "survey_import"
