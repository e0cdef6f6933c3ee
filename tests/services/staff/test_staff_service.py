"""The staff service over real gRPC, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from google.protobuf.timestamp_pb2 import Timestamp

from services.staff.demo import PEOPLE, REGIONS, load_demo

R = staff_pb2


def ids(people: object) -> list[str]:
    return sorted(p.id for p in people)  # type: ignore[attr-defined]


def stamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


async def test_demo_organisation_has_every_role_and_region(
    demo_staff_stub: StaffServiceStub,
) -> None:
    people = (await demo_staff_stub.ListPeople(R.ListPeopleRequest())).people
    regions = (await demo_staff_stub.ListRegions(R.ListRegionsRequest())).regions
    assert len(people) == len(PEOPLE)
    assert {r.code for r in regions} == {code for code, _, _ in REGIONS}
    roles = {p.role for p in people}
    assert roles == set(R.Role.values()) - {R.ROLE_UNSPECIFIED}
    tiers = {r.tier for r in regions}
    assert tiers == set(R.RegionTier.values()) - {R.REGION_TIER_UNSPECIFIED}


async def test_loading_the_demo_twice_changes_nothing(demo_staff_stub: StaffServiceStub) -> None:
    before = await demo_staff_stub.ListPeople(R.ListPeopleRequest())
    await load_demo(demo_staff_stub)
    after = await demo_staff_stub.ListPeople(R.ListPeopleRequest())
    assert before == after


async def test_person_carries_org1_title_and_reporting_line(
    demo_staff_stub: StaffServiceStub,
) -> None:
    person = await demo_staff_stub.GetPerson(R.GetPersonRequest(id="liu.yang"))
    assert person.title == "Intermediate Technical Service Engineer L5"
    assert person.manager_id == "wang.qiang"
    assert person.region_code == "east"


async def test_list_people_filters_by_region_and_role(demo_staff_stub: StaffServiceStub) -> None:
    response = await demo_staff_stub.ListPeople(
        R.ListPeopleRequest(region_code="east", role=R.ROLE_TECHNICAL_SERVICE_ENGINEER)
    )
    assert ids(response.people) == ["liu.yang", "zhao.lei"]


async def test_region_manager_lookup(demo_staff_stub: StaffServiceStub) -> None:
    tsm = await demo_staff_stub.GetRegionManager(
        R.GetRegionManagerRequest(region_code="north", role=R.ROLE_TECHNICAL_SERVICE_MANAGER)
    )
    assert tsm.id == "zhang.wei"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.GetRegionManager(
            R.GetRegionManagerRequest(region_code="southwest", role=R.ROLE_CUSTOMER_SERVICE_MANAGER)
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert "southwest" in (err.value.details() or "")


@pytest.mark.parametrize(
    ("person_id", "half_days", "rule", "approvers", "cc"),
    [
        # LV-1: half a day up to (not including) 3 days -> the region's TSM.
        (
            "zhao.lei",
            1,
            "LV-1",
            ["wang.qiang"],
            ["chen.jing", "huang.aiping", "jiang.chengzhao", "shi.wenjun"],
        ),
        (
            "zhao.lei",
            5,
            "LV-1",
            ["wang.qiang"],
            ["chen.jing", "huang.aiping", "jiang.chengzhao", "shi.wenjun"],
        ),
        # LV-4: 3 days or more -> department managers, cc the region's TSM and the clerk.
        ("zhao.lei", 6, "LV-4", ["huang.aiping", "jiang.chengzhao"], ["chen.jing", "wang.qiang"]),
        # LV-3: managers' leave -> department managers, whatever the length.
        ("wang.qiang", 1, "LV-3", ["huang.aiping", "jiang.chengzhao"], ["chen.jing"]),
        ("li.na", 10, "LV-3", ["huang.aiping", "jiang.chengzhao"], ["chen.jing"]),
        # A department manager is approved by the other one, never by themselves.
        ("jiang.chengzhao", 2, "LV-3", ["huang.aiping"], ["chen.jing"]),
        # Department-wide staff have no region: the reporting line stands in for the TSM.
        ("gao.lei", 2, "LV-1", ["jiang.chengzhao"], ["chen.jing", "huang.aiping", "shi.wenjun"]),
    ],
)
async def test_leave_approver_follows_the_tiers(
    demo_staff_stub: StaffServiceStub,
    person_id: str,
    half_days: int,
    rule: str,
    approvers: list[str],
    cc: list[str],
) -> None:
    approval = await demo_staff_stub.ResolveLeaveApprover(
        R.ResolveLeaveApproverRequest(person_id=person_id, half_days=half_days)
    )
    assert approval.rule_id == rule
    assert ids(approval.approvers) == approvers
    assert ids(approval.cc) == cc
    assert approval.clerk.id == "chen.jing"


async def test_major_problem_recipients_come_from_roles(demo_staff_stub: StaffServiceStub) -> None:
    recipients = await demo_staff_stub.ResolveMajorProblemRecipients(
        R.ResolveMajorProblemRecipientsRequest(region_code="east")
    )
    assert recipients.owner.id == "zhou.xiaoming"
    assert ids(recipients.cc) == sorted(
        [
            "lu.bingqing",
            "ye.kai",
            "fan.haidong",
            "lin.gong",  # R&D leads
            "zhang.bin",
            "pan.zhongdong",  # quality office
            "huang.aiping",
            "jiang.chengzhao",  # department managers
            "shi.wenjun",  # assistant
            "wang.qiang",
            "li.na",  # the region's managers
        ]
    )


async def test_assistance_route_is_the_assistant_cc_region_managers(
    demo_staff_stub: StaffServiceStub,
) -> None:
    route = await demo_staff_stub.ResolveAssistanceRoute(
        R.ResolveAssistanceRouteRequest(region_code="central")
    )
    assert route.coordinator.id == "shi.wenjun"
    assert ids(route.cc) == ["he.jun", "xu.li"]
    # A region without a customer service manager copies only its TSM.
    route = await demo_staff_stub.ResolveAssistanceRoute(
        R.ResolveAssistanceRouteRequest(region_code="southwest")
    )
    assert ids(route.cc) == ["yang.fan"]


async def test_on_call_shift_covers_its_hours_only(demo_staff_stub: StaffServiceStub) -> None:
    start = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    shift = await demo_staff_stub.AssignOnCall(
        R.AssignOnCallRequest(
            idempotency_key="oncall-east-2026-12-01",
            region_code="east",
            person_id="zhao.lei",
            starts_at=stamp(start),
            ends_at=stamp(start + timedelta(hours=12)),
        )
    )
    assert shift.person.id == "zhao.lei"
    found = await demo_staff_stub.GetOnCall(
        R.GetOnCallRequest(region_code="east", at=stamp(start + timedelta(hours=3)))
    )
    assert found.person.id == "zhao.lei"
    assert found.starts_at.ToDatetime(tzinfo=UTC) == start
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.GetOnCall(
            R.GetOnCallRequest(region_code="east", at=stamp(start + timedelta(hours=13)))
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def _person(person_id: str = "new.engineer", **changes: object) -> staff_pb2.Person:
    fields: dict[str, object] = {
        "id": person_id,
        "name": "New Engineer",
        "email": f"{person_id}@csd.example",
        "phone": "+86-139-1111-0000",
        "role": R.ROLE_TECHNICAL_SERVICE_ENGINEER,
        "track": R.TRACK_TECHNICAL_SERVICE,
        "level": 1,
        "region_code": "east",
        "manager_id": "wang.qiang",
        "active": True,
    }
    fields.update(changes)
    return staff_pb2.Person(**fields)  # type: ignore[arg-type]


async def test_upsert_retry_returns_the_first_result(demo_staff_stub: StaffServiceStub) -> None:
    request = R.UpsertPersonRequest(idempotency_key="hire-1", person=_person())
    first = await demo_staff_stub.UpsertPerson(request)
    second = await demo_staff_stub.UpsertPerson(request)
    assert first == second
    # The same key for a different change is refused, and the first change stands.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.UpsertPerson(
            R.UpsertPersonRequest(idempotency_key="hire-1", person=_person(level=2))
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "hire-1" in (err.value.details() or "")
    stored = await demo_staff_stub.GetPerson(R.GetPersonRequest(id="new.engineer"))
    assert stored.level == 1


@pytest.mark.faults
async def test_parallel_retries_write_one_change(demo_staff_stub: StaffServiceStub) -> None:
    request = R.AssignOnCallRequest(
        idempotency_key="oncall-race",
        region_code="north",
        person_id="sun.hao",
        starts_at=stamp(datetime(2027, 1, 1, tzinfo=UTC)),
        ends_at=stamp(datetime(2027, 1, 2, tzinfo=UTC)),
    )
    results = await asyncio.gather(
        *(demo_staff_stub.AssignOnCall(request) for _ in range(8)), return_exceptions=True
    )
    answers = [r for r in results if not isinstance(r, BaseException)]
    assert answers, results
    assert all(a == answers[0] for a in answers)
    # A different key for the same slot is refused, not a second row.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.AssignOnCall(
            R.AssignOnCallRequest(
                idempotency_key="oncall-race-2",
                region_code="north",
                person_id="sun.hao",
                starts_at=request.starts_at,
                ends_at=request.ends_at,
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "already has a shift" in (err.value.details() or "")


BAD_REQUESTS = [
    ("GetPerson", R.GetPersonRequest(id=""), grpc.StatusCode.INVALID_ARGUMENT),
    ("GetPerson", R.GetPersonRequest(id="nobody"), grpc.StatusCode.NOT_FOUND),
    ("GetRegion", R.GetRegionRequest(code=""), grpc.StatusCode.INVALID_ARGUMENT),
    ("GetRegion", R.GetRegionRequest(code="mars"), grpc.StatusCode.NOT_FOUND),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="", person=_person()),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="k1", person=_person("Bad Id")),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="k2", person=_person(email="nope")),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="k2b", person=_person(email="a@b..c")),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="k3", person=_person(level=17)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="k4", person=_person(level=16)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="k5", person=_person(region_code="")),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="k6", person=_person(region_code="mars")),
        grpc.StatusCode.FAILED_PRECONDITION,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="k7", person=_person(manager_id="ghost")),
        grpc.StatusCode.NOT_FOUND,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="k8", person=_person(role=R.ROLE_UNSPECIFIED)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="k9", person=_person(role=R.ROLE_RND_LEAD)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="x" * 201, person=_person()),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertRegion",
        R.UpsertRegionRequest(idempotency_key="r1", region=R.Region(code="west", name="West")),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertRegion",
        R.UpsertRegionRequest(
            idempotency_key="r2", region=R.Region(code="", name="X", tier=R.REGION_TIER_1)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "GetRegionManager",
        R.GetRegionManagerRequest(region_code="east", role=R.ROLE_SALES),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "GetRegionManager",
        R.GetRegionManagerRequest(region_code="mars", role=R.ROLE_TECHNICAL_SERVICE_MANAGER),
        grpc.StatusCode.NOT_FOUND,
    ),
    (
        "ResolveLeaveApprover",
        R.ResolveLeaveApproverRequest(person_id="zhao.lei", half_days=0),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ResolveLeaveApprover",
        R.ResolveLeaveApproverRequest(person_id="ghost", half_days=2),
        grpc.StatusCode.NOT_FOUND,
    ),
    (
        "ResolveMajorProblemRecipients",
        R.ResolveMajorProblemRecipientsRequest(region_code=""),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ResolveAssistanceRoute",
        R.ResolveAssistanceRouteRequest(region_code="mars"),
        grpc.StatusCode.NOT_FOUND,
    ),
    (
        "AssignOnCall",
        R.AssignOnCallRequest(idempotency_key="o1", region_code="east", person_id="zhao.lei"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "AssignOnCall",
        R.AssignOnCallRequest(
            idempotency_key="o2",
            region_code="east",
            person_id="zhao.lei",
            starts_at=stamp(datetime(2027, 1, 2, tzinfo=UTC)),
            ends_at=stamp(datetime(2027, 1, 1, tzinfo=UTC)),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "AssignOnCall",
        R.AssignOnCallRequest(
            idempotency_key="o3",
            region_code="east",
            person_id="ghost",
            starts_at=stamp(datetime(2027, 1, 1, tzinfo=UTC)),
            ends_at=stamp(datetime(2027, 1, 2, tzinfo=UTC)),
        ),
        grpc.StatusCode.NOT_FOUND,
    ),
    ("GetOnCall", R.GetOnCallRequest(region_code=""), grpc.StatusCode.INVALID_ARGUMENT),
    (
        "GetOnCall",
        R.GetOnCallRequest(region_code="east", at=Timestamp(seconds=-(10**12))),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    ("ListPeople", R.ListPeopleRequest(role=99), grpc.StatusCode.INVALID_ARGUMENT),  # type: ignore[arg-type]
    ("ListRegions", R.ListRegionsRequest(), None),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="e1", person=_person(role=99)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="e2", person=_person(track=77)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="e3", person=_person(name="x" * 101)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="e4", person=_person(phone="1" * 41)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertPerson",
        R.UpsertPersonRequest(idempotency_key="e5", person=_person(region_code="r" * 41)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertRegion",
        R.UpsertRegionRequest(
            idempotency_key="e6", region=R.Region(code="west", name="West", tier=9)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),  # type: ignore[arg-type]
    (
        "UpsertRegion",
        R.UpsertRegionRequest(
            idempotency_key="e7", region=R.Region(code="w" * 41, name="West", tier=R.REGION_TIER_1)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "AssignOnCall",
        R.AssignOnCallRequest(
            idempotency_key="o4",
            region_code="east",
            person_id="zhao.lei",
            starts_at=Timestamp(seconds=10**12),
            ends_at=Timestamp(seconds=10**12 + 1),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "GetCalendarDay",
        R.GetCalendarDayRequest(date="2026-02-30"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "CountWorkingTime",
        R.CountWorkingTimeRequest(start=R.HalfDay(date="2026-03-02")),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "CountWorkingTime",
        R.CountWorkingTimeRequest(
            start=R.HalfDay(date="2026-03-03"), end=R.HalfDay(date="2026-03-02")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "CountWorkingTime",
        R.CountWorkingTimeRequest(
            start=R.HalfDay(date="2026-03-02", half=7), end=R.HalfDay(date="2026-03-02")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),  # type: ignore[arg-type]
    (
        "CountWorkingTime",
        R.CountWorkingTimeRequest(
            start=R.HalfDay(date="2026-03-02"), end=R.HalfDay(date="2099-03-02")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    ("AddWorkingTime", R.AddWorkingTimeRequest(minutes=60), grpc.StatusCode.INVALID_ARGUMENT),
    (
        "AddWorkingTime",
        R.AddWorkingTimeRequest(**{"from": Timestamp(seconds=1_800_000_000)}, minutes=-1),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ShiftWorkingDays",
        R.ShiftWorkingDaysRequest(date="tomorrow", days=1),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ShiftWorkingDays",
        R.ShiftWorkingDaysRequest(date="2026-03-02", days=10**6),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "AddWorkingTime",  # issue 12: the calendar's end was an OverflowError
        R.AddWorkingTimeRequest(**{"from": Timestamp(seconds=253_402_200_000)}, minutes=60 * 24),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "GetLeaveDeadlines",
        R.GetLeaveDeadlinesRequest(
            start=R.HalfDay(date="2026-12-14"), rule_version="2024-v1"
        ),  # no submitted_at
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "GetLeaveDeadlines",
        R.GetLeaveDeadlinesRequest(
            submitted_at=Timestamp(seconds=1_790_000_000),
            start=R.HalfDay(date="9999-12-31"),
            rule_version="2024-v1",
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "GetLeaveDeadlines",
        R.GetLeaveDeadlinesRequest(
            submitted_at=Timestamp(seconds=1_790_000_000),
            start=R.HalfDay(date="2026-12-14"),
            rule_version="1999-v0",
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "GetNextOccurrence",
        R.GetNextOccurrenceRequest(cadence="rq2-requirement-sync", rule_version="2024-v1"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "GetNextOccurrence",
        R.GetNextOccurrenceRequest(
            cadence="mt9", after=Timestamp(seconds=1_790_000_000), rule_version="2024-v1"
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "PublishCalendarYear",
        R.PublishCalendarYearRequest(idempotency_key="c1", year=2027, source=""),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "PublishCalendarYear",
        R.PublishCalendarYearRequest(
            idempotency_key="c2", year=2027, source="notice", days_off=["2028-01-01"]
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "PublishCalendarYear",
        R.PublishCalendarYearRequest(
            idempotency_key="c3",
            year=2027,
            source="notice",
            days_off=["2027-02-11"],
            workdays=["2027-02-11"],
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "PublishCalendarYear",
        R.PublishCalendarYearRequest(idempotency_key="c4", year=3000, source="notice"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    ("GetCalendarYear", R.GetCalendarYearRequest(year=0), grpc.StatusCode.INVALID_ARGUMENT),
    (
        "RecordLeave",
        R.RecordLeaveRequest(
            idempotency_key="l1",
            record=R.LeaveRecord(
                reference="LV-1",
                person_id="zhao.lei",
                leave_type="personal",
                start=R.HalfDay(date="2027-03-02"),
                end=R.HalfDay(date="2027-03-02"),
                half_days=2,
                approved_by="wang.qiang",
                rule_id="XX-1",
            ),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "RecordLeave",
        R.RecordLeaveRequest(
            idempotency_key="l2",
            record=R.LeaveRecord(
                reference="LV-1",
                person_id="ghost",
                leave_type="personal",
                start=R.HalfDay(date="2027-03-02"),
                end=R.HalfDay(date="2027-03-02"),
                half_days=2,
                approved_by="wang.qiang",
                rule_id="LV-1",
            ),
        ),
        grpc.StatusCode.NOT_FOUND,
    ),
    (
        "RecordLeave",
        R.RecordLeaveRequest(
            idempotency_key="l3",
            record=R.LeaveRecord(
                reference="LV-1",
                person_id="zhao.lei",
                leave_type="",
                start=R.HalfDay(date="2027-03-02"),
                end=R.HalfDay(date="2027-03-02"),
                half_days=2,
                approved_by="wang.qiang",
                rule_id="LV-1",
            ),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "CancelLeaveRecord",
        R.CancelLeaveRecordRequest(idempotency_key="l4", reference="LV-none"),
        grpc.StatusCode.NOT_FOUND,
    ),
    (
        "ListLeaveRecords",
        R.ListLeaveRecordsRequest(to="31/12/2026"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ReportAttendance",
        R.ReportAttendanceRequest(
            idempotency_key="k",
            day=R.AttendanceDay(
                person_id="zhao.lei", date="2026-06-01", status=R.ATTENDANCE_STATUS_ON_SITE
            ),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ImportAttendance",
        R.ImportAttendanceRequest(idempotency_key="k", csv="no header", imported_by="zhou.min"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    ("ListAttendance", R.ListAttendanceRequest(), grpc.StatusCode.INVALID_ARGUMENT),
    (
        "GetAttendanceSheet",
        R.GetAttendanceSheetRequest(person_id="zhao.lei", month="2026-13"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "OpenMissingReports",
        R.OpenMissingReportsRequest(region_code="east", as_of="2026-06-13", more_than=0),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "GetMissingReportOccurrence",
        R.GetMissingReportOccurrenceRequest(id="nobody:2026-01-01"),
        grpc.StatusCode.NOT_FOUND,
    ),
    (
        "RecordAbsence",
        R.RecordAbsenceRequest(
            idempotency_key="k", person_id="zhao.lei", days=[], reference="SC-1", recorded_by="x"
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "CountAbsence",
        R.CountAbsenceRequest(person_id="zhao.lei", window_months=0),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "UpsertProject",
        R.UpsertProjectRequest(
            idempotency_key="k",
            project=R.Project(code="p1", hospital="x", region_code="east", engineer_id="li.na"),
        ),
        grpc.StatusCode.FAILED_PRECONDITION,  # li.na is no engineer: the log has no keeper
    ),
    (
        "ListProjects",
        R.ListProjectsRequest(region_code="East China"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "AppendLogEntry",
        R.AppendLogEntryRequest(
            idempotency_key="k",
            project_code="sh-first-hospital",
            entry=R.LogEntry(
                author_id="zhao.lei",
                contact_with="x",
                channel="fax",
                summary="y",
                contacted_on="2026-06-01",
            ),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ListLogEntries",
        R.ListLogEntriesRequest(project_code="sh-first-hospital", from_date="2026-13-01"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "GetPersonHistory",
        R.GetPersonHistoryRequest(person_id="Not An Id"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
]


def test_the_bad_input_matrix_covers_every_rpc() -> None:
    rpcs = set(R.DESCRIPTOR.services_by_name["StaffService"].methods_by_name)
    assert rpcs == {rpc for rpc, _, _ in BAD_REQUESTS}


@pytest.mark.parametrize(("rpc", "request_message", "code"), BAD_REQUESTS)
async def test_bad_input_gets_a_clear_status_and_writes_nothing(
    demo_staff_stub: StaffServiceStub,
    rpc: str,
    request_message: object,
    code: grpc.StatusCode | None,
) -> None:
    if code is None:
        pytest.skip(f"{rpc} takes no input that could be bad")
    before = await demo_staff_stub.ListPeople(R.ListPeopleRequest())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(demo_staff_stub, rpc)(request_message)
    assert err.value.code() == code
    assert err.value.details()
    assert "Traceback" not in (err.value.details() or "")
    assert await demo_staff_stub.ListPeople(R.ListPeopleRequest()) == before
