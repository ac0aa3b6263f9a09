from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import PartialIndex

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0003_jobs_kpis_placement')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Customer',
            name=None,
            fields=['needs_placement'],
        ),
        ops.AddIndex(
            model_name='Customer',
            index=PartialIndex(fields=['id'], name='customer_needs_placement_idx', condition={'needs_placement': True}),
        ),
    ]
