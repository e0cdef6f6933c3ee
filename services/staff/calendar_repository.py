"""Reads and writes of the company's loaded calendar schedules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.staff.calendar import YearAdjustments
from services.staff.models import CalendarAdjustment, CalendarYear

DAY_OFF = "day_off"
WORKDAY = "workday"


async def all_adjustments(*, session: AsyncSession) -> dict[int, YearAdjustments]:
    years = (await session.scalars(select(CalendarYear))).all()
    days = (await session.scalars(select(CalendarAdjustment))).all()
    return {
        year.year: YearAdjustments(
            year=year.year,
            days_off=frozenset(d.day for d in days if d.year == year.year and d.kind == DAY_OFF),
            workdays=frozenset(d.day for d in days if d.year == year.year and d.kind == WORKDAY),
            source=year.source,
        )
        for year in years
    }


async def replace_year(
    year: int,
    *,
    days_off: Iterable[date],
    workdays: Iterable[date],
    source: str,
    published_at: datetime,
    session: AsyncSession,
) -> None:
    """The year's schedule becomes exactly this one (a corrected notice replaces the first)."""
    await session.execute(delete(CalendarAdjustment).where(CalendarAdjustment.year == year))
    await session.merge(CalendarYear(year=year, source=source, published_at=published_at))
    session.add_all(CalendarAdjustment(day=d, year=year, kind=DAY_OFF) for d in days_off)
    session.add_all(CalendarAdjustment(day=d, year=year, kind=WORKDAY) for d in workdays)
    await session.flush()
