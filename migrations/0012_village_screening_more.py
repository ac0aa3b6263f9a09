from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0011_village_screening')]

    initial = False

    operations = [
        ops.AddField(
            model_name='VillageCampaign',
            name='limit_decision',
            field=fields.CharField(default='village_limit', max_length=32),
        ),
        ops.AddField(
            model_name='VillageCampaign',
            name='screening_decision',
            field=fields.CharField(default='village_screening', max_length=32),
        ),
    ]
