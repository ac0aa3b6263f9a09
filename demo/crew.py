"""Who works on the demo book's applications and drawdowns, by post, as the planned staff are."""

from __future__ import annotations

from dataclasses import dataclass

from demo.staff import Staffing
from domain.access import Role


@dataclass(frozen=True)
class Crew:
    head_office: int  # decides the head-office tier (总行贷审会)
    presidents: tuple[int, ...]  # the branch president of each township, in township order
    investigators: tuple[tuple[int, frozenset[str]], ...]  # (staff id, product skills)
    approvers: tuple[int, ...]
    back_office: tuple[int, ...]
    outlet_of: dict[int, int]  # staff id: outlet id

    @classmethod
    def of(cls, staffing: Staffing) -> Crew:
        def holding(role: Role) -> tuple[int, ...]:
            return tuple(s.id for s in staffing.staff if role.value in s.roles)

        return cls(
            head_office=holding(Role.HEAD_OFFICE)[0],
            presidents=holding(Role.BRANCH_PRESIDENT),
            investigators=tuple(
                (s.id, frozenset(s.product_skills)) for s in staffing.staff if Role.CREDIT_INVESTIGATOR.value in s.roles
            ),
            approvers=holding(Role.APPROVER),
            back_office=holding(Role.BACK_OFFICE),
            outlet_of={s.id: s.outlet_id for s in staffing.staff},  # type: ignore[attr-defined]
        )

    def skilled_in(self, product_code: str) -> tuple[int, ...]:
        return tuple(staff_id for staff_id, skills in self.investigators if product_code in skills)

    def deciding(self, authority: Role, township: int, pick: float) -> int:
        """Who decides a tier of this authority for a village of the township; `pick` in [0, 1) chooses among
        the approvers."""
        if authority == Role.HEAD_OFFICE:
            return self.head_office
        if authority == Role.BRANCH_PRESIDENT:
            return self.presidents[township]
        return self.approvers[int(pick * len(self.approvers))]
