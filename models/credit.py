"""The credit factory's records (信贷工厂): applications (授信申请) with their history of steps and the decisions
evaluated on them, the credit-bureau summaries (征信) they are decided on, and the credit lines (授信额度) that
approval grants.

An application keeps the product version and file hash it started with; each decision record keeps the decision
file's version and hash, its inputs, outputs and the rules that fired, so it can be explained and replayed."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from domain.credit.classification import LoanClass
from domain.credit.drawdown_workflow import DrawdownState
from domain.credit.enums import GuaranteeType, RepaymentMethod
from domain.credit.workflow import ApplicationState
from models.customer import Customer
from models.grid import GridNode, Outlet
from models.staff import Staff


class CreditReport(Model):
    """A credit-bureau report summary (征信报告摘要) of a customer, imported from the bureau feed."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "palmcredit.Customer", related_name="credit_reports", on_delete=fields.RESTRICT
    )
    reported_on = fields.DateField()
    on_blacklist = fields.BooleanField(default=False, description="on a blacklist (黑名单)")
    current_overdue_amount = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    overdue_count_24m = fields.IntField(default=0)
    max_consecutive_overdue_24m = fields.IntField(default=0)
    loan_queries_3m = fields.IntField(default=0, description="lenders' enquiries in the last 3 months")
    credit_history_years = fields.IntField(default=0)
    total_debt = fields.DecimalField(max_digits=16, decimal_places=2, default=0, description="debts at all lenders")
    guarantees_count = fields.IntField(default=0, description="guarantees the customer has given")
    guarantees_amount = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    # figures imported beside the bureau's: QR-payment turnover from the acquiring system (收单流水:
    # qr_turnover_months, qr_monthly_turnover_avg), the car-loan repayment record (car_loan_on_time_months),
    # social-security contributions (social_security_months)
    feeds = fields.JSONField(default=dict)
    imported_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "credit_report"
        indexes = (("customer_id", "reported_on"),)


class CreditApplication(Model):
    """One application for a credit line (授信申请), from intake to the approval decision."""

    id = fields.IntField(primary_key=True)
    client_id = fields.CharField(max_length=64, description="the app's own id: a resend creates nothing twice")
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "palmcredit.Customer", related_name="applications", on_delete=fields.RESTRICT
    )
    village: fields.ForeignKeyNullableRelation[GridNode] = fields.ForeignKeyField(
        "palmcredit.GridNode", related_name="applications", null=True, on_delete=fields.RESTRICT
    )
    outlet: fields.ForeignKeyNullableRelation[Outlet] = fields.ForeignKeyField(
        "palmcredit.Outlet", related_name="applications", null=True, on_delete=fields.SET_NULL
    )
    marketer: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="marketed_applications", on_delete=fields.RESTRICT
    )
    investigator: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="investigated_applications", null=True, on_delete=fields.RESTRICT
    )
    product_code = fields.CharField(max_length=32)
    product_version = fields.IntField()
    product_sha256 = fields.CharField(max_length=64)
    amount = fields.DecimalField(max_digits=16, decimal_places=2, description="applied for, yuan")
    term_months = fields.IntField()
    repayment_method = fields.CharEnumField(RepaymentMethod, max_length=48)
    guarantee_type = fields.CharEnumField(GuaranteeType, max_length=16)
    purpose = fields.CharField(max_length=200, default="")
    collateral_value = fields.DecimalField(
        max_digits=16, decimal_places=2, null=True, description="the pledged deposit or appraised property, yuan"
    )
    state = fields.CharEnumField(ApplicationState, max_length=24)
    approval_tier = fields.IntField(null=True, description="the tier it waits at, 0 the first")
    tier_authority = fields.CharField(max_length=24, null=True, description="the role that decides that tier")
    approver_ids = fields.JSONField(default=list, description="who approved its earlier tiers")
    reviewer_ids = fields.JSONField(default=list, description="every approver who decided on it at any tier")
    refusal_reasons = fields.JSONField(default=list)
    rating_grade = fields.CharField(max_length=8, null=True)
    suggested_limit = fields.DecimalField(max_digits=16, decimal_places=2, null=True)
    recommended_limit = fields.DecimalField(max_digits=16, decimal_places=2, null=True)
    approved_limit = fields.DecimalField(max_digits=16, decimal_places=2, null=True)
    investigation = fields.JSONField(null=True, description="the investigator's report")
    version = fields.IntField(default=1)
    submitted_at = fields.DatetimeField()
    state_since = fields.DatetimeField()
    sla_due = fields.DatetimeField(null=True, description="when the current stage's SLA runs out")
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "credit_application"
        unique_together = (("marketer_id", "client_id"),)
        indexes = (
            ("state", "tier_authority"),
            ("investigator_id", "state"),
            ("village_id", "state"),
            ("customer_id",),
        )


