"""Attendance in the staff service (AT-1, AT-2): daily reports and the clerk's import, checked
line by line and written whole or not at all; the month's sheet with leave excused; and the
occurrences of more than 8 working days without a report, each kept once."""

from __future__ import annotations

import grpc
import pytest
from csd.staff.v1 import staff_pb2 as R
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub

from tests.services.staff.test_staff_service import _person

# June 2026 before the Dragon Boat holiday (19 June): two plain working weeks.
FIRST_WEEK = ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05"]
SECOND_WEEK = ["2026-06-08", "2026-06-09", "2026-06-10", "2026-06-11", "2026-06-12"]
PERSON = "tracked.engineer"


@pytest.fixture
async def staff(demo_staff_stub: StaffServiceStub) -> StaffServiceStub:
    """The demo directory with an engineer of east whose attendance is due from 1 June 2026."""
    await demo_staff_stub.UpsertPerson(
        R.UpsertPersonRequest(
            idempotency_key=f"hire-{PERSON}",
            person=_person(PERSON, attendance_from="2026-06-01"),
        )
    )
    return demo_staff_stub


def on_site(day: str, person: str = PERSON, **changes: object) -> R.AttendanceDay:
    fields: dict[str, object] = {
        "person_id": person,
        "date": day,
        "status": R.ATTENDANCE_STATUS_ON_SITE,
        "hospital": "上海第一醫院",
        "city": "Shanghai",
        "place_region_code": "east",
    }
    fields.update(changes)
    return R.AttendanceDay(**fields)  # type: ignore[arg-type]


async def report(staff: StaffServiceStub, day: R.AttendanceDay, key: str = "") -> R.AttendanceDay:
    answer: R.AttendanceDay = await staff.ReportAttendance(
        R.ReportAttendanceRequest(idempotency_key=key or f"{day.person_id}:{day.date}", day=day)
    )
    return answer


async def listed(staff: StaffServiceStub, person: str = PERSON) -> list[R.AttendanceDay]:
    answer = await staff.ListAttendance(
        R.ListAttendanceRequest(person_id=person, **{"from": "2026-01-01"}, to="2026-12-31")
    )
    return list(answer.days)


async def test_a_day_is_reported_and_a_correction_replaces_it(staff: StaffServiceStub) -> None:
    first = await report(staff, on_site("2026-06-01"))
    assert (first.source, first.reported_by, first.hospital) == ("report", PERSON, "上海第一醫院")
    corrected = await report(
        staff,
        on_site("2026-06-01", status=R.ATTENDANCE_STATUS_OFFICE, hospital="", city=""),
        key="correction",
    )
    assert corrected.status == R.ATTENDANCE_STATUS_OFFICE and corrected.place_region_code == ""
    assert [(d.date, d.status) for d in await listed(staff)] == [
        ("2026-06-01", R.ATTENDANCE_STATUS_OFFICE)
    ]


