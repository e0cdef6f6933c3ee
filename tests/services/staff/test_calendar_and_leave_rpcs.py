"""Calendar and leave-record RPCs of the staff service, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import grpc
import pytest
from csd.staff.v1 import staff_pb2 as R
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from google.protobuf.timestamp_pb2 import Timestamp

from workflows.regulation import COMPANY_ZONE as SHANGHAI

AM, PM = R.HALF_OF_DAY_AM, R.HALF_OF_DAY_PM
staff_pb2 = R


async def test_counting_reports_an_unofficial_year(staff_stub: StaffServiceStub) -> None:
    official = await staff_stub.CountWorkingTime(
        R.CountWorkingTimeRequest(
            start=R.HalfDay(date="2026-02-13", half=AM), end=R.HalfDay(date="2026-02-14", half=PM)
        )
    )
    assert (official.half_days, official.official) == (4, True)
    later = await staff_stub.CountWorkingTime(
        R.CountWorkingTimeRequest(
            start=R.HalfDay(date="2028-03-01"), end=R.HalfDay(date="2028-03-03")
        )
    )
    assert (later.half_days, later.official, list(later.unofficial_years)) == (6, False, [2028])


async def test_a_published_year_changes_the_count_and_is_official(
    staff_stub: StaffServiceStub,
) -> None:
    request = R.CountWorkingTimeRequest(
        start=R.HalfDay(date="2028-02-07"), end=R.HalfDay(date="2028-02-19")
    )
    before = await staff_stub.CountWorkingTime(request)
    assert (
        await staff_stub.GetCalendarYear(R.GetCalendarYearRequest(year=2028))
    ).schedule == "statutory-only"
    published = await staff_stub.PublishCalendarYear(
        R.PublishCalendarYearRequest(
            idempotency_key="calendar-2028",
            year=2028,
            days_off=["2028-02-14", "2028-02-15"],
            workdays=["2028-02-19"],
            source="State Council notice 2027-11 (test)",
        )
    )
    assert published.schedule == "company"
    after = await staff_stub.CountWorkingTime(request)
    assert after.official and after.half_days == before.half_days - 4 + 2
    day = await staff_stub.GetCalendarDay(R.GetCalendarDayRequest(date="2028-02-19"))
    assert day.working and day.official
    stored = await staff_stub.GetCalendarYear(R.GetCalendarYearRequest(year=2028))
    assert list(stored.workdays) == ["2028-02-19"]
    # A corrected notice replaces the first one.
    await staff_stub.PublishCalendarYear(
        R.PublishCalendarYearRequest(
            idempotency_key="calendar-2028-corrected",
            year=2028,
            days_off=["2028-02-14"],
            source="corrected",
        )
    )
    corrected = await staff_stub.GetCalendarYear(R.GetCalendarYearRequest(year=2028))
    assert (list(corrected.days_off), list(corrected.workdays)) == (["2028-02-14"], [])


async def test_the_package_schedule_is_shown_for_a_known_year(staff_stub: StaffServiceStub) -> None:
    year = await staff_stub.GetCalendarYear(R.GetCalendarYearRequest(year=2026))
    assert year.schedule == "package"
    assert "2026-02-14" in year.workdays and "2026-02-17" in year.days_off


async def test_working_time_and_shifts(staff_stub: StaffServiceStub) -> None:
    friday_5pm_shanghai = Timestamp()
    friday_5pm_shanghai.FromDatetime(datetime(2026, 3, 6, 9, 0, tzinfo=UTC))
    moment = await staff_stub.AddWorkingTime(
        R.AddWorkingTimeRequest(**{"from": friday_5pm_shanghai}, minutes=120)
    )
    assert moment.at.ToDatetime(tzinfo=UTC) == datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # Mon 10:00
    shifted = await staff_stub.ShiftWorkingDays(
        R.ShiftWorkingDaysRequest(date="2026-10-01", days=0)
    )
    assert shifted.date == "2026-10-08"


def record(reference: str = "leave-zhao.lei-2027-03-02", **changes: object) -> R.LeaveRecord:
    fields: dict[str, object] = {
        "reference": reference,
        "person_id": "zhao.lei",
        "leave_type": "annual",
        "start": R.HalfDay(date="2027-03-02", half=AM),
        "end": R.HalfDay(date="2027-03-03", half=PM),
        "half_days": 4,
        "approved_by": "wang.qiang",
        "rule_id": "LV-1",
    }
    fields.update(changes)
    return R.LeaveRecord(**fields)  # type: ignore[arg-type]


async def test_leave_is_recorded_once_and_can_be_cancelled(
    demo_staff_stub: StaffServiceStub,
) -> None:
    request = R.RecordLeaveRequest(idempotency_key="leave-zhao.lei-2027-03-02", record=record())
    answers = await asyncio.gather(*(demo_staff_stub.RecordLeave(request) for _ in range(6)))
    assert all(a == answers[0] for a in answers)
    listed = await demo_staff_stub.ListLeaveRecords(
        R.ListLeaveRecordsRequest(person_id="zhao.lei", **{"from": "2027-03-03"}, to="2027-03-31")
    )
    assert [r.id for r in listed.records] == [answers[0].id]
    assert listed.records[0].leave_type == "annual"  # LV-5: the type is kept
    cancelled = await demo_staff_stub.CancelLeaveRecord(
        R.CancelLeaveRecordRequest(
            idempotency_key="cancel-1",
            reference="leave-zhao.lei-2027-03-02",
            reason="plans changed",
        )
    )
    assert cancelled.cancelled and cancelled.cancel_reason == "plans changed"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.CancelLeaveRecord(
            R.CancelLeaveRecordRequest(
                idempotency_key="cancel-2", reference="leave-zhao.lei-2027-03-02"
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_a_second_record_for_the_same_request_is_refused(
    demo_staff_stub: StaffServiceStub,
) -> None:
    await demo_staff_stub.RecordLeave(
        R.RecordLeaveRequest(idempotency_key="k-1", record=record("LV-X"))
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.RecordLeave(
            R.RecordLeaveRequest(idempotency_key="k-2", record=record("LV-X", half_days=2))
        )
    assert err.value.code() in (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION)
    listed = await demo_staff_stub.ListLeaveRecords(R.ListLeaveRecordsRequest(person_id="zhao.lei"))
    assert len(listed.records) == 1


async def test_leaving_out_active_does_not_deactivate(demo_staff_stub: StaffServiceStub) -> None:
    person = await demo_staff_stub.GetPerson(R.GetPersonRequest(id="ma.chao"))
    person.ClearField("active")
    person.title = ""
    updated = await demo_staff_stub.UpsertPerson(
        R.UpsertPersonRequest(idempotency_key="promote-ma.chao", person=person)
    )
    assert updated.active


async def test_a_reporting_line_cannot_loop(demo_staff_stub: StaffServiceStub) -> None:
    boss = await demo_staff_stub.GetPerson(R.GetPersonRequest(id="huang.aiping"))
    boss.manager_id = "shi.wenjun"  # who reports to huang.aiping
    boss.title = ""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.UpsertPerson(
            R.UpsertPersonRequest(idempotency_key="loop", person=boss)
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "loop" in (err.value.details() or "")


async def test_leave_threshold_comes_from_the_callers_rule_set(
    demo_staff_stub: StaffServiceStub,
) -> None:
    approval = await demo_staff_stub.ResolveLeaveApprover(
        R.ResolveLeaveApproverRequest(
            person_id="zhao.lei", half_days=4, department_from_half_days=4
        )
    )
    assert approval.rule_id == "LV-4"


def _stamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


async def test_the_leave_deadlines_are_exact_instants_from_the_rule_set(
    staff_stub: StaffServiceStub,
) -> None:
    """LV-1..LV-4: reminded 4 working hours after the request, escalated at 09:00 on the working
    day before the leave, and the instant the leave begins, all from the calendar."""
    # Submitted Thursday 2026-12-10 16:00 (+08:00); leave from Monday 14 December, afternoon.
    submitted = datetime(2026, 12, 10, 16, 0, tzinfo=SHANGHAI)
    deadlines = await staff_stub.GetLeaveDeadlines(
        staff_pb2.GetLeaveDeadlinesRequest(
            submitted_at=_stamp(submitted),
            start=staff_pb2.HalfDay(date="2026-12-14", half=staff_pb2.HALF_OF_DAY_PM),
            rule_version="2024-v1",
        )
    )
    local = {
        name: getattr(deadlines, name).ToDatetime(tzinfo=UTC).astimezone(SHANGHAI)
        for name in ("reminder_at", "escalate_at", "starts_at")
    }
    # 2 working hours left on Thursday, 2 more from 09:00 Friday.
    assert local["reminder_at"] == datetime(2026, 12, 11, 11, 0, tzinfo=SHANGHAI)
    assert local["escalate_at"] == datetime(2026, 12, 11, 9, 0, tzinfo=SHANGHAI)
    assert local["starts_at"] == datetime(2026, 12, 14, 13, 0, tzinfo=SHANGHAI)
    assert deadlines.official


async def test_an_escalation_never_falls_before_the_request(staff_stub: StaffServiceStub) -> None:
    submitted = datetime(2026, 12, 11, 15, 0, tzinfo=SHANGHAI)
    deadlines = await staff_stub.GetLeaveDeadlines(
        staff_pb2.GetLeaveDeadlinesRequest(
            submitted_at=_stamp(submitted),
            start=staff_pb2.HalfDay(date="2026-12-14", half=staff_pb2.HALF_OF_DAY_AM),
            rule_version="2024-v1",
        )
    )
    assert deadlines.escalate_at.ToDatetime(tzinfo=UTC) == submitted.astimezone(UTC).replace(
        tzinfo=UTC
    )


async def test_the_next_occurrence_of_a_cadence_follows_the_holidays(
    staff_stub: StaffServiceStub,
) -> None:
    # After Thursday 2026-10-01 (National Day): the RQ-2 syncs of Thursday 1 and Monday 5
    # October fall in the break, so the next is the first working day after it, Friday 9
    # October 10:00 (the 2026 schedule's make-up Saturday 10 October is later).
    after = datetime(2026, 9, 30, 12, 0, tzinfo=SHANGHAI)
    occurrence = await staff_stub.GetNextOccurrence(
        staff_pb2.GetNextOccurrenceRequest(
            cadence="rq2-requirement-sync", after=_stamp(after), rule_version="2024-v1"
        )
    )
    moment = occurrence.at.ToDatetime(tzinfo=UTC).astimezone(SHANGHAI)
    assert moment.hour == 10 and moment.date() > date(2026, 10, 7)
    assert moment.date().weekday() < 5 or moment.date() == date(2026, 10, 10)


@pytest.mark.parametrize(
    ("cadence", "version", "words"),
    [
        ("never", "2024-v1", "has no cadence 'never'; the cadences are"),
        ("rq2-requirement-sync", "1999-v0", "unknown rule set version '1999-v0'"),
    ],
)
async def test_a_question_about_an_unknown_cadence_or_rule_set_is_refused(
    staff_stub: StaffServiceStub, cadence: str, version: str, words: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await staff_stub.GetNextOccurrence(
            staff_pb2.GetNextOccurrenceRequest(
                cadence=cadence, after=_stamp(datetime.now(UTC)), rule_version=version
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in (err.value.details() or "")
