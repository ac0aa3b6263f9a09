"""The demo county's staff (演示员工): head office, the administrator, a president per branch, customer
managers sharing each township's villages, the credit factory at head office; and the one login per role
printed for whoever generated the county."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from faker import Faker

from demo.county import GridPlan
from domain.access import Role
from geo.demo_grid import COUNTY_NAME
from models import GridNode, Outlet, Staff
from resolvers.platform.auth import hash_password

DEMO_PASSWORD = "palm-demo-2026"  # noqa: S105 — printed for every demo user on purpose
WHOLE_BANK = "全行 / whole bank"
CENTRAL_STAFF = (
    (Role.CREDIT_INVESTIGATOR, "investigator", 6),
    (Role.APPROVER, "approver", 3),
    (Role.BACK_OFFICE, "backoffice", 3),
)
# The credit factory's investigators each handle a run of the products in this order, the most investigated
# first: investigator n from position 2(n − 1), as many as SKILL_COUNTS[n − 1], wrapping round, so that the
# first has the six most investigated products and every product has two or three investigators.
SKILLED_PRODUCTS = ("puhui", "liushui", "lianbao", "shimin", "cheyi", "dianshang", "fangdi", "zhengcun",
                    "cundan_zhiya")  # fmt: skip
SKILL_COUNTS = (6, 5, 4, 4, 3, 3)

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    scope: str


@dataclass(frozen=True)
class Staffing:
    staff: list[Staff]
    scope: list[tuple[int, int]]  # (staff id, grid node id)
    village_manager: Ints  # staff id of the customer manager of every village
    logins: tuple[DemoLogin, ...]


@dataclass
class _Roster:
    """Staff being hired, with ids in hiring order and the grid nodes each one works in."""

    faker: Faker
    password_hash: str
    staff: list[Staff] = field(default_factory=list)
    scope: list[tuple[int, int]] = field(default_factory=list)

    def hire(
        self, username: str, role: Role, outlet: Outlet, scope: Sequence[GridNode] = (), skills: Sequence[str] = ()
    ) -> Staff:
        member = Staff(
            id=len(self.staff) + 1,
            username=username,
            display_name=self.faker.name(),
            roles=[role.value],
            outlet_id=outlet.id,
            password_hash=self.password_hash,
            product_skills=list(skills),
        )
        self.staff.append(member)
        self.scope.extend((member.id, node.id) for node in scope)
        return member


def plan_staff(grid: GridPlan, outlets: list[Outlet], faker: Faker, rng: np.random.Generator) -> Staffing:
    """Head office and the administrator see the whole bank, a branch president their township, customer
    managers their villages; the credit factory (investigators, approvers, back office) works county-wide from
    the head office: its county-wide scope is what lets the assignment give an investigator an application
    taken at any branch, for the products they are skilled in (product_skills)."""
    roster = _Roster(faker, hash_password(DEMO_PASSWORD))
    head_office, branches = outlets[0], outlets[1:]
    roster.hire("head", Role.HEAD_OFFICE, head_office)
    roster.hire("admin", Role.ADMIN, head_office)
    presidents = [
        roster.hire(f"president{n:02d}", Role.BRANCH_PRESIDENT, branch, [township])
        for n, (township, branch) in enumerate(zip(grid.townships, branches, strict=True), 1)
    ]
    village_manager, managers = _hire_customer_managers(roster, grid, branches, rng)
    for role, prefix, count in CENTRAL_STAFF:
        for n in range(1, count + 1):
            skills = investigator_skills(n) if role == Role.CREDIT_INVESTIGATOR else ()
            roster.hire(f"{prefix}{n:02d}", role, head_office, [grid.county], skills)
    return Staffing(
        staff=roster.staff,
        scope=roster.scope,
        village_manager=village_manager,
        logins=_demo_logins(grid, presidents, managers, village_manager),
    )


def investigator_skills(number: int) -> tuple[str, ...]:
    """The product codes investigator `number` (1, 2 …) handles."""
    start, count = 2 * (number - 1), SKILL_COUNTS[(number - 1) % len(SKILL_COUNTS)]
    return tuple(SKILLED_PRODUCTS[(start + k) % len(SKILLED_PRODUCTS)] for k in range(count))


def _hire_customer_managers(
    roster: _Roster, grid: GridPlan, branches: list[Outlet], rng: np.random.Generator
) -> tuple[Ints, list[list[Staff]]]:
    """Two or three customer managers per township split its villages into neighbouring patches, so that every
    village has exactly one. Returns the manager of every village and each township's managers."""
    village_manager = np.zeros(len(grid.villages), dtype=np.int64)
    managers: list[list[Staff]] = []
    numbers = itertools.count(1)
    for township, branch in enumerate(branches):
        villages = np.flatnonzero(grid.village_township == township)
        team = min(int(rng.integers(2, 4)), len(villages))
        managers.append([])
        for patch in np.array_split(villages, team):
            scope = [grid.villages[v] for v in patch]
            manager = roster.hire(f"manager{next(numbers):03d}", Role.CUSTOMER_MANAGER, branch, scope)
            village_manager[patch] = manager.id
            managers[-1].append(manager)
    return village_manager, managers


def _demo_logins(
    grid: GridPlan, presidents: list[Staff], managers: list[list[Staff]], village_manager: Ints
) -> tuple[DemoLogin, ...]:
    """One login per role; the branch president and the customer manager are of the same township, the one
    with the most villages, so that a demo user can compare what each of them sees."""
    township = int(np.bincount(grid.village_township).argmax())
    name = grid.townships[township].name
    manager = managers[township][0]
    own = [grid.villages[v].name for v in np.flatnonzero(village_manager == manager.id)]
    return (
        DemoLogin(Role.HEAD_OFFICE, "head", WHOLE_BANK),
        DemoLogin(Role.ADMIN, "admin", WHOLE_BANK),
        DemoLogin(Role.BRANCH_PRESIDENT, presidents[township].username, name),
        DemoLogin(Role.CUSTOMER_MANAGER, manager.username, f"{name} {own[0]}等{len(own)}个村"),
        *(DemoLogin(role, f"{prefix}01", COUNTY_NAME) for role, prefix, _ in CENTRAL_STAFF),
    )
