from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0007_staff_sessions_throttle')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Job',
            name='scope',
            field=fields.CharField(default='/', max_length=255),
        ),
        ops.AddField(
            model_name='Job',
            name='in_flight_key',
            field=fields.CharField(null=True, unique=True, max_length=300),
        ),
        ops.AddField(
            model_name='JobChunk',
            name='heartbeat_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.CreateModel(
            name='JobOutput',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('job', fields.ForeignKeyField('palmcredit.Job', source_field='job_id', db_constraint=True, to_field='id', related_name='outputs', on_delete=OnDelete.CASCADE)),
                ('chunk', fields.IntField()),
                ('topic', fields.CharField(max_length=32)),
                ('ref', fields.BigIntField()),
                ('amount', fields.IntField(default=1)),
            ],
            options={'table': 'job_output', 'app': 'palmcredit', 'indexes': [Index(fields=['job_id', 'topic', 'ref'])], 'pk_attr': 'id', 'table_description': 'Per-record output of a chunk (an unplaced customer, the customers a village received), written with the'},
            bases=['Model'],
        ),
    ]
