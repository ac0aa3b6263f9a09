"""Bank staff who sign in: their roles, outlet and grid scope."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.grid import GridNode, Outlet


class Staff(Model):
    """A member of staff. roles holds role codes from domain.roles.Role, scope the grid nodes
    whose subtrees they work in (empty for head office, who see everything)."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=64)
    roles = fields.JSONField(default=list)
    outlet: fields.ForeignKeyNullableRelation[Outlet] = fields.ForeignKeyField(
        "palmcredit.Outlet", related_name="staff", null=True, on_delete=fields.SET_NULL
    )
    scope: fields.ManyToManyRelation[GridNode] = fields.ManyToManyField(
        "palmcredit.GridNode", related_name="scoped_staff", through="staff_scope"
    )
    # null only on rows written before the credit factory (the migration then fills them with [])
    product_skills = fields.JSONField(default=list, null=True, description="credit products an investigator handles")
    is_active = fields.BooleanField(default=True)
    password_hash = fields.CharField(max_length=255)
    must_change_password = fields.BooleanField(
        default=False, description="set by a password reset: until changed, a token only allows changing it"
    )
    token_version = fields.IntField(default=0, description="bumped to revoke every token issued so far")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff"


class RevokedToken(Model):
    """A token signed out before it expired (logout), by its token id (jti). Kept until the token would have
    expired anyway; revoking all of someone's tokens bumps Staff.token_version instead."""

    jti = fields.CharField(max_length=64, primary_key=True)
    staff_id = fields.IntField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "revoked_token"
