"""Recurring occurrences: every cadence over 2026 against a computation written independently,
and the holiday rules on the days the 2026 schedule makes interesting."""

from __future__ import annotations

import calendar as gregorian
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from holidays.countries import china

from services.staff.cadence import next_occurrence, occurrences
from services.staff.calendar import COMPANY_ZONE, CompanyCalendar, YearAdjustments
from workflows.regulation.cadences import CADENCES_2024 as CADENCES
from workflows.regulation.cadences import Cadence

calendar = CompanyCalendar()
BY_NAME = {cadence.name: cadence for cadence in CADENCES}


def days(first: str, last: str) -> set[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


# The State Council's 2026 notice, by hand. `holidays` agrees with it exactly (checked below); the
# package lists only the weekdays it takes off, the notice names whole breaks with their weekends.
DAYS_OFF_2026 = (
    days("2026-01-01", "2026-01-03")
    | days("2026-02-15", "2026-02-23")
    | days("2026-04-04", "2026-04-06")
    | days("2026-05-01", "2026-05-05")
    | days("2026-06-19", "2026-06-21")
    | days("2026-09-25", "2026-09-27")
    | days("2026-10-01", "2026-10-07")
)
MAKE_UP_WORKDAYS_2026 = {
    date.fromisoformat(d)
    for d in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")
}
ALL_2026 = days("2026-01-01", "2026-12-31")


def working_2026(day: date) -> bool:
    if day in MAKE_UP_WORKDAYS_2026:
        return True
    return day.weekday() < 5 and day not in DAYS_OFF_2026


def last_thursday(day: date) -> bool:
    month_days = gregorian.monthrange(day.year, day.month)[1]
    thursdays = [d for d in range(1, month_days + 1) if date(day.year, day.month, d).weekday() == 3]
    return day.day == thursdays[-1]


# name: (is the day nominal, local time, +1 / -1 day while not working, 0 to stay)
EXPECTED_RULES: dict[str, tuple[Callable[[date], bool], time, int]] = {
    "mt1-regional-monthly": (last_thursday, time(14, 0), -1),
    "mt2-regional-quarterly": (lambda d: d.day == 2 and d.month in (1, 4, 7, 10), time(10), 1),
    "mt3-customer-analysis": (lambda d: d.isoweekday() == 3, time(19, 0), 1),
    "wr2-regional-weekly-report-due": (lambda d: d.isoweekday() == 7, time(23, 59, 59), 0),
    "wr3-customer-service-weekly-report-due": (lambda d: d.isoweekday() == 7, time(23, 59, 59), 0),
    "wr4-weekly-report-tally": (lambda d: d.isoweekday() == 1, time(10, 0), 1),
    "rq5-requirement-status-email": (lambda d: d.isoweekday() == 5, time(16, 0), -1),
    "rq6-requirement-monthly-briefing": (lambda d: d.day == 1, time(10, 0), 1),
    "rq2-requirement-sync": (lambda d: d.isoweekday() in (1, 4), time(10, 0), 1),
    "pay2-monthly-settlement": (lambda d: d.day == 5, time(10, 0), 1),
    "cs2-satisfaction-survey": (lambda d: d.day == 10 and d.month in (3, 6, 9, 12), time(10), 1),
}


def expected_2026(name: str) -> list[datetime]:
    is_nominal, at, step = EXPECTED_RULES[name]
    moments = set()
    for day in ALL_2026:
        if not is_nominal(day):
            continue
        while step and not working_2026(day):
            day += timedelta(days=step)
        moments.add(datetime.combine(day, at, COMPANY_ZONE))
    return sorted(moments)


def at(day: str, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute, second), COMPANY_ZONE)


def test_the_hand_written_2026_schedule_matches_the_holidays_package() -> None:
    package = china.China(years=2026)  # type: ignore[no-untyped-call]
    assert {d for d in package if d.weekday() < 5} == {d for d in DAYS_OFF_2026 if d.weekday() < 5}
    assert {d for d in package.weekend_workdays if d.year == 2026} == MAKE_UP_WORKDAYS_2026
    assert [d for d in sorted(ALL_2026) if working_2026(d) != calendar.is_working_day(d)] == []


