"""Activities asking the staff service who is who and who gets what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio import activity

from activities.grpc_status import CALL_DEADLINE_SECONDS, call
from workflows.regulation import shown


@dataclass
class Contact:
    """A person as the workflows need them: how to reach them and in what role."""

    id: str
    name: str
    email: str
    phone: str
    role: str
    region_code: str = ""
    manager_id: str = ""


@dataclass
class ContactInput:
    person_id: str


@dataclass
class AssistanceRouteInput:
    region_code: str


@dataclass
class AssistanceRouteResult:
    coordinator: Contact
    cc: list[Contact] = field(default_factory=list)


@dataclass
class RegionInput:
    region_code: str


@dataclass
class PayrollInput:
    """Everyone active on the staff directory, for the monthly settlement (PAY-2)."""


@dataclass
class Payee:
    person_id: str
    region_code: str  # the region their allowances are booked to (ACC-1)


@dataclass
class ProjectsInput:
    """The hospital projects under maintenance (CL-1, CS-2, SV-1), every region."""


@dataclass
class ProjectView:
    code: str
    hospital: str
    region_code: str
    engineer_id: str


@dataclass
class MajorProblemRecipientsResult:
    owner: Contact
    cc: list[Contact] = field(default_factory=list)


def contact_from(person: staff_pb2.Person) -> Contact:
    return Contact(
        id=person.id,
        name=person.name,
        email=person.email,
        phone=person.phone,
        role=staff_pb2.Role.Name(person.role).removeprefix("ROLE_").lower(),
        region_code=person.region_code,
        manager_id=person.manager_id,
    )


class StaffActivities:
    """Read-only lookups in the staff directory."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = staff_pb2_grpc.StaffServiceStub(channel)

    @activity.defn(name="staff.get_contact")
    async def get_contact(self, input: ContactInput) -> Contact:
        person = await call(
            self._stub.GetPerson(
                staff_pb2.GetPersonRequest(id=input.person_id), timeout=CALL_DEADLINE_SECONDS
            )
        )
        return contact_from(person)

    @activity.defn(name="staff.payroll")
    async def payroll(self, input: PayrollInput) -> list[Payee]:
        """Every active person, department-wide staff booked to the head office region."""
        people = await call(
            self._stub.ListPeople(staff_pb2.ListPeopleRequest(), timeout=CALL_DEADLINE_SECONDS)
        )
        regions = await call(
            self._stub.ListRegions(staff_pb2.ListRegionsRequest(), timeout=CALL_DEADLINE_SECONDS)
        )
        head_office = next(
            (r.code for r in regions.regions if r.tier == staff_pb2.REGION_TIER_HEAD_OFFICE), ""
        )
        return [Payee(p.id, p.region_code or head_office) for p in people.people]

    @activity.defn(name="staff.projects_under_maintenance")
    async def projects_under_maintenance(self, input: ProjectsInput) -> list[ProjectView]:
        listed = await call(
            self._stub.ListProjects(staff_pb2.ListProjectsRequest(), timeout=CALL_DEADLINE_SECONDS)
        )
        return [
            ProjectView(p.code, p.hospital, p.region_code, p.engineer_id)
            for p in listed.projects
            if p.active
        ]

    @activity.defn(name="staff.resolve_major_problem_recipients")
    async def resolve_major_problem_recipients(
        self, input: RegionInput
    ) -> MajorProblemRecipientsResult:
        recipients = await call(
            self._stub.ResolveMajorProblemRecipients(
                staff_pb2.ResolveMajorProblemRecipientsRequest(region_code=input.region_code),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return MajorProblemRecipientsResult(
            owner=contact_from(recipients.owner), cc=[contact_from(p) for p in recipients.cc]
        )

    @activity.defn(name="staff.resolve_assistance_route")
    async def resolve_assistance_route(self, input: AssistanceRouteInput) -> AssistanceRouteResult:
        route = await call(
            self._stub.ResolveAssistanceRoute(
                staff_pb2.ResolveAssistanceRouteRequest(region_code=input.region_code),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return AssistanceRouteResult(
            coordinator=contact_from(route.coordinator), cc=[contact_from(p) for p in route.cc]
        )


@dataclass
class LeaveSpanInput:
    start_date: str
    start_half: str  # "am" | "pm"
    end_date: str
    end_half: str


@dataclass
class LeaveSpanResult:
    half_days: int
    official: bool
    unofficial_years: list[int] = field(default_factory=list)


@dataclass
class LeaveApprovalInput:
    person_id: str
    half_days: int
    department_from_half_days: int


@dataclass
class LeaveApprovalResult:
    rule_id: str
    approvers: list[Contact]
    cc: list[Contact]
    clerk: Contact
    department_managers: list[Contact]


@dataclass
class LeaveRecordInput:
    idempotency_key: str
    reference: str
    person_id: str
    leave_type: str
    start_date: str
    start_half: str
    end_date: str
    end_half: str
    half_days: int
    approved_by: str
    rule_id: str


@dataclass
class LeaveRecordResult:
    record_id: str
    recorded_at: str


@dataclass
class CancelLeaveRecordInput:
    idempotency_key: str
    reference: str
    reason: str


def half_of_day(half: str) -> staff_pb2.HalfOfDay.ValueType:
    return staff_pb2.HALF_OF_DAY_PM if half == "pm" else staff_pb2.HALF_OF_DAY_AM


class LeaveActivities:
    """The staff service's answers and records for the leave process (LV-1..LV-5)."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = staff_pb2_grpc.StaffServiceStub(channel)

    @activity.defn(name="staff.count_leave")
    async def count_leave(self, input: LeaveSpanInput) -> LeaveSpanResult:
        span = await call(
            self._stub.CountWorkingTime(
                staff_pb2.CountWorkingTimeRequest(
                    start=staff_pb2.HalfDay(
                        date=input.start_date, half=half_of_day(input.start_half)
                    ),
                    end=staff_pb2.HalfDay(date=input.end_date, half=half_of_day(input.end_half)),
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return LeaveSpanResult(span.half_days, span.official, list(span.unofficial_years))

    @activity.defn(name="staff.resolve_leave_approval")
    async def resolve_leave_approval(self, input: LeaveApprovalInput) -> LeaveApprovalResult:
        approval = await call(
            self._stub.ResolveLeaveApprover(
                staff_pb2.ResolveLeaveApproverRequest(
                    person_id=input.person_id,
                    half_days=input.half_days,
                    department_from_half_days=input.department_from_half_days,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        managers = await call(
            self._stub.ListPeople(
                staff_pb2.ListPeopleRequest(role=staff_pb2.ROLE_DEPARTMENT_MANAGER),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return LeaveApprovalResult(
            rule_id=approval.rule_id,
            approvers=[contact_from(p) for p in approval.approvers],
            cc=[contact_from(p) for p in approval.cc],
            clerk=contact_from(approval.clerk),
            department_managers=[contact_from(p) for p in managers.people],
        )

    @activity.defn(name="staff.record_leave")
    async def record_leave(self, input: LeaveRecordInput) -> LeaveRecordResult:
        record = await call(
            self._stub.RecordLeave(
                staff_pb2.RecordLeaveRequest(
                    idempotency_key=input.idempotency_key,
                    record=staff_pb2.LeaveRecord(
                        reference=input.reference,
                        person_id=input.person_id,
                        leave_type=input.leave_type,
                        start=staff_pb2.HalfDay(
                            date=input.start_date, half=half_of_day(input.start_half)
                        ),
                        end=staff_pb2.HalfDay(
                            date=input.end_date, half=half_of_day(input.end_half)
                        ),
                        half_days=input.half_days,
                        approved_by=input.approved_by,
                        rule_id=input.rule_id,
                    ),
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return LeaveRecordResult(record_id=record.id, recorded_at=record.recorded_at)

    @activity.defn(name="staff.cancel_leave_record")
    async def cancel_leave_record(self, input: CancelLeaveRecordInput) -> LeaveRecordResult:
        record = await call(
            self._stub.CancelLeaveRecord(
                staff_pb2.CancelLeaveRecordRequest(
                    idempotency_key=input.idempotency_key,
                    reference=input.reference,
                    reason=input.reason,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return LeaveRecordResult(record_id=record.id, recorded_at=record.recorded_at)


def _stamp(rfc3339: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(rfc3339).astimezone(UTC))
    return stamp


def _shown(stamp: Timestamp) -> str:
    return shown(stamp.ToDatetime(tzinfo=UTC))


@dataclass
class WorkingTimeInput:
    start: str  # RFC 3339
    minutes: int


@dataclass
class WorkingTimeResult:
    at: str  # RFC 3339, Asia/Shanghai
    official: bool


@dataclass
class LeaveDeadlinesInput:
    submitted_at: str  # RFC 3339
    start_date: str  # YYYY-MM-DD
    start_half: str  # "am" | "pm"
    rule_version: str


@dataclass
class LeaveDeadlinesResult:
    reminder_at: str  # RFC 3339, Asia/Shanghai
    escalate_at: str
    starts_at: str
    official: bool


@dataclass
class NextOccurrenceInput:
    cadence: str  # a name from workflows/regulation/cadences.py
    after: str  # RFC 3339
    rule_version: str


@dataclass
class OccurrenceResult:
    at: str  # RFC 3339, Asia/Shanghai
    official: bool


@dataclass
class ShiftDayInput:
    day: str  # YYYY-MM-DD
    working_days: int  # 0: the day or the next working one; n: the n-th working day after it


@dataclass
class ShiftedDayResult:
    day: str
    official: bool


@dataclass
class RoleInput:
    role: str  # e.g. "department_manager"
    region_code: str = ""


class CalendarActivities:
    """The company calendar's answers (exact instants) and people by role: one RPC each."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = staff_pb2_grpc.StaffServiceStub(channel)

    @activity.defn(name="staff.add_working_time")
    async def add_working_time(self, input: WorkingTimeInput) -> WorkingTimeResult:
        moment = await call(
            self._stub.AddWorkingTime(
                staff_pb2.AddWorkingTimeRequest(
                    **{"from": _stamp(input.start)}, minutes=input.minutes
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return WorkingTimeResult(_shown(moment.at), moment.official)

    @activity.defn(name="staff.leave_deadlines")
    async def leave_deadlines(self, input: LeaveDeadlinesInput) -> LeaveDeadlinesResult:
        deadlines = await call(
            self._stub.GetLeaveDeadlines(
                staff_pb2.GetLeaveDeadlinesRequest(
                    submitted_at=_stamp(input.submitted_at),
                    start=staff_pb2.HalfDay(
                        date=input.start_date, half=half_of_day(input.start_half)
                    ),
                    rule_version=input.rule_version,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return LeaveDeadlinesResult(
            reminder_at=_shown(deadlines.reminder_at),
            escalate_at=_shown(deadlines.escalate_at),
            starts_at=_shown(deadlines.starts_at),
            official=deadlines.official,
        )

    @activity.defn(name="staff.next_occurrence")
    async def next_occurrence(self, input: NextOccurrenceInput) -> OccurrenceResult:
        occurrence = await call(
            self._stub.GetNextOccurrence(
                staff_pb2.GetNextOccurrenceRequest(
                    cadence=input.cadence,
                    after=_stamp(input.after),
                    rule_version=input.rule_version,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return OccurrenceResult(_shown(occurrence.at), occurrence.official)

    @activity.defn(name="staff.shift_working_days")
    async def shift_working_days(self, input: ShiftDayInput) -> ShiftedDayResult:
        shifted = await call(
            self._stub.ShiftWorkingDays(
                staff_pb2.ShiftWorkingDaysRequest(date=input.day, days=input.working_days),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return ShiftedDayResult(shifted.date, shifted.official)

    @activity.defn(name="staff.people_in_role")
    async def people_in_role(self, input: RoleInput) -> list[Contact]:
        people = await call(
            self._stub.ListPeople(
                staff_pb2.ListPeopleRequest(
                    role=staff_pb2.Role.Value("ROLE_" + input.role.upper()),
                    region_code=input.region_code,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return [contact_from(p) for p in people.people]
