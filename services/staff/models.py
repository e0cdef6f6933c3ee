"""The staff database. Enum-like columns hold the proto enum names in lower case."""

from __future__ import annotations

from datetime import UTC, date, datetime

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
    # AT-1, AT-2: the first day the person's attendance is due (the day they were added).
    attendance_from: Mapped[date | None] = mapped_column(Date, nullable=True)


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


class AttendanceDay(Base):
    """A person's daily attendance report (AT-1): the latest report of a day counts."""

    __tablename__ = "staff_attendance"

    person_id: Mapped[str] = mapped_column(ForeignKey("staff_people.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(20))
    hospital: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    place_region_code: Mapped[str | None] = mapped_column(
        ForeignKey("staff_regions.code"), nullable=True
    )
    note: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(10))  # "report" or "import"
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MissingReportOccurrence(Base):
    """An AT-2 occurrence as found: its days never count toward another."""

    __tablename__ = "staff_missing_report_occurrences"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("staff_people.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(40))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    days: Mapped[str] = mapped_column(String(4000))  # ISO dates, comma-separated
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    @classmethod
    def of(cls, person: Person, run: list[date]) -> MissingReportOccurrence:
        return cls(
            id=f"{person.id}:{run[0].isoformat()}",
            person_id=person.id,
            region_code=person.region_code or "",
            first_day=run[0],
            last_day=run[-1],
            days=",".join(d.isoformat() for d in run),
            found_at=datetime.now(UTC),
        )

    def day_list(self) -> list[date]:
        return [date.fromisoformat(d) for d in self.days.split(",") if d]


class Absence(Base):
    """A day a spot check found the person not at their post (AT-3): absence under AT-4."""

    __tablename__ = "staff_absences"

    person_id: Mapped[str] = mapped_column(ForeignKey("staff_people.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reference: Mapped[str] = mapped_column(String(120))  # the first finding that named it
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Project(Base):
    """A hospital project under maintenance and its communication log's version (CL-1, CL-2):
    the count of its entries, raised by exactly one writer per version."""

    __tablename__ = "staff_projects"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    hospital: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("staff_regions.code"), index=True)
    engineer_id: Mapped[str] = mapped_column(ForeignKey("staff_people.id"))
    active: Mapped[bool] = mapped_column(Boolean)
    log_version: Mapped[int] = mapped_column(Integer)


class LogEntry(Base):
    """One contact with the hospital, appended to its project's log; never changed."""

    __tablename__ = "staff_log_entries"

    project_code: Mapped[str] = mapped_column(ForeignKey("staff_projects.code"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[str] = mapped_column(String(64))
    author_role: Mapped[str] = mapped_column(String(40))
    contact_with: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(2000))
    contacted_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(200))


class PersonChange(Base):
    """One change of a person's level, track or role (ORG-3), or its first value on joining."""

    __tablename__ = "staff_person_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("staff_people.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    field: Mapped[str] = mapped_column(String(20))
    old: Mapped[str] = mapped_column(String(40))
    new: Mapped[str] = mapped_column(String(40))
    changed_by: Mapped[str] = mapped_column(String(64))