@pytest.mark.parametrize(
    ("day", "code", "words"),
    [
        (on_site("2099-01-05"), grpc.StatusCode.INVALID_ARGUMENT, "is in the future"),
        (on_site("2026-06-31"), grpc.StatusCode.INVALID_ARGUMENT, "not a date"),
        (
            on_site("2026-06-01", hospital=""),
            grpc.StatusCode.INVALID_ARGUMENT,
            "names the hospital",
        ),
        (
            on_site("2026-06-01", place_region_code=""),
            grpc.StatusCode.INVALID_ARGUMENT,
            "names place_region_code",
        ),
        (
            on_site("2026-06-01", status=R.ATTENDANCE_STATUS_UNSPECIFIED),
            grpc.StatusCode.INVALID_ARGUMENT,
            "status is required",
        ),
        (
            on_site("2026-06-01", place_region_code="atlantis"),
            grpc.StatusCode.FAILED_PRECONDITION,
            "'atlantis' is not a region",
        ),
        (
            on_site("2026-06-01", person="nobody.here"),
            grpc.StatusCode.FAILED_PRECONDITION,
            "not in the staff directory: nobody.here",
        ),
    ],
)
async def test_a_bad_report_is_refused_and_writes_nothing(
    staff: StaffServiceStub, day: R.AttendanceDay, code: grpc.StatusCode, words: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await report(staff, day)
    assert err.value.code() == code
    assert words in (err.value.details() or "")
    assert await listed(staff, day.person_id or PERSON) == []


HEADER = "person_id,date,status,hospital,city,place_region_code,note\n"


async def test_the_clerks_import_is_whole_or_refused_with_every_bad_line(
    staff: StaffServiceStub,
) -> None:
    bad = (
        HEADER
        + f"{PERSON},2026-06-01,on_site,上海第一醫院,Shanghai,east,\n"
        + f"{PERSON},2026-06-02,on_site,,Shanghai,east,\n"  # line 3: no hospital
        + f"{PERSON},2026-06-03,office,,,,\n"
        + f"{PERSON},2026-06-04,at_the_beach,,,,\n"  # line 5: no such status
        + f"{PERSON},2026-06-03,office,,,,\n"  # line 6: twice
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await staff.ImportAttendance(
            R.ImportAttendanceRequest(idempotency_key="hr-1", csv=bad, imported_by="zhou.min")
        )
    details = err.value.details() or ""
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "(3 bad lines)" in details
    assert "line 3: a day on site names the hospital" in details
    assert "line 5: status is required" in details and "line 6:" in details
    assert await listed(staff) == []

    good = HEADER + "".join(f"{PERSON},{d},office,,,,\n" for d in FIRST_WEEK)
    imported = await staff.ImportAttendance(
        R.ImportAttendanceRequest(idempotency_key="hr-2", csv=good, imported_by="zhou.min")
    )
    assert imported.days == 5
    days = await listed(staff)
    assert [d.date for d in days] == FIRST_WEEK
    assert {(d.source, d.reported_by) for d in days} == {("import", "zhou.min")}


async def test_the_sheet_counts_reports_and_approved_leave(staff: StaffServiceStub) -> None:
    for day in FIRST_WEEK:
        await report(staff, on_site(day))
    await staff.RecordLeave(
        R.RecordLeaveRequest(
            idempotency_key="leave-tracked",
            record=R.LeaveRecord(
                reference="leave-tracked-0608",
                person_id=PERSON,
                leave_type="annual",
                start=R.HalfDay(date="2026-06-08", half=R.HALF_OF_DAY_AM),
                end=R.HalfDay(date="2026-06-09", half=R.HALF_OF_DAY_PM),
                half_days=4,
                approved_by="wang.qiang",
                rule_id="LV-1",
            ),
        )
    )
    sheet = await staff.GetAttendanceSheet(
        R.GetAttendanceSheetRequest(person_id=PERSON, month="2026-06", as_of="2026-06-13")
    )
    assert [d.date for d in sheet.days] == FIRST_WEEK
    assert list(sheet.on_leave) == ["2026-06-08", "2026-06-09"]
    assert list(sheet.missing) == ["2026-06-10", "2026-06-11", "2026-06-12"]
    assert not sheet.complete
    assert sheet.working_days == 21  # June 2026: 22 weekdays less the Dragon Boat holiday


async def open_reports(staff: StaffServiceStub, as_of: str) -> list[R.MissingReportOccurrence]:
    answer = await staff.OpenMissingReports(
        R.OpenMissingReportsRequest(region_code="east", as_of=as_of, more_than=8)
    )
    return [o for o in answer.occurrences if o.person_id == PERSON]


async def test_more_than_8_working_days_without_a_report_is_one_occurrence_kept_once(
    staff: StaffServiceStub,
) -> None:
    # 8 working days missing are not yet an occurrence; 10 are.
    assert await open_reports(staff, "2026-06-11") == []
    [found] = await open_reports(staff, "2026-06-13")
    assert found.id == f"{PERSON}:2026-06-01"
    assert list(found.days) == FIRST_WEEK + SECOND_WEEK
    assert list(found.still_missing) == FIRST_WEEK + SECOND_WEEK
    # Looking again finds the same occurrence, not another.
    assert [o.id for o in await open_reports(staff, "2026-06-13")] == [found.id]

    # Filling in some days does not make the rest a new occurrence; filling in all closes it.
    for day in FIRST_WEEK:
        await report(staff, on_site(day))
    [again] = await open_reports(staff, "2026-06-13")
    assert again.id == found.id and list(again.still_missing) == SECOND_WEEK
    for day in SECOND_WEEK:
        await report(staff, on_site(day))
    assert await open_reports(staff, "2026-06-13") == []
    kept = await staff.GetMissingReportOccurrence(R.GetMissingReportOccurrenceRequest(id=found.id))
    assert list(kept.days) == FIRST_WEEK + SECOND_WEEK and list(kept.still_missing) == []


async def test_a_new_person_is_due_from_the_day_they_join(
    demo_staff_stub: StaffServiceStub,
) -> None:
    joined = await demo_staff_stub.UpsertPerson(
        R.UpsertPersonRequest(idempotency_key="hire-today", person=_person("joins.today"))
    )
    assert joined.attendance_from  # today, in Asia/Shanghai
    again = await demo_staff_stub.UpsertPerson(
        R.UpsertPersonRequest(idempotency_key="promote", person=_person("joins.today", level=2))
    )
    assert again.attendance_from == joined.attendance_from  # kept across an update
