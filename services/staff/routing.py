"""The routing questions the workflows ask, answered from roles and reporting lines.

Nothing here names a person: every answer is found through roles, regions and managers, so the
organisation can change without touching a workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from services.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from services.staff import repository
from services.staff.models import Person

DEPARTMENT_MANAGER = "department_manager"
CUSTOMER_SERVICE_MANAGER = "customer_service_manager"
TEAM_LEAD = "technical_service_team_lead"
TECHNICAL_SERVICE_MANAGER = "technical_service_manager"
ASSISTANT = "department_assistant"
CLERK = "department_clerk"
RND_LEAD = "rnd_lead"
QUALITY_OFFICE = "quality_office"

# LV-4: three days or more go to a department manager. Leave is counted in half days. The
# leave workflow passes the threshold of its rule set (EF-1); this is the regulation's own.
DEPARTMENT_APPROVAL_FROM_HALF_DAYS = 6


@dataclass
class Route:
    """People a process goes to, with the rule that chose them."""

    primary: list[Person]
    cc: list[Person] = field(default_factory=list)
    rule_id: str = ""
    clerk: Person | None = None


def _distinct(people: list[Person], *, excluding: set[str] | None = None) -> list[Person]:
    seen = set(excluding or ())
    result = []
    for person in people:
        if person.id not in seen:
            seen.add(person.id)
            result.append(person)
    return result


async def _role(role: str, *, session: AsyncSession, region_code: str = "") -> list[Person]:
    return list(await repository.list_people(session=session, role=role, region_code=region_code))


async def _one_of_role(role: str, *, session: AsyncSession, what: str) -> Person:
    people = await _role(role, session=session)
    if not people:
        raise FailedPrecondition(
            f"nobody holds the role {role} ({what}); add one in the staff service"
        )
    return people[0]


async def region_manager(region_code: str, role: str, *, session: AsyncSession) -> Person | None:
    people = await _role(role, session=session, region_code=region_code)
    return people[0] if people else None


async def require_region(region_code: str, *, session: AsyncSession) -> None:
    if not region_code:
        raise InvalidArgument("region_code is required")
    if await repository.get_region(region_code, session=session) is None:
        raise NotFound(f"region {region_code!r} does not exist")


async def leave_approval(
    person: Person,
    half_days: int,
    *,
    session: AsyncSession,
    department_from_half_days: int = DEPARTMENT_APPROVAL_FROM_HALF_DAYS,
) -> Route:
    """LV-1, LV-3, LV-4: who decides this person's leave of `half_days` half days."""
    if half_days < 1:
        raise InvalidArgument("half_days must be at least 1 (leave is taken in half days)")
    if department_from_half_days < 1:
        raise InvalidArgument("department_from_half_days must be at least 1")
    managers = await _role(DEPARTMENT_MANAGER, session=session)
    clerk = await _one_of_role(CLERK, session=session, what="records leave")
    assistant = await _one_of_role(ASSISTANT, session=session, what="is copied on leave")
    region_tsm = (
        await region_manager(person.region_code, TECHNICAL_SERVICE_MANAGER, session=session)
        if person.region_code
        else None
    )
    mine = {person.id}
    if person.role in (TECHNICAL_SERVICE_MANAGER, CUSTOMER_SERVICE_MANAGER, DEPARTMENT_MANAGER):
        route = Route(_distinct(managers, excluding=mine), [clerk], "LV-3")
    elif half_days >= department_from_half_days:
        cc = [p for p in (region_tsm, clerk) if p is not None]
        route = Route(_distinct(managers, excluding=mine), _distinct(cc, excluding=mine), "LV-4")
    else:
        # LV-1 names the region's technical service manager; department-wide staff have no
        # region, so their reporting line stands in for it.
        approver = region_tsm
        if approver is None and person.manager_id:
            approver = await repository.get_person(person.manager_id, session=session)
        approvers = [approver] if approver is not None else managers
        route = Route(
            _distinct(approvers, excluding=mine),
            _distinct([*managers, assistant, clerk], excluding=mine),
            "LV-1",
        )
    if not route.primary:
        raise FailedPrecondition(
            f"no one but {person.id} could approve this leave ({route.rule_id}); "
            "add a department manager in the staff service"
        )
    route.cc = _distinct(route.cc, excluding={p.id for p in route.primary} | mine)
    route.clerk = clerk
    return route


async def major_problem_recipients(region_code: str, *, session: AsyncSession) -> Route:
    """MI-2: the problem owner, copied to R&D leads, quality office, managers, assistant, region."""
    await require_region(region_code, session=session)
    owner = await _one_of_role(TEAM_LEAD, session=session, what="owns major problems")
    cc: list[Person] = []
    for role in (RND_LEAD, QUALITY_OFFICE, DEPARTMENT_MANAGER, ASSISTANT):
        cc += await _role(role, session=session)
    for role in (TECHNICAL_SERVICE_MANAGER, CUSTOMER_SERVICE_MANAGER):
        cc += await _role(role, session=session, region_code=region_code)
    return Route([owner], _distinct(cc, excluding={owner.id}), "MI-2")


async def assistance_route(region_code: str, *, session: AsyncSession) -> Route:
    """XA-1: the assistant coordinates, copied to the region's two managers."""
    await require_region(region_code, session=session)
    assistant = await _one_of_role(ASSISTANT, session=session, what="coordinates assistance")
    cc: list[Person] = []
    for role in (TECHNICAL_SERVICE_MANAGER, CUSTOMER_SERVICE_MANAGER):
        cc += await _role(role, session=session, region_code=region_code)
    return Route([assistant], _distinct(cc, excluding={assistant.id}), "XA-1")
