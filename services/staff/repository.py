"""Reads and writes of the staff database. Every function takes the session by keyword."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.staff.models import OnCallShift, Person, Region


async def get_person(person_id: str, *, session: AsyncSession) -> Person | None:
    return await session.get(Person, person_id)


async def list_people(
    *, session: AsyncSession, region_code: str = "", role: str = "", active_only: bool = True
) -> Sequence[Person]:
    query = select(Person).order_by(Person.id)
    if region_code:
        query = query.where(Person.region_code == region_code)
    if role:
        query = query.where(Person.role == role)
    if active_only:
        query = query.where(Person.active.is_(True))
    return (await session.scalars(query)).all()


async def save_person(person: Person, *, session: AsyncSession) -> Person:
    """Insert the person, or overwrite the stored fields of the same id."""
    return await session.merge(person)


async def get_region(code: str, *, session: AsyncSession) -> Region | None:
    return await session.get(Region, code)


async def list_regions(*, session: AsyncSession) -> Sequence[Region]:
    return (await session.scalars(select(Region).order_by(Region.code))).all()


async def save_region(region: Region, *, session: AsyncSession) -> Region:
    return await session.merge(region)


async def add_on_call_shift(shift: OnCallShift, *, session: AsyncSession) -> OnCallShift:
    session.add(shift)
    await session.flush()
    return shift


async def shift_starting(region_code: str, at: datetime, *, session: AsyncSession) -> bool:
    query = select(OnCallShift.id).where(
        OnCallShift.region_code == region_code, OnCallShift.starts_at == at
    )
    return (await session.scalars(query)).first() is not None


async def on_call_at(
    region_code: str, at: datetime, *, session: AsyncSession
) -> OnCallShift | None:
    """The shift covering `at`; the one that started last wins where shifts overlap."""
    query = (
        select(OnCallShift)
        .where(
            OnCallShift.region_code == region_code,
            OnCallShift.starts_at <= at,
            OnCallShift.ends_at > at,
        )
        .order_by(OnCallShift.starts_at.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()
