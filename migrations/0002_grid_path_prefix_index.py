"""On PostgreSQL a plain b-tree index on ``grid_node.path`` serves ``LIKE 'prefix%'`` only under the C
collation; ``text_pattern_ops`` makes the subtree query use the index whatever the database's collation.
SQLite's LIKE prefix optimisation needs no extra index."""

from tortoise import migrations
from tortoise.migrations import operations as ops


async def create_prefix_index(apps, schema_editor):
    if schema_editor.DIALECT == "postgres":
        await schema_editor._run_sql(
            "CREATE INDEX IF NOT EXISTS grid_node_path_prefix_idx ON grid_node (path text_pattern_ops)"
        )


async def drop_prefix_index(apps, schema_editor):
    if schema_editor.DIALECT == "postgres":
        await schema_editor._run_sql("DROP INDEX IF EXISTS grid_node_path_prefix_idx")


class Migration(migrations.Migration):
    dependencies = [("palmcredit", "0001_initial")]

    operations = [ops.RunPython(create_prefix_index, drop_prefix_index)]
