from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.credit.enums import GuaranteeType, RepaymentMethod
from domain.credit.workflow import ApplicationState
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0008_job_scope_flight_outputs')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CreditApplication',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client_id', fields.CharField(description="the app's own id: a resend creates nothing twice", max_length=64)),
                ('customer', fields.ForeignKeyField('palmcredit.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='applications', on_delete=OnDelete.RESTRICT)),
                ('village', fields.ForeignKeyField('palmcredit.GridNode', source_field='village_id', null=True, db_constraint=True, to_field='id', related_name='applications', on_delete=OnDelete.RESTRICT)),
                ('outlet', fields.ForeignKeyField('palmcredit.Outlet', source_field='outlet_id', null=True, db_constraint=True, to_field='id', related_name='applications', on_delete=OnDelete.SET_NULL)),
                ('marketer', fields.ForeignKeyField('palmcredit.Staff', source_field='marketer_id', db_constraint=True, to_field='id', related_name='marketed_applications', on_delete=OnDelete.RESTRICT)),
                ('investigator', fields.ForeignKeyField('palmcredit.Staff', source_field='investigator_id', null=True, db_constraint=True, to_field='id', related_name='investigated_applications', on_delete=OnDelete.RESTRICT)),
                ('product_code', fields.CharField(max_length=32)),
                ('product_version', fields.IntField()),
                ('product_sha256', fields.CharField(max_length=64)),
                ('amount', fields.DecimalField(description='applied for, yuan', max_digits=16, decimal_places=2)),
                ('term_months', fields.IntField()),
                ('repayment_method', fields.CharEnumField(description='EQUAL_INSTALMENTS: EQUAL_INSTALMENTS\nEQUAL_PRINCIPAL: EQUAL_PRINCIPAL\nINTEREST_MONTHLY_PRINCIPAL_AT_MATURITY: INTEREST_MONTHLY_PRINCIPAL_AT_MATURITY', enum_type=RepaymentMethod, max_length=48)),
                ('guarantee_type', fields.CharEnumField(description='CREDIT: CREDIT\nGUARANTOR: GUARANTOR\nPLEDGE: PLEDGE\nMORTGAGE: MORTGAGE', enum_type=GuaranteeType, max_length=16)),
                ('purpose', fields.CharField(default='', max_length=200)),
                ('collateral_value', fields.DecimalField(null=True, description='the pledged deposit or appraised property, yuan', max_digits=16, decimal_places=2)),
                ('state', fields.CharEnumField(description='ADMISSION_REFUSED: ADMISSION_REFUSED\nAWAITING_ASSIGNMENT: AWAITING_ASSIGNMENT\nINVESTIGATING: INVESTIGATING\nAWAITING_APPROVAL: AWAITING_APPROVAL\nAPPROVED: APPROVED\nREJECTED: REJECTED\nWITHDRAWN: WITHDRAWN', enum_type=ApplicationState, max_length=24)),
                ('approval_tier', fields.IntField(null=True, description='the tier it waits at, 0 the first')),
                ('tier_authority', fields.CharField(null=True, description='the role that decides that tier', max_length=24)),
                ('approver_ids', fields.JSONField(default=list, description='who approved its earlier tiers', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('refusal_reasons', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('rating_grade', fields.CharField(null=True, max_length=8)),
                ('suggested_limit', fields.DecimalField(null=True, max_digits=16, decimal_places=2)),
                ('recommended_limit', fields.DecimalField(null=True, max_digits=16, decimal_places=2)),
                ('approved_limit', fields.DecimalField(null=True, max_digits=16, decimal_places=2)),
                ('investigation', fields.JSONField(null=True, description="the investigator's report", encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('version', fields.IntField(default=1)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('state_since', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sla_due', fields.DatetimeField(null=True, description="when the current stage's SLA runs out", auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_application', 'app': 'palmcredit', 'unique_together': (('marketer_id', 'client_id'),), 'indexes': [Index(fields=['state', 'tier_authority']), Index(fields=['investigator_id', 'state']), Index(fields=['village_id', 'state']), Index(fields=['customer_id'])], 'pk_attr': 'id', 'table_description': 'One application for a credit line (授信申请), from intake to the approval decision.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApplicationEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('palmcredit.CreditApplication', source_field='application_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharField(max_length=32)),
                ('from_state', fields.CharField(null=True, max_length=24)),
                ('to_state', fields.CharField(max_length=24)),
                ('actor', fields.ForeignKeyField('palmcredit.Staff', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='application_events', on_delete=OnDelete.RESTRICT)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'credit_application_event', 'app': 'palmcredit', 'indexes': [Index(fields=['application_id', 'id'])], 'pk_attr': 'id', 'table_description': "One step of an application's state machine: which action, from and to which state, by whom, when."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.OneToOneField('palmcredit.CreditApplication', source_field='application_id', db_constraint=True, to_field='id', related_name='line', on_delete=OnDelete.RESTRICT)),
                ('customer', fields.ForeignKeyField('palmcredit.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.RESTRICT)),
                ('product_code', fields.CharField(max_length=32)),
                ('product_version', fields.IntField()),
                ('amount', fields.DecimalField(max_digits=16, decimal_places=2)),
                ('drawn', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('revolving', fields.BooleanField()),
                ('valid_from', fields.DateField()),
                ('valid_until', fields.DateField()),
                ('status', fields.CharField(default='ACTIVE', max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_line', 'app': 'palmcredit', 'indexes': [Index(fields=['customer_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A credit line (授信额度) granted by an approved application, drawn on within its validity.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('palmcredit.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='credit_reports', on_delete=OnDelete.RESTRICT)),
                ('reported_on', fields.DateField()),
                ('on_blacklist', fields.BooleanField(default=False, description='on a blacklist (黑名单)')),
                ('current_overdue_amount', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('overdue_count_24m', fields.IntField(default=0)),
                ('max_consecutive_overdue_24m', fields.IntField(default=0)),
                ('loan_queries_3m', fields.IntField(default=0, description="lenders' enquiries in the last 3 months")),
                ('credit_history_years', fields.IntField(default=0)),
                ('total_debt', fields.DecimalField(default=0, description='debts at all lenders', max_digits=16, decimal_places=2)),
                ('guarantees_count', fields.IntField(default=0, description='guarantees the customer has given')),
                ('guarantees_amount', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('feeds', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('imported_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'credit_report', 'app': 'palmcredit', 'indexes': [Index(fields=['customer_id', 'reported_on'])], 'pk_attr': 'id', 'table_description': 'A credit-bureau report summary (征信报告摘要) of a customer, imported from the bureau feed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DecisionFileVersion',
            fields=[
                ('content_sha256', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('decision', fields.CharField(max_length=32)),
                ('version', fields.IntField()),
                ('content', fields.TextField(unique=False)),
                ('first_used_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_decision_file', 'app': 'palmcredit', 'pk_attr': 'content_sha256', 'table_description': 'The exact text of every decision file version an evaluation ran on, by its SHA-256: what a replay years'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DecisionRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('palmcredit.CreditApplication', source_field='application_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.CASCADE)),
                ('stage', fields.CharField(max_length=32)),
                ('decision', fields.CharField(max_length=32)),
                ('version', fields.IntField()),
                ('content_sha256', fields.CharField(max_length=64)),
                ('inputs', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('outputs', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('fired_rules', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_decision_record', 'app': 'palmcredit', 'indexes': [Index(fields=['application_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A decision evaluated on an application, as evaluated: replayable years later.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Staff',
            name='product_skills',
            field=fields.JSONField(default=list, description='credit products an investigator handles', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
