"""The calendar RPCs of the staff service: working days, working time, the loaded schedules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import grpc
from csd.staff.v1 import staff_pb2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.runtime.dates import parse_date
from services.runtime.errors import InvalidArgument
from services.runtime.idempotency import run_once
from services.runtime.validation import limit_text, require_known, timestamp_value
from services.staff import calendar_repository
from services.staff.cadence import next_occurrence
from services.staff.calendar import MAX_SPAN_DAYS, MORNING, CompanyCalendar, Half, HalfDay
from services.staff.convert import timestamp
from services.staff.models import IdempotencyRecord
from workflows import regulation

# A week of working time is plenty for any SLA or reminder the rules set.
MAX_WORKING_MINUTES = 60 * 24 * 30
# A published year's schedule lists holidays and make-up days: a few dozen at most.
MAX_ADJUSTMENTS = 100


def half_day(message: staff_pb2.HalfDay, what: str, *, default: Half) -> HalfDay:
    """A HalfDay message; an unspecified half is the morning of a start, the afternoon of an end."""
    if not message.date:
        raise InvalidArgument(f"{what}.date is required (YYYY-MM-DD)")
    require_known(message.half, staff_pb2.HalfOfDay.values(), f"{what}.half")
    half = {
        staff_pb2.HALF_OF_DAY_AM: Half.AM,
        staff_pb2.HALF_OF_DAY_PM: Half.PM,
    }.get(message.half, default)
    return HalfDay(parse_date(message.date, f"{what}.date"), half)


def half_day_message(value: HalfDay) -> staff_pb2.HalfDay:
    half = staff_pb2.HALF_OF_DAY_AM if value.half == Half.AM else staff_pb2.HALF_OF_DAY_PM
    return staff_pb2.HalfDay(date=value.day.isoformat(), half=half)


def _year(value: int) -> int:
    if not 1950 <= value <= 2200:
        raise InvalidArgument(f"year {value} is outside 1950..2200")
    return value


class CalendarRpcs:
    """Mixed into StaffServicer."""

    _sessions: async_sessionmaker[AsyncSession]

    async def _calendar(self) -> CompanyCalendar:
        async with self._sessions() as session:
            return CompanyCalendar(await calendar_repository.all_adjustments(session=session))

    async def GetCalendarDay(
        self, request: staff_pb2.GetCalendarDayRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.CalendarDay:
        day = parse_date(request.date, "date")
        calendar = await self._calendar()
        return staff_pb2.CalendarDay(
            date=day.isoformat(),
            working=calendar.is_working_day(day),
            holiday=calendar.holiday_name(day),
            official=calendar.official(day.year),
        )

    async def CountWorkingTime(
        self, request: staff_pb2.CountWorkingTimeRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.WorkingTime:
        start = half_day(request.start, "start", default=Half.AM)
        end = half_day(request.end, "end", default=Half.PM)
        try:
            span = (await self._calendar()).count(start, end)
        except ValueError as err:
            raise InvalidArgument(str(err)) from None
        return staff_pb2.WorkingTime(
            half_days=span.half_days, official=span.official, unofficial_years=span.unofficial_years
        )

    async def AddWorkingTime(
        self, request: staff_pb2.AddWorkingTimeRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.WorkingMoment:
        if not request.HasField("from"):
            raise InvalidArgument("from is required")
        if not 0 <= request.minutes <= MAX_WORKING_MINUTES:
            raise InvalidArgument(f"minutes must be 0..{MAX_WORKING_MINUTES}")
        moment = timestamp_value(getattr(request, "from"), "from")
        calendar = await self._calendar()
        try:
            at = calendar.add_working_hours(moment, request.minutes / 60)
        except (ValueError, OverflowError):
            raise InvalidArgument(
                f"{moment} plus {request.minutes} working minutes is past the calendar"
            ) from None
        official = calendar.official(moment.year) and calendar.official(at.year)
        return staff_pb2.WorkingMoment(at=timestamp(at.astimezone(UTC)), official=official)

    async def ShiftWorkingDays(
        self, request: staff_pb2.ShiftWorkingDaysRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.ShiftedDay:
        day = parse_date(request.date, "date")
        calendar = await self._calendar()
        try:
            shifted = calendar.shift_working_days(day, request.days)
        except (ValueError, OverflowError):
            raise InvalidArgument(f"cannot shift {day} by {request.days} working days") from None
        official = calendar.official(day.year) and calendar.official(shifted.year)
        return staff_pb2.ShiftedDay(date=shifted.isoformat(), official=official)

    async def GetLeaveDeadlines(
        self, request: staff_pb2.GetLeaveDeadlinesRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.LeaveDeadlines:
        if not request.HasField("submitted_at"):
            raise InvalidArgument("submitted_at is required")
        submitted = timestamp_value(request.submitted_at, "submitted_at")
        start = half_day(request.start, "start", default=Half.AM)
        rules = _rules(request.rule_version)
        if abs((start.day - submitted.date()).days) > MAX_SPAN_DAYS:
            raise InvalidArgument(
                f"a leave starting {start.day} is more than {MAX_SPAN_DAYS} days from the "
                "request: the calendar plans at most three years ahead"
            )
        calendar = await self._calendar()
        try:
            reminder = calendar.add_working_hours(
                submitted, rules.leave_reminder_after.total_seconds() / 3600
            )
            day_before = calendar.shift_working_days(
                start.day, -rules.leave_escalate_working_days_before
            )
        except (ValueError, OverflowError):
            raise InvalidArgument(
                f"the calendar cannot place a leave starting {start.day}"
            ) from None
        escalate = datetime.combine(day_before, MORNING[0], regulation.COMPANY_ZONE)
        official = all(calendar.official(y) for y in {submitted.year, start.day.year})
        return staff_pb2.LeaveDeadlines(
            reminder_at=timestamp(reminder.astimezone(UTC)),
            escalate_at=timestamp(max(escalate, submitted).astimezone(UTC)),
            starts_at=timestamp(start.starts_at().astimezone(UTC)),
            official=official,
        )

    async def GetNextOccurrence(
        self, request: staff_pb2.GetNextOccurrenceRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.Occurrence:
        if not request.HasField("after"):
            raise InvalidArgument("after is required")
        after = timestamp_value(request.after, "after")
        rules = _rules(request.rule_version)
        try:
            cadence = rules.cadence(request.cadence)
        except regulation.UnknownRule as err:
            names = ", ".join(c.name for c in rules.cadences)
            raise InvalidArgument(f"{err.message}; the cadences are {names}") from None
        calendar = await self._calendar()
        try:
            at = next_occurrence(cadence, after, calendar)
        except (ValueError, OverflowError):
            raise InvalidArgument(f"{cadence.name} has no occurrence after {after}") from None
        return staff_pb2.Occurrence(
            at=timestamp(at.astimezone(UTC)), official=calendar.official(at.year)
        )

    async def PublishCalendarYear(
        self, request: staff_pb2.PublishCalendarYearRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.CalendarYear:
        year = _year(request.year)
        source = limit_text(request.source.strip(), "source", limit=300)
        if not source:
            raise InvalidArgument("source is required: name the notice the schedule comes from")
        if len(request.days_off) + len(request.workdays) > MAX_ADJUSTMENTS:
            raise InvalidArgument(f"a year's schedule has at most {MAX_ADJUSTMENTS} days")
        days_off = {parse_date(d, "days_off") for d in request.days_off}
        workdays = {parse_date(d, "workdays") for d in request.workdays}
        for day in days_off | workdays:
            if day.year != year:
                raise InvalidArgument(f"{day} is not in {year}")
        if both := days_off & workdays:
            raise InvalidArgument(f"{min(both)} cannot be both a day off and a workday")

        async def apply(session: AsyncSession) -> staff_pb2.CalendarYear:
            await calendar_repository.replace_year(
                year,
                days_off=days_off,
                workdays=workdays,
                source=source,
                published_at=datetime.now(UTC),
                session=session,
            )
            return _year_message(year, days_off, workdays, source, "company")

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="PublishCalendarYear",
            request=request,
            response_type=staff_pb2.CalendarYear,
            apply=apply,
        )

    async def GetCalendarYear(
        self, request: staff_pb2.GetCalendarYearRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.CalendarYear:
        year = _year(request.year)
        async with self._sessions() as session:
            loaded = (await calendar_repository.all_adjustments(session=session)).get(year)
        if loaded is not None:
            return _year_message(year, loaded.days_off, loaded.workdays, loaded.source, "company")
        calendar = CompanyCalendar()
        if not calendar.official(year):
            return staff_pb2.CalendarYear(year=year, schedule="statutory-only")
        days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]
        days = [d for d in days if d.year == year]
        weekend_workdays = {d for d in days if d.weekday() >= 5 and calendar.is_working_day(d)}
        days_off = {d for d in days if d.weekday() < 5 and not calendar.is_working_day(d)}
        return _year_message(year, days_off, weekend_workdays, "holidays package", "package")


def _rules(version: str) -> regulation.RuleSet:
    try:
        return regulation.by_version(version)
    except regulation.UnknownRule as err:
        known = ", ".join(r.version for r in regulation.RULE_SETS)
        raise InvalidArgument(f"{err.message}; the rule sets are {known}") from None


def _year_message(
    year: int, days_off: set[date] | frozenset[date], workdays: set[date] | frozenset[date],
    source: str, schedule: str,
) -> staff_pb2.CalendarYear:  # fmt: skip
    return staff_pb2.CalendarYear(
        year=year,
        days_off=sorted(d.isoformat() for d in days_off),
        workdays=sorted(d.isoformat() for d in workdays),
        source=source,
        schedule=schedule,
    )
