from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.village_credit.household_workflow import HouseholdState, ListColour
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0010_village_credit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CoreCustomerRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('id_number', fields.CharField(unique=True, max_length=18)),
                ('name', fields.CharField(max_length=64)),
                ('phone', fields.CharField(null=True, max_length=11)),
                ('address', fields.CharField(default='', max_length=255)),
                ('deposit_balance', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('loan_balance', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('overdue_amount', fields.DecimalField(default=0, description='overdue now', max_digits=16, decimal_places=2)),
                ('overdue_days', fields.IntField(default=0, description='days overdue now')),
                ('max_overdue_days', fields.IntField(default=0, description='the longest overdue in the last 24 months')),
                ('npl_history', fields.BooleanField(default=False, description='ever classed substandard or worse (不良记录)')),
                ('has_ebanking', fields.BooleanField(default=False)),
                ('has_third_party_payment', fields.BooleanField(default=False)),
                ('has_social_security_card', fields.BooleanField(default=False)),
                ('as_of', fields.DateField(description="the feed's date")),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_customer_file', 'app': 'palmcredit', 'pk_attr': 'id', 'table_description': 'A person in the core-banking customer file (核心系统客户信息), as its last CSV feed gave them: deposits,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EnforcementListEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('id_number', fields.CharField(db_index=True, max_length=18)),
                ('name', fields.CharField(max_length=64)),
                ('case_number', fields.CharField(max_length=64)),
                ('court', fields.CharField(default='', max_length=100)),
                ('listed_on', fields.DateField(null=True)),
                ('imported_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'court_enforcement_list', 'app': 'palmcredit', 'unique_together': (('id_number', 'case_number'),), 'pk_attr': 'id', 'table_description': "A person on the court's list of dishonest judgment debtors (失信被执行人名单), as imported."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HouseholdScreening',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('survey', fields.OneToOneField('palmcredit.HouseholdSurvey', source_field='survey_id', db_constraint=True, to_field='id', related_name='screening', on_delete=OnDelete.CASCADE)),
                ('campaign', fields.ForeignKeyField('palmcredit.VillageCampaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='screenings', on_delete=OnDelete.RESTRICT)),
                ('state', fields.CharEnumField(description='PROPOSED: PROPOSED\nEXCLUDED: EXCLUDED\nAPPROVED: APPROVED\nCONFIRMED: CONFIRMED\nDECLINED: DECLINED\nSIGNED: SIGNED', enum_type=HouseholdState, max_length=16)),
                ('colour', fields.CharEnumField(description='BLACK: BLACK\nGREY: GREY\nWHITE: WHITE', enum_type=ListColour, max_length=8)),
                ('reasons', fields.JSONField(default=list, description='why black or grey: [{code, zh, en}]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('rating', fields.CharField(null=True, description="the collector's and the data's grade", max_length=8)),
                ('proposed_limit', fields.DecimalField(null=True, description='as decided', max_digits=16, decimal_places=2)),
                ('limit', fields.DecimalField(null=True, description='as reviewed', max_digits=16, decimal_places=2)),
                ('screened_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('customer', fields.ForeignKeyField('palmcredit.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='village_screenings', on_delete=OnDelete.RESTRICT)),
                ('called_back_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('called_back_by', fields.ForeignKeyField('palmcredit.Staff', source_field='called_back_by_id', null=True, db_constraint=True, to_field='id', related_name='village_call_backs', on_delete=OnDelete.RESTRICT)),
                ('call_back_note', fields.CharField(default='', max_length=500)),
                ('signed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('signed_by', fields.ForeignKeyField('palmcredit.Staff', source_field='signed_by_id', null=True, db_constraint=True, to_field='id', related_name='village_signings', on_delete=OnDelete.RESTRICT)),
                ('application', fields.ForeignKeyField('palmcredit.CreditApplication', source_field='application_id', null=True, db_constraint=True, to_field='id', related_name='village_screenings', on_delete=OnDelete.RESTRICT)),
                ('version', fields.IntField(default=1)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'village_household_screening', 'app': 'palmcredit', 'indexes': [Index(fields=['campaign_id', 'state']), Index(fields=['campaign_id', 'colour'])], 'pk_attr': 'id', 'table_description': "A surveyed household's place in the campaign after screening (筛查): its list (黑/灰/白名单) with the reasons,"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LimitAdjustment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('screening', fields.ForeignKeyField('palmcredit.HouseholdScreening', source_field='screening_id', db_constraint=True, to_field='id', related_name='adjustments', on_delete=OnDelete.CASCADE)),
                ('campaign', fields.ForeignKeyField('palmcredit.VillageCampaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='limit_adjustments', on_delete=OnDelete.RESTRICT)),
                ('stage', fields.CharField(description='the campaign state it was made in', max_length=24)),
                ('from_limit', fields.DecimalField(max_digits=16, decimal_places=2)),
                ('to_limit', fields.DecimalField(max_digits=16, decimal_places=2)),
                ('reason', fields.CharField(max_length=500)),
                ('status', fields.CharField(default='PROPOSED', description='PROPOSED, CONFIRMED or REJECTED', max_length=16)),
                ('made_by', fields.ForeignKeyField('palmcredit.Staff', source_field='made_by_id', db_constraint=True, to_field='id', related_name='village_limit_adjustments', on_delete=OnDelete.RESTRICT)),
                ('made_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('checked_by', fields.ForeignKeyField('palmcredit.Staff', source_field='checked_by_id', null=True, db_constraint=True, to_field='id', related_name='village_limit_checks', on_delete=OnDelete.RESTRICT)),
                ('checked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('check_note', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'village_limit_adjustment', 'app': 'palmcredit', 'indexes': [Index(fields=['campaign_id', 'status']), Index(fields=['screening_id', 'id'])], 'pk_attr': 'id', 'table_description': "A reviewer's change of a household's limit with its reason (maker), confirmed or rejected by the next"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VillageDecisionRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('screening', fields.ForeignKeyField('palmcredit.HouseholdScreening', source_field='screening_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.CASCADE)),
                ('decision', fields.CharField(max_length=32)),
                ('version', fields.IntField()),
                ('content_sha256', fields.CharField(max_length=64)),
                ('inputs', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('outputs', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('fired_rules', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'village_decision_record', 'app': 'palmcredit', 'indexes': [Index(fields=['screening_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A decision evaluated on a surveyed household (screening or limit), as evaluated: replayable later against'},
            bases=['Model'],
        ),
    ]
