from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.village_credit.campaign_workflow import CampaignState
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0009_credit_applications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='VillageCampaign',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('village', fields.ForeignKeyField('palmcredit.GridNode', source_field='village_id', db_constraint=True, to_field='id', related_name='village_campaigns', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=100)),
                ('collector_ids', fields.JSONField(default=list, description='the customer managers collecting (采集客户经理)', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reviewer', fields.ForeignKeyField('palmcredit.Staff', source_field='reviewer_id', db_constraint=True, to_field='id', related_name='first_reviewed_campaigns', on_delete=OnDelete.RESTRICT)),
                ('second_reviewer', fields.ForeignKeyField('palmcredit.Staff', source_field='second_reviewer_id', null=True, db_constraint=True, to_field='id', related_name='second_reviewed_campaigns', on_delete=OnDelete.RESTRICT)),
                ('approver', fields.ForeignKeyField('palmcredit.Staff', source_field='approver_id', null=True, db_constraint=True, to_field='id', related_name='approved_campaigns', on_delete=OnDelete.RESTRICT)),
                ('created_by', fields.ForeignKeyField('palmcredit.Staff', source_field='created_by_id', db_constraint=True, to_field='id', related_name='planned_campaigns', on_delete=OnDelete.RESTRICT)),
                ('state', fields.CharEnumField(description='PLANNED: PLANNED\nCOLLECTING: COLLECTING\nSCREENING: SCREENING\nFIRST_REVIEW: FIRST_REVIEW\nSECOND_REVIEW: SECOND_REVIEW\nBRANCH_APPROVAL: BRANCH_APPROVAL\nPUBLISHED: PUBLISHED\nACCEPTED: ACCEPTED\nCLOSED: CLOSED', enum_type=CampaignState, max_length=24)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('state_since', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'village_campaign', 'app': 'palmcredit', 'indexes': [Index(fields=['village_id', 'state']), Index(fields=['reviewer_id', 'state'])], 'pk_attr': 'id', 'table_description': "One village's whole-village credit campaign (整村授信活动), from planning to acceptance."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HouseholdSurvey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('campaign', fields.ForeignKeyField('palmcredit.VillageCampaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='surveys', on_delete=OnDelete.RESTRICT)),
                ('client_id', fields.CharField(max_length=64)),
                ('client_version', fields.IntField()),
                ('collector', fields.ForeignKeyField('palmcredit.Staff', source_field='collector_id', db_constraint=True, to_field='id', related_name='household_surveys', on_delete=OnDelete.RESTRICT)),
                ('head_id_number', fields.CharField(max_length=18)),
                ('head_name', fields.CharField(max_length=64)),
                ('surveyed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('phone', fields.CharField(null=True, max_length=11)),
                ('address', fields.CharField(default='', max_length=255)),
                ('lon', fields.FloatField(null=True)),
                ('lat', fields.FloatField(null=True)),
                ('land_contracted_mu', fields.DecimalField(default=0, description='承包地,亩', max_digits=12, decimal_places=2)),
                ('land_rented_mu', fields.DecimalField(default=0, description='流转地,亩', max_digits=12, decimal_places=2)),
                ('annual_income', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('annual_expenses', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('house_value', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('vehicle_value', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('machinery_value', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('operations', fields.CharField(default='', max_length=500)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'village_household_survey', 'app': 'palmcredit', 'unique_together': (('campaign_id', 'client_id'),), 'indexes': [Index(fields=['campaign_id', 'updated_at', 'id']), Index(fields=['campaign_id', 'head_id_number'])], 'pk_attr': 'id', 'table_description': "One household's survey (入户调查), as its collector's app last sent it. `client_id` is the app's id for"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SurveyMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('survey', fields.ForeignKeyField('palmcredit.HouseholdSurvey', source_field='survey_id', db_constraint=True, to_field='id', related_name='member_rows', on_delete=OnDelete.CASCADE)),
                ('campaign', fields.ForeignKeyField('palmcredit.VillageCampaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='survey_members', on_delete=OnDelete.RESTRICT)),
                ('id_number', fields.CharField(max_length=18)),
                ('relation', fields.CharField(max_length=16)),
            ],
            options={'table': 'village_survey_member', 'app': 'palmcredit', 'unique_together': (('campaign_id', 'id_number'),), 'pk_attr': 'id', 'table_description': 'A person listed in a household survey: one household per person and campaign.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VillageCampaignEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('campaign', fields.ForeignKeyField('palmcredit.VillageCampaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharField(max_length=32)),
                ('from_state', fields.CharField(null=True, max_length=24)),
                ('to_state', fields.CharField(max_length=24)),
                ('actor', fields.ForeignKeyField('palmcredit.Staff', source_field='actor_id', db_constraint=True, to_field='id', related_name='campaign_events', on_delete=OnDelete.RESTRICT)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'village_campaign_event', 'app': 'palmcredit', 'indexes': [Index(fields=['campaign_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One step of a campaign: which action, from and to which state, by whom, when and why.'},
            bases=['Model'],
        ),
    ]
