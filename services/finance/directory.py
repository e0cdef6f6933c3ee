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
