from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0015_survey_member_survey_index')]

    initial = False

    operations = [
        # added nullable, filled, then made required: PostgreSQL refuses a required column without a value for
        # the imports already there. First: SQLite makes a column required by rebuilding the table, and dropping
        # the old survey_import would set every survey's last_import (below) back to null
        ops.AddField(
            model_name='SurveyImport',
            name='updated',
            field=fields.IntField(default=0, null=True, description='households an earlier import stored, corrected by this one'),
        ),
        ops.RunSQL("UPDATE survey_import SET updated = 0 WHERE updated IS NULL", reverse_sql=""),
        ops.AlterField(
            model_name='SurveyImport',
            name='updated',
            field=fields.IntField(default=0, description='households an earlier import stored, corrected by this one'),
        ),
        ops.AlterModelOptions(
            name='HouseholdSurvey',
            options={'table': 'village_household_survey', 'app': 'palmcredit', 'unique_together': (('campaign_id', 'client_id'),), 'indexes': [Index(fields=['campaign_id', 'updated_at', 'id']), Index(fields=['campaign_id', 'head_id_number'])], 'pk_attr': 'id', 'table_description': "One household's survey (入户调查), as its collector's app (or a spreadsheet import) last sent it."},
        ),
        ops.AddField(
            model_name='HouseholdSurvey',
            name='last_import',
            field=fields.ForeignKeyField('palmcredit.SurveyImport', source_field='last_import_id', null=True, description="the spreadsheet import that wrote it last (null: the collector's app did)", db_constraint=True, to_field='id', related_name='surveys_written', on_delete=OnDelete.SET_NULL),
        ),
        # the surveys imports stored before imports were recorded on them: a sheet's client id, never edited in
        # the app since (the app counts its edits from 1 up), attributed to the campaign's last finished import
        ops.RunSQL(
            "UPDATE village_household_survey SET last_import_id = (SELECT max(i.id) FROM survey_import i"
            " WHERE i.campaign_id = village_household_survey.campaign_id AND i.status = 'DONE')"
            " WHERE client_id LIKE 'sheet-%' AND client_version = 1",
            reverse_sql="",
        ),
    ]