def test_every_regulation_cadence_is_defined_once() -> None:
    assert set(BY_NAME) == set(EXPECTED_RULES)
    assert len(BY_NAME) == len(CADENCES)
    assert {c.rule_id for c in CADENCES} == {
        "MT-1",
        "MT-2",
        "MT-3",
        "WR-2",
        "WR-3",
        "WR-4",
        "RQ-5",
        "RQ-6",
        "RQ-2",
        "PAY-2",
        "CS-2",
    }


@pytest.mark.parametrize("name", sorted(EXPECTED_RULES))
def test_every_occurrence_of_2026_matches_an_independent_computation(name: str) -> None:
    found = occurrences(BY_NAME[name], date(2026, 1, 1), date(2026, 12, 31), calendar)
    assert found == expected_2026(name)
    assert all(moment.tzinfo == COMPANY_ZONE for moment in found)


@pytest.mark.parametrize(
    ("name", "nominal", "expected"),
    [
        # The Wednesday before National Day is a working day: no move.
        ("mt3-customer-analysis", "2026-09-30", at("2026-09-30", 19)),
        # The last Wednesday of the National Day break moves to Thursday 8 October.
        ("mt3-customer-analysis", "2026-10-07", at("2026-10-08", 19)),
        # A Wednesday in the Spring Festival break: the next working day is Tuesday 24 February.
        ("mt3-customer-analysis", "2026-02-18", at("2026-02-24", 19)),
        ("mt2-regional-quarterly", "2026-10-02", at("2026-10-08", 10)),
        ("mt2-regional-quarterly", "2026-04-02", at("2026-04-02", 10)),
        # RQ-6's nominal day is the 1st; the result is the month's first working day.
        ("rq6-requirement-monthly-briefing", "2026-10-01", at("2026-10-08", 10)),
        # January 2026's first working day is the make-up Sunday 4 January.
        ("rq6-requirement-monthly-briefing", "2026-01-01", at("2026-01-04", 10)),
        # A holiday Friday goes back past National Day itself to Wednesday 30 September.
        ("rq5-requirement-status-email", "2026-10-02", at("2026-09-30", 16)),
        # The Mid-Autumn Friday goes back one day.
        ("rq5-requirement-status-email", "2026-09-25", at("2026-09-24", 16)),
        # The settlement's 5th in the National Day break moves to Thursday 8 October.
        ("pay2-monthly-settlement", "2026-10-05", at("2026-10-08", 10)),
        # A Sunday deadline in a break stays on that Sunday.
        ("wr2-regional-weekly-report-due", "2026-10-04", at("2026-10-04", 23, 59, 59)),
    ],
)
def test_holiday_rules_on_2026_spot_days(name: str, nominal: str, expected: datetime) -> None:
    day = date.fromisoformat(nominal)
    assert occurrences(BY_NAME[name], day, day, calendar) == [expected]


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        # February ends on a Saturday: the Thursday of that week.
        (2, at("2026-02-26", 14)),
        # March ends on a Tuesday: that week's Thursday is in April, so the week before.
        (3, at("2026-03-26", 14)),
        # June ends on a Tuesday, August on a Monday, September on a Wednesday.
        (6, at("2026-06-25", 14)),
        (8, at("2026-08-27", 14)),
        (9, at("2026-09-24", 14)),
        # May ends on a Sunday: the Thursday three days before.
        (5, at("2026-05-28", 14)),
        # December ends on a Thursday: the last day itself.
        (12, at("2026-12-31", 14)),
    ],
)
def test_mt1_is_the_months_last_thursday(month: int, expected: datetime) -> None:
    first = date(2026, month, 1)
    last = date(2026, month, gregorian.monthrange(2026, month)[1])
    assert occurrences(BY_NAME["mt1-regional-monthly"], first, last, calendar) == [expected]


def test_mt1_on_a_holiday_moves_to_the_previous_working_day() -> None:
    # No 2026 holiday falls on a last Thursday, so the company declares one.
    company = CompanyCalendar(
        {2026: YearAdjustments(2026, days_off=frozenset({date(2026, 3, 26)}))}
    )
    found = occurrences(
        BY_NAME["mt1-regional-monthly"], date(2026, 3, 1), date(2026, 3, 31), company
    )
    assert found == [at("2026-03-25", 14)]


