from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from domain.credit.classification import LoanClass
from domain.customers.enums import Placement
from models.jobs import JobStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0002_grid_path_prefix_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GridKpi',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('node_id', fields.IntField()),
                ('period', fields.CharField(max_length=7)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('customers', fields.IntField(default=0)),
                ('households', fields.IntField(default=0)),
                ('households_with_credit', fields.IntField(default=0)),
                ('deposit_balance', fields.DecimalField(default=0, max_digits=20, decimal_places=2)),
                ('loan_balance', fields.DecimalField(default=0, max_digits=20, decimal_places=2)),
                ('credit_line_total', fields.DecimalField(default=0, max_digits=20, decimal_places=2)),
                ('ebanking', fields.IntField(default=0)),
                ('third_party_payment', fields.IntField(default=0)),
                ('social_security_card', fields.IntField(default=0)),
                ('borrowers', fields.IntField(default=0)),
                ('npl_borrowers', fields.IntField(default=0)),
                ('npl_balance', fields.DecimalField(default=0, max_digits=20, decimal_places=2)),
            ],
            options={'table': 'grid_kpi', 'app': 'palmcredit', 'unique_together': (('node_id', 'period'),), 'pk_attr': 'id', 'table_description': 'The figures of one grid node (everything under it) for one period (YYYY-MM).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Job',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(db_index=True, max_length=32)),
                ('status', fields.CharEnumField(default=JobStatus.PENDING, description='PENDING: PENDING\nRUNNING: RUNNING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=JobStatus, max_length=16)),
                ('dedup_key', fields.CharField(null=True, unique=True, max_length=128)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('chunks_total', fields.IntField(default=0)),
                ('chunks_done', fields.IntField(default=0)),
                ('result', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('error', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'job', 'app': 'palmcredit', 'pk_attr': 'id', 'table_description': 'One recorded run of background work (an assignment run, a KPI roll-up, a grid import).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JobChunk',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('job', fields.ForeignKeyField('palmcredit.Job', source_field='job_id', db_constraint=True, to_field='id', related_name='chunks', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('status', fields.CharEnumField(default=JobStatus.PENDING, description='PENDING: PENDING\nRUNNING: RUNNING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=JobStatus, max_length=16)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('result', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('attempts', fields.IntField(default=0)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job_chunk', 'app': 'palmcredit', 'unique_together': (('job_id', 'number'),), 'pk_attr': 'id', 'table_description': 'A slice of a job that one worker runs.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('recipient_id', fields.IntField(db_index=True)),
                ('kind', fields.CharField(max_length=32)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(default='', unique=False)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'palmcredit', 'indexes': [Index(fields=['recipient_id', 'read_at'])], 'pk_attr': 'id', 'table_description': 'A push to one member of staff: stored first, then delivered live, then read and acknowledged.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('task', fields.CharField(max_length=64)),
                ('args', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('key', fields.CharField(unique=True, max_length=160)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('dispatched_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'outbox_message', 'app': 'palmcredit', 'pk_attr': 'id', 'table_description': 'Work to hand to the queue, written in the same transaction as the change that caused it.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Customer',
            name='credit_line',
            field=fields.DecimalField(default=0, description='授信额度', max_digits=16, decimal_places=2),
        ),
        ops.AddField(
            model_name='Customer',
            name='loan_class',
            field=fields.CharEnumField(null=True, description='五级分类', enum_type=LoanClass, max_length=16),
        ),
        ops.AddField(
            model_name='Customer',
            name='needs_placement',
            field=fields.BooleanField(default=False, description='new or moved since the last assignment'),
        ),
        ops.AddField(
            model_name='Customer',
            name='placement',
            field=fields.CharEnumField(default=Placement.MANUAL, description='MANUAL: MANUAL\nINSIDE: INSIDE\nNEAREST: NEAREST\nADDRESS: ADDRESS\nUNPLACED: UNPLACED', enum_type=Placement, max_length=16),
        ),
        ops.AddIndex(
            model_name='Customer',
            index=Index(fields=['needs_placement']),
        ),
    ]
