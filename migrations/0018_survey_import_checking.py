from tortoise import migrations
from tortoise.migrations import operations as ops
from models.survey_imports import SurveyImportStatus
from tortoise import fields


class DescribeField(ops.AlterField):
    """A field whose description alone changes (here: the members its enum documents): the migration state
    follows the model, the database is left as it is. The column is a VARCHAR(16) before and after; an
    AlterField would rebuild survey_import on SQLite, and dropping the old table would set every survey's
    last_import to null."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:  # type: ignore[no-untyped-def]
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:  # type: ignore[no-untyped-def]
        return None


class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0017_bank_feed_files')]

    initial = False

    operations = [
        # CHECKING: a large sheet's dry run, checked by a job (the village_survey_check kind)
        DescribeField(
            model_name='SurveyImport',
            name='status',
            field=fields.CharEnumField(description='CHECKING: CHECKING\nDRY_RUN_DONE: DRY_RUN_DONE\nQUEUED: QUEUED\nRUNNING: RUNNING\nDONE: DONE\nFAILED: FAILED', enum_type=SurveyImportStatus, max_length=16),
        ),
    ]
