from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0014_survey_imports')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='SurveyMember',
            name='survey',
            field=fields.ForeignKeyField('palmcredit.HouseholdSurvey', source_field='survey_id', db_index=True, db_constraint=True, to_field='id', related_name='member_rows', on_delete=OnDelete.CASCADE),
        ),
    ]
