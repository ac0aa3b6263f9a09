"""The credit vocabulary as GraphQL enums, registered once: every credit type imports them from here, so each
enum has one definition in the schema whichever module the schema reads first."""

from __future__ import annotations

import strawberry

from domain.credit.drawdown_workflow import DrawdownAction as DrawdownActionModel
from domain.credit.drawdown_workflow import DrawdownState as DrawdownStateModel
from domain.credit.enums import GuaranteeType as GuaranteeTypeModel
from domain.credit.enums import RepaymentMethod as RepaymentMethodModel
from domain.credit.process import StageName
from domain.credit.workflow import Action as ActionModel
from domain.credit.workflow import ApplicationState as ApplicationStateModel

ApplicationState = strawberry.enum(ApplicationStateModel, name="ApplicationState", description="授信申请状态")
ApplicationAction = strawberry.enum(ActionModel, name="ApplicationAction", description="授信申请的操作")
RepaymentMethod = strawberry.enum(RepaymentMethodModel, name="RepaymentMethod", description="还款方式")
GuaranteeType = strawberry.enum(GuaranteeTypeModel, name="GuaranteeType", description="担保方式")
DrawdownState = strawberry.enum(DrawdownStateModel, name="DrawdownState", description="用信状态")
DrawdownAction = strawberry.enum(DrawdownActionModel, name="DrawdownAction", description="用信的操作")
ProcessStage = strawberry.enum(StageName, name="ProcessStage", description="信贷工厂的流程阶段")
