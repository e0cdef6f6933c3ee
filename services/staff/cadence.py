"""Concrete dates and times of the department's cadences (workflows/regulation/cadences.py)
with the company's holidays applied: the engine behind the staff service's GetNextOccurrence.

Pure: the working-day calendar is passed in, so the same answer comes from the same calendar.
Package holiday data changes between releases, so workflow code never calls this: it asks the
staff service, whose answer its history keeps.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.runtime.dates import COMPANY_ZONE
from services.staff.calendar import MAX_SPAN_DAYS, CompanyCalendar
from workflows.regulation.cadences import Cadence

# More than a holiday ever moves an occurrence (the longest breaks, the Spring Festival and
# National Day with their weekends, are about ten days), so next_occurrence finds a nominal day
# before `after` whose occurrence a holiday moved past it.
_MAX_HOLIDAY_SHIFT = timedelta(days=31)
# Every cadence recurs at least once a quarter, so a year of nominal days always holds the next.
_NEXT_WINDOW = timedelta(days=366)


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
