"""The staff directory as finance needs it: that the people and regions an entry names exist.

A ledger row for a person or region nobody knows could never be settled or corrected (the
ledger is append-only), so it is refused before it is written.
"""

from __future__ import annotations

from typing import Protocol

import grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc

from services.runtime.errors import FailedPrecondition, Unavailable

LOOKUP_SECONDS = 5.0


class Directory(Protocol):
    async def require_person(self, person_id: str, what: str) -> None: ...

    async def require_region(self, code: str) -> None: ...

    async def person(self, person_id: str) -> staff_pb2.Person: ...

    async def attendance(
        self, person_id: str, first: str, last: str
    ) -> list[staff_pb2.AttendanceDay]: ...

    async def region_tier(self, code: str) -> staff_pb2.RegionTier.ValueType: ...

    async def attendance_sheet(self, person_id: str, month: str) -> staff_pb2.AttendanceSheet: ...


class StaffDirectory:
    """The staff service, asked as the finance part (GetPerson, GetRegion)."""

    def __init__(self, staff: staff_pb2_grpc.StaffServiceStub) -> None:
        self._staff = staff

    async def require_person(self, person_id: str, what: str) -> None:
        await self._exists(
            self._staff.GetPerson(staff_pb2.GetPersonRequest(id=person_id), timeout=LOOKUP_SECONDS),
            f"{what} {person_id!r} is not in the staff directory: add the person there first",
        )

    async def require_region(self, code: str) -> None:
        await self._exists(
            self._staff.GetRegion(staff_pb2.GetRegionRequest(code=code), timeout=LOOKUP_SECONDS),
            f"region_code {code!r} is not a region in the staff directory",
        )

    async def person(self, person_id: str) -> staff_pb2.Person:
        try:
            found: staff_pb2.Person = await self._staff.GetPerson(
                staff_pb2.GetPersonRequest(id=person_id), timeout=LOOKUP_SECONDS
            )
        except grpc.aio.AioRpcError as err:
            raise self._failure(err, f"{person_id!r} is not in the staff directory") from None
        return found

    async def attendance(
        self, person_id: str, first: str, last: str
    ) -> list[staff_pb2.AttendanceDay]:
        try:
            answer = await self._staff.ListAttendance(
                staff_pb2.ListAttendanceRequest(person_id=person_id, **{"from": first}, to=last),
                timeout=LOOKUP_SECONDS,
            )
        except grpc.aio.AioRpcError as err:
            raise self._failure(err, f"no attendance can be read for {person_id!r}") from None
        return list(answer.days)

    async def region_tier(self, code: str) -> staff_pb2.RegionTier.ValueType:
        try:
            region = await self._staff.GetRegion(
                staff_pb2.GetRegionRequest(code=code), timeout=LOOKUP_SECONDS
            )
        except grpc.aio.AioRpcError as err:
            raise self._failure(err, f"region {code!r} is not in the staff directory") from None
        tier: staff_pb2.RegionTier.ValueType = region.tier
        return tier

    async def attendance_sheet(self, person_id: str, month: str) -> staff_pb2.AttendanceSheet:
        try:
            sheet: staff_pb2.AttendanceSheet = await self._staff.GetAttendanceSheet(
                staff_pb2.GetAttendanceSheetRequest(person_id=person_id, month=month),
                timeout=LOOKUP_SECONDS,
            )
        except grpc.aio.AioRpcError as err:
            raise self._failure(err, f"{person_id!r} is not in the staff directory") from None
        return sheet

    @staticmethod
    def _failure(err: grpc.aio.AioRpcError, missing: str) -> Exception:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            return FailedPrecondition(missing)
        return Unavailable("the staff directory cannot answer now; retry shortly")

    @staticmethod
    async def _exists(call: object, missing: str) -> None:
        try:
            await call  # type: ignore[misc]
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                raise FailedPrecondition(missing) from None
            raise Unavailable(
                "the staff directory cannot confirm who the entry names; retry shortly"
            ) from None
