"""The staff database. Enum-like columns hold the proto enum names in lower case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
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
