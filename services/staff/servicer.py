"""The StaffService RPCs: validate, call the repository or routing, map the result."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.runtime.dates import parse_date, rfc3339, today
from services.runtime.email_address import valid_email_address
from services.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from services.runtime.idempotency import run_once
from services.runtime.read_cache import ReadCache
from services.runtime.validation import (
    limit_text,
    require_id,
    require_known,
    require_text,
    timestamp_value,
)
from services.staff import repository, routing
from services.staff.absence_rpcs import AbsenceRpcs
from services.staff.attendance_rpcs import AttendanceRpcs
from services.staff.calendar_rpcs import CalendarRpcs
from services.staff.communication_log_rpcs import CommunicationLogRpcs
from services.staff.convert import (
    person_message,
    region_message,
    role_name,
    shift_message,
    tier_name,
    track_name,
)
from services.staff.leave_rpcs import LeaveRecordRpcs
from services.staff.models import IdempotencyRecord, OnCallShift, Person, PersonChange, Region
from services.staff.tracks import DEPARTMENT_MANAGER_LEVEL, LEVELS

# The longest chain of managers the directory follows before it calls the line a loop.
MAX_REPORTING_DEPTH = 32
_DEPARTMENT_ROLES = {
    staff_pb2.ROLE_DEPARTMENT_MANAGER,
    staff_pb2.ROLE_CUSTOMER_SERVICE_MANAGER,
    staff_pb2.ROLE_TECHNICAL_SERVICE_TEAM_LEAD,
    staff_pb2.ROLE_TECHNICAL_SERVICE_MANAGER,
    staff_pb2.ROLE_TECHNICAL_SERVICE_ENGINEER,
    staff_pb2.ROLE_DEPARTMENT_ASSISTANT,
    staff_pb2.ROLE_DEPARTMENT_CLERK,
    staff_pb2.ROLE_SENIOR_SUPPORT_ENGINEER,
}
_REGIONAL_ROLES = {
    staff_pb2.ROLE_CUSTOMER_SERVICE_MANAGER,
    staff_pb2.ROLE_TECHNICAL_SERVICE_MANAGER,
    staff_pb2.ROLE_TECHNICAL_SERVICE_ENGINEER,
}


class StaffServicer(
    CalendarRpcs,
    CommunicationLogRpcs,
    LeaveRecordRpcs,
    AttendanceRpcs,
    AbsenceRpcs,
    staff_pb2_grpc.StaffServiceServicer,
):
    """Organisation data, routing answers, the company calendar, leave and attendance."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # People and regions: read on nearly every workflow step, changed through Upsert*.
        self._directory = ReadCache()

    async def _person(self, person_id: str, session: AsyncSession, what: str = "person") -> Person:
        if not person_id:
            raise InvalidArgument(f"{what} id is required")
        person = await repository.get_person(person_id, session=session)
        if person is None:
            raise NotFound(f"{what} {person_id!r} is not in the staff directory")
        return person

    async def _refuse_reporting_loop(
        self, person_id: str, manager_id: str, session: AsyncSession
    ) -> None:
        """A reporting line must end at the top, or approvals routed up it never arrive."""
        current: str | None = manager_id
        for _ in range(MAX_REPORTING_DEPTH):
            if current is None:
                return
            if current == person_id:
                raise FailedPrecondition(
                    f"{manager_id} reports (directly or not) to {person_id}; "
                    "a reporting line cannot loop"
                )
            manager = await repository.get_person(current, session=session)
            current = manager.manager_id if manager else None
        raise FailedPrecondition(f"the reporting line above {manager_id} is deeper than allowed")

    async def GetPerson(
        self, request: staff_pb2.GetPersonRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.Person:
        async def load() -> staff_pb2.Person:
            async with self._sessions() as session:
                return person_message(await self._person(request.id, session))

        return await self._directory.read(("person", request.id), load)

    async def ListPeople(
        self, request: staff_pb2.ListPeopleRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.ListPeopleResponse:
        require_known(request.role, staff_pb2.Role.values(), "role")
        role = role_name(request.role) if request.role else ""

        async def load() -> staff_pb2.ListPeopleResponse:
            async with self._sessions() as session:
                people = await repository.list_people(
                    session=session, region_code=request.region_code, role=role
                )
                return staff_pb2.ListPeopleResponse(people=[person_message(p) for p in people])

        return await self._directory.read(("people", request.region_code, role), load)

    async def UpsertPerson(
        self, request: staff_pb2.UpsertPersonRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.Person:
        p = request.person
        require_id(p.id, "person id")
        require_text(p.name, "person name", limit=100)
        limit_text(p.email, "email", limit=200)
        limit_text(p.phone, "phone", limit=40)
        if not valid_email_address(p.email):
            raise InvalidArgument(f"email {p.email!r} is not an email address")
        require_known(p.role, staff_pb2.Role.values(), "role")
        require_known(p.track, staff_pb2.Track.values(), "track")
        if p.region_code:
            require_id(p.region_code, "region_code", length=40)
        if p.manager_id:
            require_id(p.manager_id, "manager_id")
        if p.role == staff_pb2.ROLE_UNSPECIFIED:
            raise InvalidArgument("role is required")
        if p.role in _DEPARTMENT_ROLES:
            if p.track == staff_pb2.TRACK_UNSPECIFIED:
                raise InvalidArgument("track is required for a member of the department (ORG-1)")
            if p.level not in LEVELS:
                raise InvalidArgument(f"level must be 1..16 on the ORG-1 tracks, not {p.level}")
            if (p.level == DEPARTMENT_MANAGER_LEVEL) != (
                p.role == staff_pb2.ROLE_DEPARTMENT_MANAGER
            ):
                raise InvalidArgument(
                    "level 16 is the department manager's level and only theirs (ORG-1)"
                )
        elif p.track != staff_pb2.TRACK_UNSPECIFIED or p.level:
            raise InvalidArgument("track and level apply only to members of this department")
        if p.role in _REGIONAL_ROLES and not p.region_code:
            raise InvalidArgument(
                f"a {role_name(p.role)} belongs to a region: region_code is required"
            )
        if p.manager_id == p.id:
            raise InvalidArgument("a person cannot be their own manager")
        attendance_from = (
            parse_date(p.attendance_from, "attendance_from") if p.attendance_from else None
        )
        # ORG-3 keeps who decided each change; the operators' tools name them.
        changed_by = (
            require_id(request.changed_by, "changed_by")
            if request.changed_by
            else ("directory-admin")
        )

        async def apply(session: AsyncSession) -> staff_pb2.Person:
            if (
                p.region_code
                and await repository.get_region(p.region_code, session=session) is None
            ):
                raise FailedPrecondition(
                    f"region {p.region_code!r} does not exist; create it first"
                )
            if p.manager_id:
                await self._person(p.manager_id, session, "manager")
                await self._refuse_reporting_loop(p.id, p.manager_id, session)
            existing = await repository.get_person(p.id, session=session)
            # Read before the merge below overwrites the loaded row.
            before = (
                {"role": existing.role, "track": existing.track, "level": str(existing.level)}
                if existing
                else {"role": "", "track": "", "level": ""}
            )
            if attendance_from is None:
                # Attendance is due from the day a person joins the directory, not before.
                attendance_from_day = existing.attendance_from if existing else None
            else:
                attendance_from_day = attendance_from
            row = await repository.save_person(
                Person(
                    attendance_from=attendance_from_day or today(),
                    id=p.id,
                    name=p.name.strip(),
                    email=p.email,
                    phone=p.phone,
                    role=role_name(p.role),
                    track=track_name(p.track),
                    level=p.level,
                    region_code=p.region_code or None,
                    manager_id=p.manager_id or None,
                    active=p.active if p.HasField("active") else True,
                ),
                session=session,
            )
            after = {"role": row.role, "track": row.track, "level": str(row.level)}
            now = datetime.now(UTC)
            for field in ("role", "track", "level"):
                if before[field] != after[field]:
                    session.add(
                        PersonChange(
                            person_id=p.id,
                            at=now,
                            field=field,
                            old=before[field],
                            new=after[field],
                            changed_by=changed_by,
                        )
                    )
            return person_message(row)

        try:
            return await run_once(
                self._sessions,
                IdempotencyRecord,
                key=request.idempotency_key,
                operation="UpsertPerson",
                request=request,
                response_type=staff_pb2.Person,
                apply=apply,
            )
        finally:
            # Whatever the outcome: clearing costs little, a stale answer much.
            self._directory.clear()

    async def GetPersonHistory(
        self, request: staff_pb2.GetPersonHistoryRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.PersonHistory:
        require_id(request.person_id, "person_id")
        async with self._sessions() as session:
            await self._person(request.person_id, session, "person")
            changes = await session.scalars(
                select(PersonChange)
                .where(PersonChange.person_id == request.person_id)
                .order_by(PersonChange.id)
            )
            return staff_pb2.PersonHistory(
                person_id=request.person_id,
                changes=[
                    staff_pb2.PersonChange(
                        person_id=c.person_id,
                        at=rfc3339(c.at),
                        field=c.field,
                        to=c.new,
                        changed_by=c.changed_by,
                        **{"from": c.old},
                    )
                    for c in changes
                ],
            )

    async def GetRegion(
        self, request: staff_pb2.GetRegionRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.Region:
        if not request.code:
            raise InvalidArgument("region code is required")

        async def load() -> staff_pb2.Region:
            async with self._sessions() as session:
                region = await repository.get_region(request.code, session=session)
                if region is None:
                    raise NotFound(f"region {request.code!r} does not exist")
                return region_message(region)

        return await self._directory.read(("region", request.code), load)

    async def ListRegions(
        self, request: staff_pb2.ListRegionsRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.ListRegionsResponse:
        async def load() -> staff_pb2.ListRegionsResponse:
            async with self._sessions() as session:
                regions = await repository.list_regions(session=session)
                return staff_pb2.ListRegionsResponse(regions=[region_message(r) for r in regions])

        return await self._directory.read(("regions",), load)

    async def UpsertRegion(
        self, request: staff_pb2.UpsertRegionRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.Region:
        r = request.region
        require_id(r.code, "region code", length=40)
        require_text(r.name, "region name", limit=100)
        require_known(r.tier, staff_pb2.RegionTier.values(), "tier")
        if r.tier == staff_pb2.REGION_TIER_UNSPECIFIED:
            raise InvalidArgument("region tier is required: tier-1, tier-2, other or head office")

        async def apply(session: AsyncSession) -> staff_pb2.Region:
            row = await repository.save_region(
                Region(code=r.code, name=r.name.strip(), tier=tier_name(r.tier)), session=session
            )
            return region_message(row)

        try:
            return await run_once(
                self._sessions,
                IdempotencyRecord,
                key=request.idempotency_key,
                operation="UpsertRegion",
                request=request,
                response_type=staff_pb2.Region,
                apply=apply,
            )
        finally:
            # Whatever the outcome: clearing costs little, a stale answer much.
            self._directory.clear()

    async def GetRegionManager(
        self, request: staff_pb2.GetRegionManagerRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.Person:
        if request.role not in (
            staff_pb2.ROLE_TECHNICAL_SERVICE_MANAGER,
            staff_pb2.ROLE_CUSTOMER_SERVICE_MANAGER,
        ):
            raise InvalidArgument("role must be the technical or the customer service manager")
        async with self._sessions() as session:
            await routing.require_region(request.region_code, session=session)
            manager = await routing.region_manager(
                request.region_code, role_name(request.role), session=session
            )
            if manager is None:
                raise NotFound(f"region {request.region_code!r} has no {role_name(request.role)}")
            return person_message(manager)

    async def ResolveLeaveApprover(
        self, request: staff_pb2.ResolveLeaveApproverRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.LeaveApproval:
        async with self._sessions() as session:
            person = await self._person(request.person_id, session)
            route = await routing.leave_approval(
                person,
                request.half_days,
                session=session,
                department_from_half_days=(
                    request.department_from_half_days or routing.DEPARTMENT_APPROVAL_FROM_HALF_DAYS
                ),
            )
            return staff_pb2.LeaveApproval(
                approvers=[person_message(p) for p in route.primary],
                cc=[person_message(p) for p in route.cc],
                rule_id=route.rule_id,
                clerk=person_message(route.clerk) if route.clerk else None,
            )

    async def ResolveMajorProblemRecipients(
        self,
        request: staff_pb2.ResolveMajorProblemRecipientsRequest,
        context: grpc.aio.ServicerContext,
    ) -> staff_pb2.MajorProblemRecipients:
        async with self._sessions() as session:
            route = await routing.major_problem_recipients(request.region_code, session=session)
            return staff_pb2.MajorProblemRecipients(
                owner=person_message(route.primary[0]), cc=[person_message(p) for p in route.cc]
            )

    async def ResolveAssistanceRoute(
        self, request: staff_pb2.ResolveAssistanceRouteRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.AssistanceRoute:
        async with self._sessions() as session:
            route = await routing.assistance_route(request.region_code, session=session)
            return staff_pb2.AssistanceRoute(
                coordinator=person_message(route.primary[0]),
                cc=[person_message(p) for p in route.cc],
            )

    async def AssignOnCall(
        self, request: staff_pb2.AssignOnCallRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.OnCallShift:
        if not request.HasField("starts_at") or not request.HasField("ends_at"):
            raise InvalidArgument("starts_at and ends_at are required")
        starts = timestamp_value(request.starts_at, "starts_at")
        ends = timestamp_value(request.ends_at, "ends_at")
        if ends <= starts:
            raise InvalidArgument("ends_at must be after starts_at")

        async def apply(session: AsyncSession) -> staff_pb2.OnCallShift:
            await routing.require_region(request.region_code, session=session)
            person = await self._person(request.person_id, session)
            if await repository.shift_starting(request.region_code, starts, session=session):
                raise FailedPrecondition(
                    f"region {request.region_code!r} already has a shift starting at "
                    f"{starts.isoformat()}; choose another start"
                )
            shift = await repository.add_on_call_shift(
                OnCallShift(
                    region_code=request.region_code,
                    person_id=person.id,
                    starts_at=starts,
                    ends_at=ends,
                ),
                session=session,
            )
            return shift_message(shift, person)

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="AssignOnCall",
            request=request,
            response_type=staff_pb2.OnCallShift,
            apply=apply,
        )

    async def GetOnCall(
        self, request: staff_pb2.GetOnCallRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.OnCallShift:
        at = timestamp_value(request.at, "at") if request.HasField("at") else datetime.now(UTC)
        async with self._sessions() as session:
            await routing.require_region(request.region_code, session=session)
            shift = await repository.on_call_at(request.region_code, at, session=session)
            if shift is None:
                raise NotFound(
                    f"no on-call shift covers {at.isoformat()} in region {request.region_code!r}"
                )
            person = await self._person(shift.person_id, session)
            return shift_message(shift, person)
