"""Customers (客户) and households (户)."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import PartialIndex
from tortoise.models import Model

from domain.credit.classification import LoanClass
from domain.customers.enums import CustomerSource, Placement, Sex
from models.grid import GridNode
from models.staff import Staff


class Household(Model):
    """A household (户) in a village, credit lines are granted per household."""

    id = fields.IntField(primary_key=True)
    village: fields.ForeignKeyRelation[GridNode] = fields.ForeignKeyField(
        "palmcredit.GridNode", related_name="households", on_delete=fields.RESTRICT
    )
    address = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "household"
        indexes = (("village_id",),)


class Customer(Model):
    """A person the bank serves. id_number is the 18-digit resident ID (GB 11643), birth date and sex are
    derived from it. tags is stored as ,tag1,tag2, so that a tag filter is a portable LIKE.

    loan_balance, credit_line and loan_class are a projection, not a source: the loan records own those facts
    (docs/architecture.md, "Who owns which fact"). They are kept on the customer row because every grid page,
    filter and KPI roll-up reads them; only the projection step writes them."""

    id = fields.IntField(primary_key=True)
    id_number = fields.CharField(max_length=18, unique=True)
    name = fields.CharField(max_length=64, db_index=True)
    birth_date = fields.DateField()
    sex = fields.CharEnumField(Sex, max_length=8)
    phone = fields.CharField(max_length=11, null=True, db_index=True)
    address = fields.CharField(max_length=255, default="")
    lon = fields.FloatField(null=True)
    lat = fields.FloatField(null=True)
    village: fields.ForeignKeyNullableRelation[GridNode] = fields.ForeignKeyField(
        "palmcredit.GridNode", related_name="customers", null=True, on_delete=fields.RESTRICT
    )
    household: fields.ForeignKeyNullableRelation[Household] = fields.ForeignKeyField(
        "palmcredit.Household", related_name="members", null=True, on_delete=fields.SET_NULL
    )
    is_household_head = fields.BooleanField(default=False, description="户主")
    manager: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="customers", null=True, on_delete=fields.SET_NULL
    )
    deposit_balance = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    # the credit projection (see the docstring): outstanding principal, 授信额度, worst 五级分类 of their loans
    loan_balance = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    credit_line = fields.DecimalField(max_digits=16, decimal_places=2, default=0, description="授信额度")
    loan_class = fields.CharEnumField(LoanClass, max_length=16, null=True, description="五级分类")
    placement = fields.CharEnumField(Placement, max_length=16, default=Placement.MANUAL)
    needs_placement = fields.BooleanField(default=False, description="new or moved since the last assignment")
    has_ebanking = fields.BooleanField(default=False)
    has_third_party_payment = fields.BooleanField(default=False)
    has_social_security_card = fields.BooleanField(default=False)
    tags = fields.CharField(max_length=500, default=",")
    source = fields.CharEnumField(CustomerSource, max_length=16)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "customer"
        indexes = (
            ("village_id", "name"),
            ("manager_id",),
            ("household_id",),
            # only the few customers waiting for placement: an update that leaves the flag off, as almost all
            # do (an assignment run writing a million rows, the nightly balance sync), never touches it
            PartialIndex(fields=("id",), condition={"needs_placement": True}, name="customer_needs_placement_idx"),
        )
