"""The gateway looks a caller up in the staff directory once per few seconds, not on every call
(issue 16); a refusal is never kept, and a person made inactive is refused once it expires."""

from __future__ import annotations

import asyncio

import pytest
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from prometheus_client import REGISTRY

from services.gateway import identity
from services.gateway.identity import DevAuthenticator
from services.runtime.errors import Unauthenticated

GET_PERSON = "/csd.staff.v1.StaffService/GetPerson"


def _asked(code: str) -> float:
    """GetPerson answers the staff service (in this process) gave with `code`."""
    value = REGISTRY.get_sample_value("csd_rpc_requests_total", {"rpc": GET_PERSON, "code": code})
    return value or 0.0


async def test_a_caller_is_asked_for_once_and_a_refusal_every_time(
    demo_staff_stub: StaffServiceStub,
) -> None:
    authenticator = DevAuthenticator(demo_staff_stub)
    found, missing = _asked("OK"), _asked("NOT_FOUND")
    for _ in range(3):
        caller = await authenticator.authenticate_metadata({"x-csd-user": "zhao.lei"})
        assert caller.id == "zhao.lei"
    assert _asked("OK") == found + 1
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            await authenticator.authenticate_metadata({"x-csd-user": "nobody"})
    assert _asked("NOT_FOUND") == missing + 2


async def test_a_person_made_inactive_is_refused_once_the_answer_expires(
    demo_staff_stub: StaffServiceStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity, "CALLER_TTL_SECONDS", 0.2)
    authenticator = DevAuthenticator(demo_staff_stub)
    await authenticator.authenticate_metadata({"x-csd-user": "liu.yang"})
    person = await demo_staff_stub.GetPerson(staff_pb2.GetPersonRequest(id="liu.yang"))
    person.active = False
    await demo_staff_stub.UpsertPerson(
        staff_pb2.UpsertPersonRequest(idempotency_key="leaves", person=person)
    )
    await asyncio.sleep(0.3)
    with pytest.raises(Unauthenticated, match="no longer active"):
        await authenticator.authenticate_metadata({"x-csd-user": "liu.yang"})