class ApplicationEvent(Model):
    """One step of an application's state machine: which action, from and to which state, by whom, when."""

    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[CreditApplication] = fields.ForeignKeyField(
        "palmcredit.CreditApplication", related_name="events", on_delete=fields.CASCADE
    )
    action = fields.CharField(max_length=32)
    from_state = fields.CharField(max_length=24, null=True)
    to_state = fields.CharField(max_length=24)
    actor: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="application_events", null=True, on_delete=fields.RESTRICT
    )
    at = fields.DatetimeField()
    reason = fields.CharField(max_length=500, default="")
    detail = fields.JSONField(default=dict)

    class Meta:
        table = "credit_application_event"
        indexes = (("application_id", "id"),)


class DecisionRecord(Model):
    """A decision evaluated on an application, as evaluated: replayable years later."""

    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[CreditApplication] = fields.ForeignKeyField(
        "palmcredit.CreditApplication", related_name="decisions", on_delete=fields.CASCADE
    )
    stage = fields.CharField(max_length=32)
    decision = fields.CharField(max_length=32)
    version = fields.IntField()
    content_sha256 = fields.CharField(max_length=64)
    inputs = fields.JSONField()
    outputs = fields.JSONField()
    fired_rules = fields.JSONField(default=list)
    created_at = fields.DatetimeField()

    class Meta:
        table = "credit_decision_record"
        indexes = (("application_id", "id"),)


class CreditLine(Model):
    """A credit line (授信额度) granted by an approved application, drawn on within its validity."""

    id = fields.IntField(primary_key=True)
    application: fields.OneToOneRelation[CreditApplication] = fields.OneToOneField(
        "palmcredit.CreditApplication", related_name="line", on_delete=fields.RESTRICT
    )
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "palmcredit.Customer", related_name="lines", on_delete=fields.RESTRICT
    )
    product_code = fields.CharField(max_length=32)
    product_version = fields.IntField()
    amount = fields.DecimalField(max_digits=16, decimal_places=2)
    drawn = fields.DecimalField(max_digits=16, decimal_places=2, default=0, description="outstanding drawn")
    reserved = fields.DecimalField(
        max_digits=16, decimal_places=2, default=0, description="held by drawdowns not yet disbursed"
    )
    revolving = fields.BooleanField()
    valid_from = fields.DateField()
    valid_until = fields.DateField()
    status = fields.CharField(max_length=16, default="ACTIVE")
    created_at = fields.DatetimeField()

    class Meta:
        table = "credit_line"
        indexes = (("customer_id", "status"),)


class DecisionFileVersion(Model):
    """The exact text of every decision file version an evaluation ran on, by its SHA-256: what a replay years
    later runs again, after the file has been edited."""

    content_sha256 = fields.CharField(max_length=64, primary_key=True)
    decision = fields.CharField(max_length=32)
    version = fields.IntField()
    content = fields.TextField()
    first_used_at = fields.DatetimeField()

    class Meta:
        table = "credit_decision_file"


class Drawdown(Model):
    """A drawdown (用信) on a credit line: priced, contracted, signed, checked and disbursed."""

    id = fields.IntField(primary_key=True)
    client_id = fields.CharField(max_length=64)
    line: fields.ForeignKeyRelation[CreditLine] = fields.ForeignKeyField(
        "palmcredit.CreditLine", related_name="drawdowns", on_delete=fields.RESTRICT
    )
    requested_by: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="requested_drawdowns", on_delete=fields.RESTRICT
    )
    amount = fields.DecimalField(max_digits=16, decimal_places=2)
    term_months = fields.IntField()
    repayment_method = fields.CharEnumField(RepaymentMethod, max_length=48)
    repayment_day = fields.IntField()
    annual_rate = fields.DecimalField(max_digits=8, decimal_places=6, description="from the pricing decision")
    value_date = fields.DateField(description="the contract's date: interest runs from it")
    state = fields.CharEnumField(DrawdownState, max_length=16)
    contract_number = fields.CharField(max_length=32, unique=True)
    contract_sha256 = fields.CharField(max_length=64)
    contract_pages = fields.IntField()
    signed_at = fields.DatetimeField(null=True)
    signature = fields.JSONField(null=True, description="signer, method, time, the identity check, the 双录 file")
    checker: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="checked_drawdowns", null=True, on_delete=fields.RESTRICT
    )
    disbursed_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="disbursed_drawdowns", null=True, on_delete=fields.RESTRICT
    )
    reason = fields.CharField(max_length=500, default="")
    version = fields.IntField(default=1)
    requested_at = fields.DatetimeField()
    state_since = fields.DatetimeField()

    class Meta:
        table = "credit_drawdown"
        unique_together = (("requested_by_id", "client_id"),)
        indexes = (("line_id", "state"), ("state",))


