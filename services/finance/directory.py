"""The staff directory as finance needs it: that the people and regions an entry names exist,
and what a claim or a pay statement is computed from (role, attendance, the places' tiers).

A ledger row for a person or region nobody knows could never be settled or corrected (the
ledger is append-only), so it is refused before it is written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Protocol, TypeVar

import grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc

from services.runtime.errors import FailedPrecondition, Unavailable
from workflows.regulation.allowances import PAY_GROUP_OF_ROLE

T = TypeVar("T")
S = staff_pb2
LOOKUP_SECONDS = 5.0

# A region's tier as the finance policy names it (PolicyRate.tier).
_TIERS = {
    S.REGION_TIER_1: "1",
    S.REGION_TIER_2: "2",
    S.REGION_TIER_OTHER: "other",
    S.REGION_TIER_HEAD_OFFICE: "head_office",
}


def pay_group_of(person: staff_pb2.Person) -> str | None:
    """The policy tables' column the person is paid from, or None for a role without one."""
    return PAY_GROUP_OF_ROLE.get(S.Role.Name(person.role).removeprefix("ROLE_").lower())


def attendance_status(value: staff_pb2.AttendanceStatus.ValueType) -> str:
    """ATTENDANCE_STATUS_ON_SITE -> "on_site": the staff service's own names."""
    return S.AttendanceStatus.Name(value).removeprefix("ATTENDANCE_STATUS_").lower()


class Directory(Protocol):
    async def require_person(self, person_id: str, what: str) -> None: ...

    async def require_region(self, code: str) -> None: ...

    async def person(self, person_id: str) -> staff_pb2.Person: ...

    async def attendance(
        self, person_id: str, first: str, last: str
    ) -> list[staff_pb2.AttendanceDay]: ...

    async def region_tier(self, code: str) -> str: ...

    async def attendance_sheet(self, person_id: str, month: str) -> staff_pb2.AttendanceSheet: ...


async def place_tiers(
    directory: Directory, days: Iterable[staff_pb2.AttendanceDay]
) -> dict[str, str]:
    """The policy tier of every region the days were spent in, each asked once."""
    tiers: dict[str, str] = {}
    for day in days:
        region = day.place_region_code
        if region and region not in tiers:
            tiers[region] = await directory.region_tier(region)
    return tiers


class StaffDirectory:
    """The staff service, asked as the finance part."""

    def __init__(self, staff: staff_pb2_grpc.StaffServiceStub) -> None:
        self._staff = staff

    async def require_person(self, person_id: str, what: str) -> None:
        await _ask(
            self._staff.GetPerson(S.GetPersonRequest(id=person_id), timeout=LOOKUP_SECONDS),
            f"{what} {person_id!r} is not in the staff directory: add the person there first",
        )

    async def require_region(self, code: str) -> None:
        await _ask(
            self._staff.GetRegion(S.GetRegionRequest(code=code), timeout=LOOKUP_SECONDS),
            f"region_code {code!r} is not a region in the staff directory",
        )

    async def person(self, person_id: str) -> staff_pb2.Person:
        return await _ask(
            self._staff.GetPerson(S.GetPersonRequest(id=person_id), timeout=LOOKUP_SECONDS),
            f"{person_id!r} is not in the staff directory",
        )

    async def attendance(
        self, person_id: str, first: str, last: str
    ) -> list[staff_pb2.AttendanceDay]:
        answer = await _ask(
            self._staff.ListAttendance(
                S.ListAttendanceRequest(person_id=person_id, **{"from": first}, to=last),
                timeout=LOOKUP_SECONDS,
            ),
            f"no attendance can be read for {person_id!r}",
        )
        return list(answer.days)

    async def region_tier(self, code: str) -> str:
        region = await _ask(
            self._staff.GetRegion(S.GetRegionRequest(code=code), timeout=LOOKUP_SECONDS),
            f"region {code!r} is not in the staff directory",
        )
        return _TIERS.get(region.tier, "other")

    async def attendance_sheet(self, person_id: str, month: str) -> staff_pb2.AttendanceSheet:
        return await _ask(
            self._staff.GetAttendanceSheet(
                S.GetAttendanceSheetRequest(person_id=person_id, month=month),
                timeout=LOOKUP_SECONDS,
            ),
            f"{person_id!r} is not in the staff directory",
        )


async def _ask(call: Awaitable[T], missing: str) -> T:
    """A staff answer; NOT_FOUND is `missing` (FAILED_PRECONDITION), anything else an outage."""
    try:
        return await call
    except grpc.aio.AioRpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            raise FailedPrecondition(missing) from None
        raise Unavailable("the staff directory cannot answer now; retry shortly") from None
