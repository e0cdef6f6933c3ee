"""The company calendar: weekends, PRC holidays with make-up workdays, company overrides."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.staff.calendar import (
    COMPANY_ZONE,
    CompanyCalendar,
    Half,
    HalfDay,
    YearAdjustments,
)

AM, PM = Half.AM, Half.PM
calendar = CompanyCalendar()


def span(
    start: str, start_half: Half, end: str, end_half: Half, cal: CompanyCalendar = calendar
) -> int:
    return cal.count(
        HalfDay(date.fromisoformat(start), start_half), HalfDay(date.fromisoformat(end), end_half)
    ).half_days


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-03-02", True),  # a Monday
        ("2026-03-07", False),  # a Saturday
        ("2026-01-01", False),  # New Year's Day
        ("2026-01-02", False),  # day off swapped with Sunday 4 January
        ("2026-01-04", True),  # the make-up Sunday
        ("2026-02-14", True),  # the make-up Saturday before the Spring Festival
        ("2026-02-17", False),  # Spring Festival
        ("2026-02-28", True),  # make-up Saturday after it
        ("2026-10-01", False),  # National Day
    ],
)
def test_2026_follows_the_official_schedule(day: str, working: bool) -> None:
    assert calendar.is_working_day(date.fromisoformat(day)) is working
    assert calendar.official(2026)


@pytest.mark.parametrize(
    ("start", "start_half", "end", "end_half", "half_days"),
    [
        ("2026-03-02", AM, "2026-03-02", AM, 1),  # half a day
        ("2026-03-02", PM, "2026-03-03", PM, 3),
        ("2026-03-02", AM, "2026-03-04", AM, 5),  # 2.5 days
        ("2026-03-02", AM, "2026-03-04", PM, 6),  # 3 days
        ("2026-03-06", AM, "2026-03-09", PM, 4),  # over a weekend: Fri + Mon
        ("2026-09-30", AM, "2026-10-09", PM, 6),  # over National Day (1-7 Oct off): 30 Sep, 8-9 Oct
        ("2026-02-13", AM, "2026-02-14", PM, 4),  # Friday and the make-up Saturday
    ],
)
def test_working_half_days(
    start: str, start_half: Half, end: str, end_half: Half, half_days: int
) -> None:
    assert span(start, start_half, end, end_half) == half_days


def test_a_year_without_an_official_schedule_counts_statutory_holidays_and_says_so() -> None:
    result = calendar.count(HalfDay(date(2026, 12, 31)), HalfDay(date(2028, 1, 5), PM))
    assert 2028 in result.unofficial_years
    assert not result.official
    # Statutory holidays still count: 1 May 2028 is Labour Day, a Monday.
    assert not calendar.is_working_day(date(2028, 5, 1))


def test_a_company_schedule_overrides_the_package_for_its_year() -> None:
    before = span("2028-02-07", AM, "2028-02-19", PM)
    company = CompanyCalendar(
        {
            2028: YearAdjustments(
                2028,
                days_off=frozenset({date(2028, 2, 14), date(2028, 2, 15)}),
                workdays=frozenset({date(2028, 2, 19)}),
                source="State Council notice (test)",
            )
        }
    )
    assert company.official(2028)
    after = span("2028-02-07", AM, "2028-02-19", PM, company)
    assert after == before - 4 + 2  # two weekdays off, one Saturday worked


def test_working_hours_skip_nights_lunch_weekends_and_holidays() -> None:
    friday_5pm = datetime(2026, 3, 6, 17, 0, tzinfo=COMPANY_ZONE)
    assert calendar.add_working_hours(friday_5pm, 2) == datetime(
        2026, 3, 9, 10, 0, tzinfo=COMPANY_ZONE
    )
    morning = datetime(2026, 3, 2, 11, 0, tzinfo=COMPANY_ZONE)
    assert calendar.add_working_hours(morning, 2) == datetime(
        2026, 3, 2, 14, 0, tzinfo=COMPANY_ZONE
    )
    # 13 Feb 2026 is a Friday; Saturday 14 Feb is a make-up workday.
    assert calendar.add_working_hours(
        datetime(2026, 2, 13, 17, 0, tzinfo=COMPANY_ZONE), 4
    ) == datetime(2026, 2, 14, 12, 0, tzinfo=COMPANY_ZONE)


def test_shifting_by_working_days() -> None:
    assert calendar.shift_working_days(date(2026, 10, 1), 0) == date(2026, 10, 8)
    assert calendar.shift_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)
    assert calendar.shift_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)
    assert calendar.shift_working_days(date(2026, 3, 9), -1) == date(2026, 3, 6)
    assert calendar.shift_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
