"""Activities asking the staff service who is who and who gets what."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from temporalio import activity

from activities.grpc_status import CALL_DEADLINE_SECONDS, call


@dataclass
class Contact:
    """A person as the workflows need them: how to reach them and in what role."""

    id: str
    name: str
    email: str
    phone: str
    role: str
    region_code: str = ""


@dataclass
class ContactInput:
    person_id: str


@dataclass
class AssistanceRouteInput:
    region_code: str


@dataclass
class AssistanceRouteResult:
    coordinator: Contact
    cc: list[Contact] = field(default_factory=list)


def contact_from(person: staff_pb2.Person) -> Contact:
    return Contact(
        id=person.id,
        name=person.name,
        email=person.email,
        phone=person.phone,
        role=staff_pb2.Role.Name(person.role).removeprefix("ROLE_").lower(),
        region_code=person.region_code,
    )


class StaffActivities:
    """Read-only lookups in the staff directory."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = staff_pb2_grpc.StaffServiceStub(channel)

    @activity.defn(name="staff.get_contact")
    async def get_contact(self, input: ContactInput) -> Contact:
        person = await call(
            self._stub.GetPerson(
                staff_pb2.GetPersonRequest(id=input.person_id), timeout=CALL_DEADLINE_SECONDS
            )
        )
        return contact_from(person)

    @activity.defn(name="staff.resolve_assistance_route")
    async def resolve_assistance_route(self, input: AssistanceRouteInput) -> AssistanceRouteResult:
        route = await call(
            self._stub.ResolveAssistanceRoute(
                staff_pb2.ResolveAssistanceRouteRequest(region_code=input.region_code),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return AssistanceRouteResult(
            coordinator=contact_from(route.coordinator), cc=[contact_from(p) for p in route.cc]
        )
