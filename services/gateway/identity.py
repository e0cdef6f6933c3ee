"""Who is calling the gateway.

An `Authenticator` turns a call's metadata into a staff member. In dev mode the caller names
themselves in the metadata key "x-csd-user" and the staff service vouches that they exist;
production authentication plugs in behind the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc

from services.gateway.directory import LOOKUP_DEADLINE_SECONDS, ask_staff
from services.runtime.errors import PermissionDenied, Unauthenticated
from services.runtime.interceptors import CALLER_KEY


@dataclass(frozen=True)
class Caller:
    id: str
    name: str
    role: str
    region_code: str

    def require_self(self, person_id: str, what: str) -> str:
        """`person_id` defaulted to the caller; acting for anyone else is refused."""
        if person_id and person_id != self.id:
            raise PermissionDenied(f"{self.id} may not file a {what} on behalf of {person_id}")
        return self.id


class Authenticator(Protocol):
    async def authenticate(self, context: grpc.aio.ServicerContext) -> Caller: ...


class DevAuthenticator:
    """Trust the x-csd-user metadata, provided the staff directory knows the person."""

    def __init__(self, staff: staff_pb2_grpc.StaffServiceStub) -> None:
        self._staff = staff

    async def authenticate(self, context: grpc.aio.ServicerContext) -> Caller:
        metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        user = metadata.get(CALLER_KEY, "").strip()
        if not user:
            raise Unauthenticated(f"set the metadata key {CALLER_KEY} to your staff id")
        person: staff_pb2.Person = await ask_staff(
            self._staff.GetPerson(
                staff_pb2.GetPersonRequest(id=user), timeout=LOOKUP_DEADLINE_SECONDS
            ),
            purpose="confirm who you are",
            missing=Unauthenticated(f"{user!r} is not in the staff directory"),
        )
        if not person.active:
            raise Unauthenticated(f"{user!r} is no longer active in the staff directory")
        return Caller(
            id=person.id,
            name=person.name,
            role=staff_pb2.Role.Name(person.role).removeprefix("ROLE_").lower(),
            region_code=person.region_code,
        )
