from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0012_village_screening_more')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DuplicateCandidate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('campaign', fields.ForeignKeyField('palmcredit.VillageCampaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='duplicate_candidates', on_delete=OnDelete.RESTRICT)),
                ('survey', fields.ForeignKeyField('palmcredit.HouseholdSurvey', source_field='survey_id', db_constraint=True, to_field='id', related_name='duplicate_candidates', on_delete=OnDelete.CASCADE)),
                ('other', fields.ForeignKeyField('palmcredit.HouseholdSurvey', source_field='other_id', db_constraint=True, to_field='id', related_name='duplicate_of_candidates', on_delete=OnDelete.CASCADE)),
                ('score', fields.FloatField()),
                ('rule', fields.CharField(description='EXACT_ID, NAME_PHONE, NAME_BIRTH_DATE or NAME_ADDRESS', max_length=24)),
                ('reasons', fields.JSONField(default=list, description='[{code, zh, en, person, otherPerson}]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='OPEN', description='OPEN, CONFIRMED or REJECTED', max_length=16)),
                ('found_by_job', fields.IntField(null=True)),
                ('found_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', fields.ForeignKeyField('palmcredit.Staff', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='duplicate_decisions', on_delete=OnDelete.RESTRICT)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('note', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'village_duplicate_candidate', 'app': 'palmcredit', 'unique_together': (('survey_id', 'other_id'),), 'indexes': [Index(fields=['campaign_id', 'status', 'id'])], 'pk_attr': 'id', 'table_description': 'Two surveys that probably (or, by ID number, certainly) hold the same person, queued for a person to'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='HouseholdSurvey',
            name='merged_into',
            field=fields.ForeignKeyField('palmcredit.HouseholdSurvey', source_field='merged_into_id', null=True, description='the survey this one was confirmed a duplicate of (查重合并), kept for its history', db_constraint=True, to_field='id', related_name='merged_surveys', on_delete=OnDelete.RESTRICT),
        ),
    ]
