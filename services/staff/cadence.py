"""The department's recurring occurrences (routine meetings, reports, emails) as rule data, and
their concrete dates and times with the company's holidays applied.

Each `Cadence` names a nominal day (every Wednesday, the 2nd of the month after a quarter, ...),
a local time in Asia/Shanghai and what happens when the nominal day is not a working day: the
occurrence moves to the previous or the next working day, or (for a deadline on a Sunday, which
is never a working day) stays where it is.

Pure: the working-day calendar is passed in, so the same answer comes from the same calendar.
Package holiday data changes between releases, so workflow code does not call this directly.
"""

from __future__ import annotations

import calendar as gregorian
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Literal

from services.runtime.dates import COMPANY_ZONE
from services.staff.calendar import MAX_SPAN_DAYS, CompanyCalendar

HolidayRule = Literal["previous", "next"]

MONDAY, WEDNESDAY, THURSDAY, FRIDAY, SUNDAY = 0, 2, 3, 4, 6
ALL_MONTHS = tuple(range(1, 13))
# More than a holiday ever moves an occurrence (the longest breaks, the Spring Festival and
# National Day with their weekends, are about ten days), so next_occurrence finds a nominal day
# before `after` whose occurrence a holiday moved past it.
_MAX_HOLIDAY_SHIFT = timedelta(days=31)
# Every cadence recurs at least once a quarter, so a year of nominal days always holds the next.
_NEXT_WINDOW = timedelta(days=366)


class Recurrence(Enum):
    """How a cadence's nominal days are chosen."""

    # Every `weekday` (0 = Monday).
    WEEKLY = "weekly"
    # The day `day_of_month` of each month in `months`.
    MONTH_DAY = "month_day"
    # The last `weekday` of each month in `months`.
    LAST_WEEKDAY_OF_MONTH = "last_weekday_of_month"


@dataclass(frozen=True)
class Cadence:
    """A recurring occurrence: its nominal days, local time and holiday rule.

    `weekday` is used by WEEKLY and LAST_WEEKDAY_OF_MONTH, `day_of_month` by MONTH_DAY, `months`
    by the monthly kinds. When the nominal day is not a working day the occurrence moves to the
    previous or next working day (`on_holiday`), unless `shift_on_holiday` is false.
    """

    name: str
    rule_id: str
    recurrence: Recurrence
    at: time
    on_holiday: HolidayRule = "next"
    shift_on_holiday: bool = True
    weekday: int = MONDAY
    day_of_month: int = 1
    months: tuple[int, ...] = ALL_MONTHS

    def __post_init__(self) -> None:
        # Rule data may come from configuration, where the Literal type is not checked.
        if self.on_holiday not in ("previous", "next"):
            raise ValueError(f"{self.name}: on_holiday must be 'previous' or 'next'")
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"{self.name}: weekday must be 0 (Monday) to 6 (Sunday)")
        if not 1 <= self.day_of_month <= 28:
            # A day every month has, so no month silently lacks an occurrence.
            raise ValueError(f"{self.name}: day_of_month must be 1 to 28")
        if not self.months or any(not 1 <= m <= 12 for m in self.months):
            raise ValueError(f"{self.name}: months must be a non-empty selection of 1 to 12")
        if self.at.tzinfo is not None:
            raise ValueError(f"{self.name}: `at` is a local Asia/Shanghai time, without a zone")

    def nominal_days(self, start: date, end: date) -> list[date]:
        """The nominal days in [start, end], before any holiday rule, in order."""
        if self.recurrence is Recurrence.WEEKLY:
            first = start + timedelta(days=(self.weekday - start.weekday()) % 7)
            return [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]
        days = []
        year, month = start.year, start.month
        while (year, month) <= (end.year, end.month):
            if month in self.months:
                day = self._day_in_month(year, month)
                if start <= day <= end:
                    days.append(day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return days

    def _day_in_month(self, year: int, month: int) -> date:
        if self.recurrence is Recurrence.MONTH_DAY:
            return date(year, month, self.day_of_month)
        last = date(year, month, gregorian.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - self.weekday) % 7)


