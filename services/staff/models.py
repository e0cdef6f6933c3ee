"""The staff database. Enum-like columns hold the proto enum names in lower case."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.runtime.idempotency import IdempotencyRecordMixin


class Base(DeclarativeBase):
    """Metadata of the staff database."""


class Region(Base):
    __tablename__ = "staff_regions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(20))


class Person(Base):
    __tablename__ = "staff_people"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(40), index=True)
    track: Mapped[str] = mapped_column(String(40))
    level: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(
        ForeignKey("staff_regions.code"), index=True, nullable=True
    )
    manager_id: Mapped[str | None] = mapped_column(ForeignKey("staff_people.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OnCallShift(Base):
    __tablename__ = "staff_on_call_shifts"
    __table_args__ = (UniqueConstraint("region_code", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("staff_regions.code"))
    person_id: Mapped[str] = mapped_column(ForeignKey("staff_people.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyRecord(IdempotencyRecordMixin, Base):
    __tablename__ = "staff_idempotency"


class CalendarAdjustment(Base):
    """A day of a year's official schedule as the company loaded it."""

    __tablename__ = "staff_calendar_adjustments"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "day_off" or "workday"


class CalendarYear(Base):
    """That a year's schedule was loaded by the company, and from what notice."""

    __tablename__ = "staff_calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(300))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LeaveRecord(Base):
    """The clerk's record of approved leave (LV-1, LV-3, LV-4)."""

    __tablename__ = "staff_leave_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("staff_people.id"), index=True)
    leave_type: Mapped[str] = mapped_column(String(40))
    start_day: Mapped[date] = mapped_column(Date)
    start_half: Mapped[str] = mapped_column(String(2))
    end_day: Mapped[date] = mapped_column(Date)
    end_half: Mapped[str] = mapped_column(String(2))
    half_days: Mapped[int] = mapped_column(Integer)
    approved_by: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(10))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
