"""Grid KPIs, rolled up the hierarchy by a job and read per node without touching the customer table."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class GridKpi(Model):
    """The figures of one grid node (everything under it) for one period (YYYY-MM)."""

    id = fields.IntField(primary_key=True)
    node_id = fields.IntField()
    period = fields.CharField(max_length=7)
    computed_at = fields.DatetimeField()
    customers = fields.IntField(default=0)
    households = fields.IntField(default=0)
    households_with_credit = fields.IntField(default=0)
    deposit_balance = fields.DecimalField(max_digits=20, decimal_places=2, default=0)
    loan_balance = fields.DecimalField(max_digits=20, decimal_places=2, default=0)
    credit_line_total = fields.DecimalField(max_digits=20, decimal_places=2, default=0)
    ebanking = fields.IntField(default=0)
    third_party_payment = fields.IntField(default=0)
    social_security_card = fields.IntField(default=0)
    borrowers = fields.IntField(default=0)
    npl_borrowers = fields.IntField(default=0)
    npl_balance = fields.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        table = "grid_kpi"
        unique_together = (("node_id", "period"),)
