from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0016_survey_corrections')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BankFeedFile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(description='CORE_FILE or ENFORCEMENT_LIST', max_length=24)),
                ('file_name', fields.CharField(max_length=100)),
                ('size_bytes', fields.IntField()),
                ('file_sha256', fields.CharField(max_length=64)),
                ('content', fields.BinaryField(null=True, description='the file as uploaded, emptied once its job has ended')),
                ('created_by', fields.ForeignKeyField('palmcredit.Staff', source_field='created_by_id', db_constraint=True, to_field='id', related_name='bank_feed_files', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bank_feed_file', 'app': 'palmcredit', 'pk_attr': 'id', 'table_description': 'A core-banking file or court list head office sent (CORE_FILE or ENFORCEMENT_LIST), kept until the job'},
            bases=['Model'],
        ),
    ]