class Loan(Model):
    """A loan account (贷款账户) opened by a disbursement, with its repayment schedule."""

    id = fields.IntField(primary_key=True)
    drawdown: fields.OneToOneRelation[Drawdown] = fields.OneToOneField(
        "palmcredit.Drawdown", related_name="loan", on_delete=fields.RESTRICT
    )
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "palmcredit.Customer", related_name="loans", on_delete=fields.RESTRICT
    )
    product_code = fields.CharField(max_length=32)
    principal = fields.DecimalField(max_digits=16, decimal_places=2)
    outstanding_principal = fields.DecimalField(max_digits=16, decimal_places=2)
    annual_rate = fields.DecimalField(max_digits=8, decimal_places=6)
    term_months = fields.IntField()
    repayment_method = fields.CharEnumField(RepaymentMethod, max_length=48)
    disbursed_on = fields.DateField()
    maturity_date = fields.DateField()
    loan_class = fields.CharEnumField(LoanClass, max_length=16, description="五级分类")
    disbursed_at = fields.DatetimeField()

    class Meta:
        table = "loan"
        indexes = (("customer_id",),)


class LoanInstalment(Model):
    """One instalment of a loan's schedule, exact to the fen."""

    id = fields.IntField(primary_key=True)
    loan: fields.ForeignKeyRelation[Loan] = fields.ForeignKeyField(
        "palmcredit.Loan", related_name="instalments", on_delete=fields.CASCADE
    )
    number = fields.IntField()
    due_date = fields.DateField()
    principal = fields.DecimalField(max_digits=16, decimal_places=2)
    interest = fields.DecimalField(max_digits=16, decimal_places=2)
    total = fields.DecimalField(max_digits=16, decimal_places=2)
    closing_principal = fields.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        table = "loan_instalment"
        unique_together = (("loan_id", "number"),)


class DrawdownEvent(Model):
    """One step of a drawdown's state machine, by whom and when."""

    id = fields.IntField(primary_key=True)
    drawdown: fields.ForeignKeyRelation[Drawdown] = fields.ForeignKeyField(
        "palmcredit.Drawdown", related_name="events", on_delete=fields.CASCADE
    )
    action = fields.CharField(max_length=16)
    from_state = fields.CharField(max_length=16, null=True)
    to_state = fields.CharField(max_length=16)
    actor: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="drawdown_events", on_delete=fields.RESTRICT
    )
    at = fields.DatetimeField()
    reason = fields.CharField(max_length=500, default="")
    detail = fields.JSONField(default=dict)

    class Meta:
        table = "credit_drawdown_event"
        indexes = (("drawdown_id", "id"),)


class ContractDocument(Model):
    """An e-contract's PDF as issued, kept by its SHA-256: the document the customer signed, byte for byte."""

    content_sha256 = fields.CharField(max_length=64, primary_key=True)
    pdf = fields.BinaryField()
    pages = fields.IntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "credit_contract_document"


class Guarantee(Model):
    """A guarantee (保证) one customer gives for another's credit: who stands behind whom, for how much, on which
    application. Guarantees link households into chains and circles (担保链、担保圈), which risk control watches."""

    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[CreditApplication] = fields.ForeignKeyField(
        "palmcredit.CreditApplication", related_name="guarantees", on_delete=fields.CASCADE
    )
    guarantor: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "palmcredit.Customer", related_name="guarantees_given", on_delete=fields.RESTRICT
    )
    borrower: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "palmcredit.Customer", related_name="guarantees_received", on_delete=fields.RESTRICT
    )
    amount = fields.DecimalField(max_digits=16, decimal_places=2)
    status = fields.CharField(max_length=16, default="PROPOSED", description="PROPOSED, ACTIVE (line granted), ENDED")
    created_at = fields.DatetimeField()

    class Meta:
        table = "credit_guarantee"
        indexes = (("guarantor_id", "status"), ("borrower_id", "status"))


class LimitChange(Model):
    """A change to an approved credit line's amount (额度调整), made by one person and checked by another
    (maker-checker): the line keeps its amount until the change is confirmed."""

    id = fields.IntField(primary_key=True)
    line: fields.ForeignKeyRelation[CreditLine] = fields.ForeignKeyField(
        "palmcredit.CreditLine", related_name="limit_changes", on_delete=fields.CASCADE
    )
    from_amount = fields.DecimalField(max_digits=16, decimal_places=2)
    to_amount = fields.DecimalField(max_digits=16, decimal_places=2)
    reason = fields.CharField(max_length=500)
    maker: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="limit_changes_made", on_delete=fields.RESTRICT
    )
    checker: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "palmcredit.Staff", related_name="limit_changes_checked", null=True, on_delete=fields.RESTRICT
    )
    status = fields.CharField(max_length=16, default="PROPOSED", description="PROPOSED, CONFIRMED, REJECTED")
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "credit_limit_change"
        indexes = (("line_id", "status"),)