CADENCES: tuple[Cadence, ...] = (
    # MT-1 "last week of each month, an afternoon". The last week is the Monday-start week that
    # holds the month's last day, and the meeting is on its Thursday, or on the previous week's
    # Thursday when that one falls in the next month (a month ending Monday to Wednesday): that
    # is exactly the month's last Thursday. Thursday leaves Friday for the minutes; a holiday
    # moves it earlier so it stays in the month being summarised.
    Cadence(
        name="mt1-regional-monthly",
        rule_id="MT-1",
        recurrence=Recurrence.LAST_WEEKDAY_OF_MONTH,
        weekday=THURSDAY,
        at=time(14, 0),
        on_holiday="previous",
    ),
    # MT-2: "on the 2nd of the month after the quarter".
    Cadence(
        name="mt2-regional-quarterly",
        rule_id="MT-2",
        recurrence=Recurrence.MONTH_DAY,
        day_of_month=2,
        months=(1, 4, 7, 10),
        at=time(10, 0),
        on_holiday="next",
    ),
    # MT-3: "weekly, Wednesday evening".
    Cadence(
        name="mt3-customer-analysis",
        rule_id="MT-3",
        recurrence=Recurrence.WEEKLY,
        weekday=WEDNESDAY,
        at=time(19, 0),
        on_holiday="next",
    ),
    # WR-2 and WR-3: "by Sunday". A Sunday is never a working day, yet the deadline stays: the
    # reports are due by the end of that Sunday whatever the calendar says.
    Cadence(
        name="wr2-regional-weekly-report-due",
        rule_id="WR-2",
        recurrence=Recurrence.WEEKLY,
        weekday=SUNDAY,
        at=time(23, 59),
        shift_on_holiday=False,
    ),
    Cadence(
        name="wr3-customer-service-weekly-report-due",
        rule_id="WR-3",
        recurrence=Recurrence.WEEKLY,
        weekday=SUNDAY,
        at=time(23, 59),
        shift_on_holiday=False,
    ),
    # WR-4: "every Monday the clerk tallies"; the clerk cannot tally on a day off.
    Cadence(
        name="wr4-weekly-report-tally",
        rule_id="WR-4",
        recurrence=Recurrence.WEEKLY,
        weekday=MONDAY,
        at=time(10, 0),
        on_holiday="next",
    ),
    # RQ-5: "every Friday"; a holiday Friday sends it before the break, not after.
    Cadence(
        name="rq5-requirement-status-email",
        rule_id="RQ-5",
        recurrence=Recurrence.WEEKLY,
        weekday=FRIDAY,
        at=time(16, 0),
        on_holiday="previous",
    ),
    # RQ-6: "at the start of each month": the 1st, moved to the next working day, is the
    # month's first working day.
    Cadence(
        name="rq6-requirement-monthly-briefing",
        rule_id="RQ-6",
        recurrence=Recurrence.MONTH_DAY,
        day_of_month=1,
        at=time(10, 0),
        on_holiday="next",
    ),
)


def occurrences(
    cadence: Cadence, start: date, end: date, calendar: CompanyCalendar
) -> list[datetime]:
    """The occurrences whose nominal day lies in [start, end], after the holiday rule, as
    timezone-aware Asia/Shanghai datetimes, sorted and without duplicates (two nominal days may
    move to the same working day, e.g. the Mondays either side of a long break)."""
    if end < start:
        raise ValueError("the end is before the start")
    if (end - start).days > MAX_SPAN_DAYS:
        raise ValueError(f"a span may cover at most {MAX_SPAN_DAYS} days")
    moments = {
        datetime.combine(_apply_holiday_rule(cadence, day, calendar), cadence.at, COMPANY_ZONE)
        for day in cadence.nominal_days(start, end)
    }
    return sorted(moments)


def next_occurrence(cadence: Cadence, after: datetime, calendar: CompanyCalendar) -> datetime:
    """The first occurrence strictly after `after` (timezone-aware)."""
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("`after` must be timezone-aware")
    local_day = after.astimezone(COMPANY_ZONE).date()
    # A nominal day before `after` may have been moved past it by a holiday ("next"), so the
    # search starts before `after`.
    candidates = occurrences(
        cadence, local_day - _MAX_HOLIDAY_SHIFT, local_day + _NEXT_WINDOW, calendar
    )
    later = [moment for moment in candidates if moment > after]
    if not later:
        raise ValueError(f"{cadence.name} has no occurrence within a year after {after}")
    return later[0]


def _apply_holiday_rule(cadence: Cadence, day: date, calendar: CompanyCalendar) -> date:
    if not cadence.shift_on_holiday or calendar.is_working_day(day):
        return day
    if cadence.on_holiday == "next":
        return calendar.shift_working_days(day, 0)
    return calendar.shift_working_days(day, -1)