def test_two_mondays_moved_to_the_same_day_give_one_tally() -> None:
    # Monday 16 and Monday 23 February are both in the Spring Festival break.
    found = occurrences(
        BY_NAME["wr4-weekly-report-tally"], date(2026, 2, 9), date(2026, 3, 2), calendar
    )
    assert found == [at("2026-02-09", 10), at("2026-02-24", 10), at("2026-03-02", 10)]


def test_occurrences_keep_to_nominal_days_in_the_range() -> None:
    # Friday 2 October is nominally in October, though it happens on 30 September.
    rq5 = BY_NAME["rq5-requirement-status-email"]
    assert occurrences(rq5, date(2026, 10, 1), date(2026, 10, 9), calendar) == [
        at("2026-09-30", 16),
        at("2026-10-09", 16),
    ]
    assert occurrences(rq5, date(2026, 9, 26), date(2026, 9, 30), calendar) == []


def test_a_leap_february() -> None:
    start, end = date(2028, 2, 1), date(2028, 2, 29)
    assert occurrences(BY_NAME["mt1-regional-monthly"], start, end, calendar) == [
        at("2028-02-24", 14)
    ]
    assert occurrences(BY_NAME["mt3-customer-analysis"], start, end, calendar) == [
        at(f"2028-02-{d:02}", 19) for d in (2, 9, 16, 23)
    ]
    assert occurrences(
        BY_NAME["rq6-requirement-monthly-briefing"], start, date(2028, 3, 1), calendar
    ) == [at("2028-02-01", 10), at("2028-03-01", 10)]
    assert occurrences(BY_NAME["mt2-regional-quarterly"], start, end, calendar) == []


def test_next_occurrence_is_strictly_after() -> None:
    mt3 = BY_NAME["mt3-customer-analysis"]
    assert next_occurrence(mt3, at("2026-09-30", 19), calendar) == at("2026-10-08", 19)
    just_before = at("2026-09-30", 19) - timedelta(microseconds=1)
    assert next_occurrence(mt3, just_before, calendar) == at("2026-09-30", 19)
    # The same instant in UTC gives the same answer.
    utc = at("2026-09-30", 19).astimezone(UTC)
    assert next_occurrence(mt3, utc, calendar) == at("2026-10-08", 19)


def test_next_occurrence_sees_moves_across_after() -> None:
    rq5 = BY_NAME["rq5-requirement-status-email"]
    # Friday 2 October moved back to Wednesday 30 September: it is the next one on the 29th...
    assert next_occurrence(rq5, at("2026-09-29", 12), calendar) == at("2026-09-30", 16)
    # ... and once it has passed, the next is Friday 9 October.
    assert next_occurrence(rq5, at("2026-09-30", 17), calendar) == at("2026-10-09", 16)
    # Monday 5 October moved forward to the 8th: seen from the 6th, it is still ahead.
    tally = BY_NAME["wr4-weekly-report-tally"]
    assert next_occurrence(tally, at("2026-10-06", 12), calendar) == at("2026-10-08", 10)


def test_next_occurrence_needs_an_aware_moment() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_occurrence(CADENCES[0], datetime(2026, 1, 1), calendar)


def test_a_range_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before the start"):
        occurrences(CADENCES[0], date(2026, 2, 1), date(2026, 1, 1), calendar)


@pytest.mark.parametrize(
    "changes",
    [
        {"on_holiday": "sometimes"},
        {"weekdays": (7,)},
        {"weekdays": ()},
        {"day_of_month": 31},
        {"months": ()},
        {"months": (13,)},
        {"at": time(10, tzinfo=COMPANY_ZONE)},
    ],
)
def test_invalid_rule_data_is_refused(changes: dict[str, object]) -> None:
    fields = {
        "name": "bad",
        "rule_id": "MT-2",
        "recurrence": BY_NAME["mt2-regional-quarterly"].recurrence,
        "at": time(10),
    }
    with pytest.raises(ValueError):
        Cadence(**(fields | changes))  # type: ignore[arg-type]
