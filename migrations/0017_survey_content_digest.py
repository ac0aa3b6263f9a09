from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("palmcredit", "0016_survey_corrections")]

    initial = False

    operations = [
        ops.AddField(
            model_name="HouseholdSurvey",
            name="content_sha256",
            field=fields.CharField(
                null=True,
                description="SHA-256 of what was last written (its version, writer and time aside), so a sheet sent again is known unchanged without reading the survey back (null: stored before it was kept)",
                max_length=64,
            ),
        ),
    ]
