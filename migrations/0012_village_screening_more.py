from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0011_village_screening')]

    initial = False

    # a bank's campaigns planned before campaigns named their decision pair are screened with the default pair:
    # the columns are added nullable, filled, then made required (PostgreSQL refuses a required column without
    # a value for the rows already there)
    operations = [
        ops.AddField(
            model_name='VillageCampaign',
            name='limit_decision',
            field=fields.CharField(default='village_limit', max_length=32, null=True),
        ),
        ops.AddField(
            model_name='VillageCampaign',
            name='screening_decision',
            field=fields.CharField(default='village_screening', max_length=32, null=True),
        ),
        ops.RunSQL(
            "UPDATE village_campaign SET limit_decision = 'village_limit' WHERE limit_decision IS NULL",
            reverse_sql="",
        ),
        ops.RunSQL(
            "UPDATE village_campaign SET screening_decision = 'village_screening' WHERE screening_decision IS NULL",
            reverse_sql="",
        ),
        ops.AlterField(
            model_name='VillageCampaign',
            name='limit_decision',
            field=fields.CharField(default='village_limit', max_length=32),
        ),
        ops.AlterField(
            model_name='VillageCampaign',
            name='screening_decision',
            field=fields.CharField(default='village_screening', max_length=32),
        ),
    ]
