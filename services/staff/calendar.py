"""The company's working-day calendar: weekends and PRC public holidays with their make-up
workdays (调休), overridden by the adjustments the company loads for a year.

Working time is two half-days: 09:00-12:00 and 13:00-18:00, Asia/Shanghai. The official
schedule of a year is announced late in the year before; for a year the `holidays` package has
no schedule for and the company has loaded none, only the statutory holidays count, and every
answer says so (`official` is false) instead of failing.

Package data changes between releases, so workflow code never calls this: it asks the staff
service through an activity, whose answer is recorded in the workflow's history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum
from functools import lru_cache

from holidays import HolidayBase
from holidays.countries import china

from services.runtime.dates import COMPANY_ZONE

MORNING = (time(9, 0), time(12, 0))
AFTERNOON = (time(13, 0), time(18, 0))
# The most days a question may span, so a typo (year 2206) cannot keep a server busy.
MAX_SPAN_DAYS = 3 * 366


class Half(Enum):
    AM = "am"
    PM = "pm"


@dataclass(frozen=True)
class HalfDay:
    day: date
    half: Half = Half.AM

    def key(self) -> tuple[date, int]:
        return self.day, 0 if self.half == Half.AM else 1

    def starts_at(self) -> datetime:
        begin = MORNING[0] if self.half == Half.AM else AFTERNOON[0]
        return datetime.combine(self.day, begin, COMPANY_ZONE)

    def ends_at(self) -> datetime:
        end = MORNING[1] if self.half == Half.AM else AFTERNOON[1]
        return datetime.combine(self.day, end, COMPANY_ZONE)


@dataclass(frozen=True)
class YearAdjustments:
    """A year's official schedule as the company loaded it: it replaces the package's."""

    year: int
    days_off: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    source: str = ""


@dataclass(frozen=True)
class Span:
    half_days: int
    # Years in the span with no official schedule: only statutory holidays were counted.
    unofficial_years: tuple[int, ...] = ()

    @property
    def official(self) -> bool:
        return not self.unofficial_years


@lru_cache(maxsize=64)
def _package_year(year: int) -> HolidayBase:
    return china.China(years=year)  # type: ignore[no-untyped-call]


def _package_has_schedule(year: int) -> bool:
    schedules = getattr(china.ChinaStaticHolidays, "special_public_holidays", {})
    return year in schedules or any(d.year == year for d in _package_year(year).weekend_workdays)


class CompanyCalendar:
    """Working days and hours, from the package and the company's adjustments."""

    def __init__(self, adjustments: Mapping[int, YearAdjustments] | None = None) -> None:
        self._adjustments = dict(adjustments or {})

    def official(self, year: int) -> bool:
        """Whether the year's official schedule (package or company) is known."""
        return year in self._adjustments or _package_has_schedule(year)

    def is_working_day(self, day: date) -> bool:
        adjustments = self._adjustments.get(day.year)
        if adjustments is not None:
            if day in adjustments.workdays:
                return True
            if day in adjustments.days_off:
                return False
        package = _package_year(day.year)
        if adjustments is None and day in package.weekend_workdays:
            return True
        if day.weekday() >= 5:
            return False
        if adjustments is not None:
            # A company schedule replaces the package's adjustments, not the statutory days.
            return not any(day == d and not _is_substitute(name) for d, name in package.items())
        return day not in package

    def holiday_name(self, day: date) -> str:
        return str(_package_year(day.year).get(day, ""))

    def count(self, start: HalfDay, end: HalfDay) -> Span:
        """Working half-days from `start` to `end`, both included."""
        if end.key() < start.key():
            raise ValueError("the end is before the start")
        if (end.day - start.day).days > MAX_SPAN_DAYS:
            raise ValueError(f"a span may cover at most {MAX_SPAN_DAYS} days")
        total = 0
        day = start.day
        while day <= end.day:
            if self.is_working_day(day):
                halves = [Half.AM, Half.PM]
                if day == start.day and start.half == Half.PM:
                    halves.remove(Half.AM)
                if day == end.day and end.half == Half.AM:
                    halves.remove(Half.PM)
                total += len(halves)
            day += timedelta(days=1)
        years = range(start.day.year, end.day.year + 1)
        return Span(total, tuple(y for y in years if not self.official(y)))

    def add_working_hours(self, moment: datetime, hours: float) -> datetime:
        """The moment `hours` of working time after `moment`."""
        if hours < 0:
            raise ValueError("hours must not be negative")
        remaining = timedelta(hours=hours)
        local = moment.astimezone(COMPANY_ZONE)
        for _ in range(MAX_SPAN_DAYS):
            if self.is_working_day(local.date()):
                for begin, finish in (MORNING, AFTERNOON):
                    opens = datetime.combine(local.date(), begin, COMPANY_ZONE)
                    closes = datetime.combine(local.date(), finish, COMPANY_ZONE)
                    start = max(local, opens)
                    if start >= closes:
                        continue
                    if start + remaining <= closes:
                        return start + remaining
                    remaining -= closes - start
                    local = closes
            local = datetime.combine(local.date() + timedelta(days=1), time(0), COMPANY_ZONE)
        raise ValueError("no working time within the span a calendar question may cover")

    def shift_working_days(self, day: date, days: int) -> date:
        """0: `day` if working, else the next working day; n: the n-th working day after `day`;
        -n: the n-th working day before it."""
        if abs(days) > MAX_SPAN_DAYS:
            raise ValueError(f"a shift may cover at most {MAX_SPAN_DAYS} working days")
        step = timedelta(days=-1 if days < 0 else 1)
        if days == 0:
            for _ in range(MAX_SPAN_DAYS):
                if self.is_working_day(day):
                    return day
                day += step
            raise ValueError("no working day within reach")
        remaining = abs(days)
        for _ in range(MAX_SPAN_DAYS * 2):
            day += step
            if self.is_working_day(day):
                remaining -= 1
                if remaining == 0:
                    return day
        raise ValueError("no working day within reach")


def _is_substitute(name: str) -> bool:
    # The package names a substituted day off "Day off (substituted from ...)" (or its zh label).
    return "substituted" in name or "调休" in name


def adjustments_by_year(items: Iterable[YearAdjustments]) -> dict[int, YearAdjustments]:
    return {item.year: item for item in items}
