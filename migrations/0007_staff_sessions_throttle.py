from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('palmcredit', '0006_chunk_timings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LoginPairThrottle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('login_name', fields.CharField(max_length=64)),
                ('address', fields.CharField(max_length=64)),
                ('failures', fields.IntField(default=0)),
                ('window_started', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('blocked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_pair_throttle', 'app': 'palmcredit', 'unique_together': (('login_name', 'address'),), 'pk_attr': 'id', 'table_description': 'Failed sign-ins with one login name from one client address in its current window, and until when that'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RevokedToken',
            fields=[
                ('jti', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('staff_id', fields.IntField()),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'revoked_token', 'app': 'palmcredit', 'pk_attr': 'jti', 'table_description': 'A token signed out before it expired (logout), by its token id (jti). Kept until the token would have'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Staff',
            name='must_change_password',
            field=fields.BooleanField(default=False, description='set by a password reset: until changed, a token only allows changing it'),
        ),
        ops.RemoveField(model_name='Staff', name='failed_logins'),
        ops.RemoveField(model_name='Staff', name='locked_until'),
    ]
