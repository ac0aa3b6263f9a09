from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from domain.customers.enums import CustomerSource, Sex
from models.grid import GridLevel
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditLog',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('actor_id', fields.IntField(null=True, db_index=True)),
                ('actor_username', fields.CharField(default='', max_length=64)),
                ('action', fields.CharField(db_index=True, max_length=64)),
                ('target_type', fields.CharField(max_length=32)),
                ('target_id', fields.CharField(default='', max_length=64)),
                ('changes', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('request_id', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_log', 'app': 'palmcredit', 'indexes': [Index(fields=['target_type', 'target_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GridNode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('level', fields.CharEnumField(description='COUNTY: COUNTY\nTOWNSHIP: TOWNSHIP\nVILLAGE: VILLAGE\nGROUP: GROUP', enum_type=GridLevel, max_length=16)),
                ('name', fields.CharField(max_length=100)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('parent', fields.ForeignKeyField('palmcredit.GridNode', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
                ('path', fields.CharField(db_index=True, max_length=255)),
                ('depth', fields.SmallIntField()),
                ('polygon', fields.JSONField(null=True, description='GeoJSON geometry (villages and above)', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('centroid_lon', fields.FloatField(null=True)),
                ('centroid_lat', fields.FloatField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'grid_node', 'app': 'palmcredit', 'indexes': [Index(fields=['parent_id', 'code'])], 'pk_attr': 'id', 'table_description': 'One node of the grid.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Household',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('village', fields.ForeignKeyField('palmcredit.GridNode', source_field='village_id', db_constraint=True, to_field='id', related_name='households', on_delete=OnDelete.RESTRICT)),
                ('address', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'household', 'app': 'palmcredit', 'indexes': [Index(fields=['village_id'])], 'pk_attr': 'id', 'table_description': 'A household (户) in a village, credit lines are granted per household.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Outlet',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=100)),
                ('address', fields.CharField(default='', max_length=255)),
                ('covers', fields.ManyToManyField('palmcredit.GridNode', unique=True, db_constraint=True, through='outlet_coverage', forward_key='gridnode_id', backward_key='outlet_id', related_name='outlets', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'outlet', 'app': 'palmcredit', 'pk_attr': 'id', 'table_description': 'A bank outlet (网点) and the grid nodes it serves.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Staff',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('display_name', fields.CharField(max_length=64)),
                ('roles', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('outlet', fields.ForeignKeyField('palmcredit.Outlet', source_field='outlet_id', null=True, db_constraint=True, to_field='id', related_name='staff', on_delete=OnDelete.SET_NULL)),
                ('scope', fields.ManyToManyField('palmcredit.GridNode', unique=True, db_constraint=True, through='staff_scope', forward_key='gridnode_id', backward_key='staff_id', related_name='scoped_staff', on_delete=OnDelete.CASCADE)),
                ('is_active', fields.BooleanField(default=True)),
                ('password_hash', fields.CharField(max_length=255)),
                ('failed_logins', fields.SmallIntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('token_version', fields.IntField(default=0, description='bumped to revoke every token issued so far')),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'staff', 'app': 'palmcredit', 'pk_attr': 'id', 'table_description': 'A member of staff. roles holds role codes from domain.roles.Role, scope the grid nodes'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Customer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('id_number', fields.CharField(unique=True, max_length=18)),
                ('name', fields.CharField(db_index=True, max_length=64)),
                ('birth_date', fields.DateField()),
                ('sex', fields.CharEnumField(description='MALE: MALE\nFEMALE: FEMALE', enum_type=Sex, max_length=8)),
                ('phone', fields.CharField(null=True, db_index=True, max_length=11)),
                ('address', fields.CharField(default='', max_length=255)),
                ('lon', fields.FloatField(null=True)),
                ('lat', fields.FloatField(null=True)),
                ('village', fields.ForeignKeyField('palmcredit.GridNode', source_field='village_id', null=True, db_constraint=True, to_field='id', related_name='customers', on_delete=OnDelete.RESTRICT)),
                ('household', fields.ForeignKeyField('palmcredit.Household', source_field='household_id', null=True, db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.SET_NULL)),
                ('is_household_head', fields.BooleanField(default=False, description='户主')),
                ('manager', fields.ForeignKeyField('palmcredit.Staff', source_field='manager_id', null=True, db_constraint=True, to_field='id', related_name='customers', on_delete=OnDelete.SET_NULL)),
                ('deposit_balance', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('loan_balance', fields.DecimalField(default=0, max_digits=16, decimal_places=2)),
                ('has_ebanking', fields.BooleanField(default=False)),
                ('has_third_party_payment', fields.BooleanField(default=False)),
                ('has_social_security_card', fields.BooleanField(default=False)),
                ('tags', fields.CharField(default=',', max_length=500)),
                ('source', fields.CharEnumField(description='SURVEY: SURVEY\nCORE_BANKING: CORE_BANKING\nAPPLICATION: APPLICATION', enum_type=CustomerSource, max_length=16)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'customer', 'app': 'palmcredit', 'indexes': [Index(fields=['village_id', 'name']), Index(fields=['manager_id']), Index(fields=['household_id'])], 'pk_attr': 'id', 'table_description': 'A person the bank serves. id_number is the 18-digit resident ID (GB 11643), birth date and sex are'},
            bases=['Model'],
        ),
    ]
