"""Spot checks and cases for dismissal through the gateway (AT-3, AT-4): recorded by the clerk or
head office, anyone else refused and nothing started; a case for dismissal read by those it
concerns and decided by a department manager only."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub

from tests.services.staff.test_staff_service import _person
from tests.stack import Stack


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


async def hire(stack: Stack) -> str:
    person = f"eng-{uuid.uuid4().hex[:8]}"
    await StaffServiceStub(stack.staff).UpsertPerson(
        staff_pb2.UpsertPersonRequest(idempotency_key=person, person=_person(person))
    )
    return person


def finding(person: str, *days: str, reference: str = "") -> G.RecordSpotCheckRequest:
    return G.RecordSpotCheckRequest(
        reference=reference or f"SC-{uuid.uuid4().hex[:8]}",
        person_id=person,
        days=list(days),
        place_claimed="上海第一醫院",
        place_found="at home",
    )


async def refused(call: object, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call  # type: ignore[misc]
    assert err.value.code() == code, err.value.details()
    return err.value.details() or ""


async def test_a_spot_check_is_recorded_by_the_clerk_or_head_office_only(
    gateway: GatewayServiceStub, stack: Stack
) -> None:
    person = await hire(stack)
    request = finding(person, "2026-11-02", "2026-11-03")
    words = await refused(
        gateway.RecordSpotCheck(request, metadata=as_user("wang.qiang")),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "(AT-3)" in words
    recorded = await gateway.RecordSpotCheck(request, metadata=as_user("chen.jing"))
    assert (recorded.amount_fen, list(recorded.days)) == (200_00, ["2026-11-02", "2026-11-03"])
    assert await gateway.RecordSpotCheck(request, metadata=as_user("chen.jing")) == recorded
    other = finding(person, "2026-11-09", reference=request.reference)
    await refused(
        gateway.RecordSpotCheck(other, metadata=as_user("huang.aiping")),
        grpc.StatusCode.FAILED_PRECONDITION,
    )


@pytest.mark.parametrize(
    ("request_message", "code"),
    [
        (finding("zhao.lei"), grpc.StatusCode.INVALID_ARGUMENT),  # no days
        (finding("zhao.lei", "2026-11-31"), grpc.StatusCode.INVALID_ARGUMENT),
        (finding("nobody.here", "2026-11-02"), grpc.StatusCode.NOT_FOUND),
        (
            G.RecordSpotCheckRequest(
                reference="SC-x", person_id="zhao.lei", days=["2026-11-02"], place_found="home"
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ],
)
async def test_a_bad_finding_is_refused(
    gateway: GatewayServiceStub, request_message: G.RecordSpotCheckRequest, code: grpc.StatusCode
) -> None:
    await refused(gateway.RecordSpotCheck(request_message, metadata=as_user("chen.jing")), code)


async def test_a_case_for_dismissal_is_read_by_those_it_concerns_and_decided_by_a_manager(
    gateway: GatewayServiceStub, stack: Stack
) -> None:
    person = await hire(stack)
    await gateway.RecordSpotCheck(
        finding(person, "2026-11-02", "2026-11-03", "2026-11-04"), metadata=as_user("chen.jing")
    )
    get = G.GetDismissalRequest(person_id=person)
    for _ in range(200):
        try:
            case = await gateway.GetDismissal(get, metadata=as_user(person))
            if case.stage == "awaiting_decision":
                break
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.05)
    assert case.absent_days == ["2026-11-02", "2026-11-03", "2026-11-04"]
    for reader in ("wang.qiang", "chen.jing", "huang.aiping"):
        assert (await gateway.GetDismissal(get, metadata=as_user(reader))).person_id == person
    await refused(
        gateway.GetDismissal(get, metadata=as_user("liu.yang")), grpc.StatusCode.PERMISSION_DENIED
    )
    decide = G.DecideDismissalRequest(person_id=person, outcome="kept", reason="first offence")
    words = await refused(
        gateway.DecideDismissal(decide, metadata=as_user("wang.qiang")),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "a department manager decides (AT-4)" in words
    await refused(
        gateway.DecideDismissal(
            G.DecideDismissalRequest(person_id=person, outcome="kept"),
            metadata=as_user("huang.aiping"),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    decided = await gateway.DecideDismissal(decide, metadata=as_user("huang.aiping"))
    assert (decided.stage, decided.decided_by, decided.reason) == (
        "kept",
        "huang.aiping",
        "first offence",
    )
