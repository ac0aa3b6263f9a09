from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.survey_imports import SurveyImportStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0013_village_duplicates')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SurveyImportTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('mapping', fields.JSONField(default=dict, description='our field → their header text', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_by', fields.ForeignKeyField('palmcredit.Staff', source_field='created_by_id', db_constraint=True, to_field='id', related_name='survey_import_templates', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'survey_import_template', 'app': 'palmcredit', 'pk_attr': 'id', 'table_description': "A bank's sheet layout: which of their header texts holds each of our fields."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SurveyImport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('campaign', fields.ForeignKeyField('palmcredit.VillageCampaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='survey_imports', on_delete=OnDelete.CASCADE)),
                ('template', fields.ForeignKeyField('palmcredit.SurveyImportTemplate', source_field='template_id', null=True, db_constraint=True, to_field='id', related_name='imports', on_delete=OnDelete.SET_NULL)),
                ('file_name', fields.CharField(max_length=120)),
                ('file_format', fields.CharField(description='XLSX or CSV', max_length=8)),
                ('file_sha256', fields.CharField(max_length=64)),
                ('content', fields.BinaryField(description='the file as uploaded')),
                ('mapping', fields.JSONField(default=dict, description='the mapping the rows were read with', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(description='DRY_RUN_DONE: DRY_RUN_DONE\nQUEUED: QUEUED\nRUNNING: RUNNING\nDONE: DONE\nFAILED: FAILED', enum_type=SurveyImportStatus, max_length=16)),
                ('rows_total', fields.IntField(default=0)),
                ('households_total', fields.IntField(default=0)),
                ('households_valid', fields.IntField(default=0)),
                ('saved', fields.IntField(default=0)),
                ('duplicates', fields.IntField(default=0)),
                ('errors', fields.IntField(default=0)),
                ('problems', fields.JSONField(default=list, description='the first problems: [{row, column, header, field, code, zh, en}]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('problems_total', fields.IntField(default=0)),
                ('error_sheet', fields.BinaryField(null=True, description='XLSX: the rows at fault with their errors')),
                ('job', fields.ForeignKeyField('palmcredit.Job', source_field='job_id', null=True, db_constraint=True, to_field='id', related_name='survey_imports', on_delete=OnDelete.SET_NULL)),
                ('created_by', fields.ForeignKeyField('palmcredit.Staff', source_field='created_by_id', db_constraint=True, to_field='id', related_name='survey_imports', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'survey_import', 'app': 'palmcredit', 'pk_attr': 'id', 'table_description': 'One spreadsheet sent for a campaign: dry run first, then (on start) the job that stores it.'},
            bases=['Model'],
        ),
    ]
