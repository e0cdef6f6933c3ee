"""Who is calling the gateway.

An `Authenticator` turns a call's metadata into a staff member. In production a signed bearer
token names them (services/gateway/bearer_tokens.py); in dev mode (CSD_AUTH_MODE=dev, loopback
only) the caller names themselves in the metadata key "x-csd-user". Either way the staff
service vouches that the person exists and is active.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc

from services.gateway.directory import LOOKUP_DEADLINE_SECONDS, ask_staff
from services.runtime.errors import PermissionDenied, Unauthenticated
from services.runtime.interceptors import CALLER_KEY
from services.runtime.read_cache import ReadCache


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
    """Who calls, from a gRPC call's metadata or an HTTP request's headers (the codec endpoint):
    both are lower-case names to values."""

    async def authenticate_metadata(self, metadata: Mapping[str, str]) -> Caller: ...


def call_metadata(context: grpc.aio.ServicerContext) -> dict[str, str]:
    return {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}


# A caller is looked up once per few seconds, not on every call (issue 16): a person made
# inactive in the directory is refused within this long.
CALLER_TTL_SECONDS = 5.0


def caller_cache() -> ReadCache:
    """The cache of directory answers an authenticator keeps (refusals are never kept)."""
    return ReadCache(ttl_seconds=CALLER_TTL_SECONDS, max_entries=10_000)


async def caller_from_directory(
    staff: staff_pb2_grpc.StaffServiceStub, person_id: str, cache: ReadCache | None = None
) -> Caller:
    """The active staff person `person_id`, or UNAUTHENTICATED; from `cache` when it holds a
    recent answer."""

    async def load() -> staff_pb2.Person:
        answer: staff_pb2.Person = await ask_staff(
            staff.GetPerson(
                staff_pb2.GetPersonRequest(id=person_id), timeout=LOOKUP_DEADLINE_SECONDS
            ),
            purpose="confirm who you are",
            missing=Unauthenticated(f"{person_id!r} is not in the staff directory"),
        )
        return answer

    person = await (cache.read(person_id, load) if cache is not None else load())
    if not person.active:
        raise Unauthenticated(f"{person_id!r} is no longer active in the staff directory")
    return Caller(
        id=person.id,
        name=person.name,
        role=staff_pb2.Role.Name(person.role).removeprefix("ROLE_").lower(),
        region_code=person.region_code,
    )


class DevAuthenticator:
    """Trust the x-csd-user metadata, provided the staff directory knows the person (dev mode
    only: the gateway binds only loopback with it)."""

    def __init__(self, staff: staff_pb2_grpc.StaffServiceStub) -> None:
        self._staff = staff
        self._cache = caller_cache()

    async def authenticate_metadata(self, metadata: Mapping[str, str]) -> Caller:
        user = metadata.get(CALLER_KEY, "").strip()
        if not user:
            raise Unauthenticated(f"set the metadata key {CALLER_KEY} to your staff id")
        return await caller_from_directory(self._staff, user, self._cache)
