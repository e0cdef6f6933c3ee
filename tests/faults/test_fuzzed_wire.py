"""Raw bytes on the wire (issue 12): whatever a caller sends to any RPC of any service, the
answer is a status a person can act on, never UNKNOWN or INTERNAL. A message that does not parse
(corrupt bytes, a string that is not UTF-8, a length past the end) is INVALID_ARGUMENT; one that
happens to parse is judged by the RPC like any request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from csd.finance.v1 import finance_pb2
from csd.gateway.v1 import gateway_pb2
from csd.notify.v1 import notify_pb2
from csd.staff.v1 import staff_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from services.gateway import server as gateway_server
from tests.stack import Stack

pytestmark = pytest.mark.faults

ANSWERS = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.ALREADY_EXISTS,
}
SERVICES = [
    staff_pb2.DESCRIPTOR.services_by_name["StaffService"],
    finance_pb2.DESCRIPTOR.services_by_name["FinanceService"],
    notify_pb2.DESCRIPTOR.services_by_name["NotifyService"],
    gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"],
]
METHODS = sorted(f"/{s.full_name}/{m.name}" for s in SERVICES for m in s.methods)


def _length_past_the_end(payload: bytes) -> bytes:
    return b"\x0a" + bytes([len(payload) + 5]) + payload


def _not_utf8(payload: bytes) -> bytes:
    text = b"\xff" + payload
    return b"\x0a" + bytes([len(text)]) + text


# Bytes that break a protobuf parser in the ways that matter: lengths past the end, a string
# field that is not UTF-8, wire types no field has, an endless varint; and whatever else.
WIRE = st.one_of(
    st.binary(max_size=64),
    st.binary(max_size=16).map(_length_past_the_end),
    st.binary(max_size=16).map(_not_utf8),
    st.sampled_from([b"\x0f", b"\x0b\x0c", b"\x80" * 11 + b"\x01"]),
)


@pytest.fixture
async def channels(
    time_skipping_env: WorkflowEnvironment, stack: Stack
) -> AsyncIterator[dict[str, grpc.aio.Channel]]:
    running = await gateway_server.start(
        address="127.0.0.1:0",
        client=time_skipping_env.client,
        staff_address=stack.staff_address,
        finance_address=stack.finance_address,
        authentication=gateway_server.dev_authentication,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as gateway:
            yield {
                "StaffService": stack.staff,
                "FinanceService": stack.finance,
                "NotifyService": stack.notify,
                "GatewayService": gateway,
            }
    finally:
        await running.stop(grace=0)


async def _answer_of(channels: dict[str, grpc.aio.Channel], path: str, raw: bytes) -> None:
    service = path.split("/")[1].rsplit(".", 1)[1]
    call = channels[service].unary_unary(path)
    try:
        await call(raw, metadata=(("x-csd-user", "zhao.lei"),), timeout=15)
    except grpc.aio.AioRpcError as err:
        assert err.code() in ANSWERS, (path, raw, err.code(), err.details())
        assert "Traceback" not in (err.details() or "")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(METHODS), raw=WIRE)
async def test_garbage_to_any_rpc_gets_an_actionable_status(
    channels: dict[str, grpc.aio.Channel], path: str, raw: bytes
) -> None:
    await _answer_of(channels, path, raw)


async def test_every_rpc_answers_the_empty_and_the_broken_message(
    channels: dict[str, grpc.aio.Channel],
) -> None:
    """The random draw above may miss an RPC in a run; this one visits every RPC with the two
    messages every parser meets first: nothing at all, and a string that is not UTF-8."""
    for path in METHODS:
        for raw in (b"", _not_utf8(b"x")):
            await _answer_of(channels, path, raw)
