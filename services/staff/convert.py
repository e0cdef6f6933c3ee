"""Conversions between the staff database rows and the staff protos."""

from __future__ import annotations

from datetime import UTC

from csd.staff.v1 import staff_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.staff.models import OnCallShift, Person, Region
from services.staff.tracks import title_for


def role_name(value: int) -> str:
    """ROLE_TECHNICAL_SERVICE_MANAGER -> "technical_service_manager"."""
    return staff_pb2.Role.Name(value).removeprefix("ROLE_").lower()  # type: ignore[arg-type]


def role_value(name: str) -> int:
    return staff_pb2.Role.Value("ROLE_" + name.upper())


def track_name(value: int) -> str:
    return staff_pb2.Track.Name(value).removeprefix("TRACK_").lower()  # type: ignore[arg-type]


def track_value(name: str) -> int:
    return staff_pb2.Track.Value("TRACK_" + name.upper())


def tier_name(value: int) -> str:
    return staff_pb2.RegionTier.Name(value).removeprefix("REGION_").lower()  # type: ignore[arg-type]


def tier_value(name: str) -> int:
    return staff_pb2.RegionTier.Value("REGION_" + name.upper())


def person_message(person: Person) -> staff_pb2.Person:
    title = ""
    if person.track != "unspecified" and person.level:
        title = title_for(person.track, person.level)
    return staff_pb2.Person(
        id=person.id,
        name=person.name,
        email=person.email,
        phone=person.phone,
        role=role_value(person.role),  # type: ignore[arg-type]
        track=track_value(person.track),  # type: ignore[arg-type]
        level=person.level,
        title=title,
        region_code=person.region_code or "",
        manager_id=person.manager_id or "",
        active=person.active,
        attendance_from=person.attendance_from.isoformat() if person.attendance_from else "",
    )


def region_message(region: Region) -> staff_pb2.Region:
    return staff_pb2.Region(code=region.code, name=region.name, tier=tier_value(region.tier))  # type: ignore[arg-type]


def timestamp(value: object) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)  # type: ignore[arg-type]
    return stamp


def shift_message(shift: OnCallShift, person: Person) -> staff_pb2.OnCallShift:
    starts, ends = shift.starts_at, shift.ends_at
    # SQLite hands back naive datetimes; they were stored as UTC.
    starts = starts if starts.tzinfo else starts.replace(tzinfo=UTC)
    ends = ends if ends.tzinfo else ends.replace(tzinfo=UTC)
    return staff_pb2.OnCallShift(
        region_code=shift.region_code,
        person=person_message(person),
        starts_at=timestamp(starts),
        ends_at=timestamp(ends),
    )
