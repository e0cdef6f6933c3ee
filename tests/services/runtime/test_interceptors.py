"""The request interceptor over real gRPC: every failure a servicer can raise becomes a status a
caller can act on, and nothing of the database (SQL, parameters, driver text) leaks to them."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest
import structlog
from csd.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from sqlalchemy import Engine, create_engine, event, text
from temporalio.exceptions import ApplicationError

from services.gateway.workflow_errors import mapped_error
from services.runtime.errors import NotFound
from services.runtime.server import start_server
from workflows import regulation

SECRET = "ward-7-password"


def _engine(url: str = "sqlite://") -> Engine:
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def limit_lengths(connection: sqlite3.Connection, _: object) -> None:
        # Like a VARCHAR(500) column on PostgreSQL: a longer value is a DataError.
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 500)

    return engine


def unique_violation() -> None:
    with _engine().begin() as connection:
        connection.execute(text("CREATE TABLE person (email TEXT UNIQUE)"))
        for _ in range(2):
            connection.execute(text("INSERT INTO person VALUES (:email)"), {"email": SECRET})


def value_too_long() -> None:
    with _engine().begin() as connection:
        connection.execute(text("CREATE TABLE person (email TEXT)"))
        connection.execute(text("INSERT INTO person VALUES (:email)"), {"email": SECRET * 100})


def database_gone(tmp_path: Path) -> None:
    with _engine(f"sqlite:///{tmp_path}/missing/dir/csd.db").begin() as connection:
        connection.execute(text("SELECT 1"))


def bug() -> None:
    raise ValueError(f"SELECT {SECRET} FROM person")


def refusal() -> None:
    raise NotFound("assistance request XA-1 does not exist")


def rule_refusal() -> None:
    raise regulation.NotAllowed("only the coordinator (shi.wenjun) may move this request on (XA-1)")


def workflow_refusal() -> None:
    raise mapped_error(
        ApplicationError("the request is closed", type="FAILED_PRECONDITION"), "request XA-1"
    )


def workflow_fault() -> None:
    # A workflow failing with an error no rule names: ours to look into, not the caller's.
    raise mapped_error(
        ApplicationError("list index out of range", type="IndexError"), "request XA-1"
    )


class FailingServicer(gateway_pb2_grpc.GatewayServiceServicer):
    """GetAssistance fails in the way its reference names."""

    def __init__(self, failures: dict[str, Callable[[], None]]) -> None:
        self._failures = failures

    async def GetAssistance(
        self, request: gateway_pb2.GetAssistanceRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Assistance:
        self._failures[request.reference]()
        return gateway_pb2.Assistance(reference=request.reference)


@pytest.fixture
async def stub(tmp_path: Path) -> AsyncIterator[gateway_pb2_grpc.GatewayServiceStub]:
    # Only GetAssistance is served; the generated base declares every RPC abstract.
    servicer = FailingServicer(  # type: ignore[abstract]
        {
            "integrity": unique_violation,
            "data": value_too_long,
            "connection": lambda: database_gone(tmp_path),
            "bug": bug,
            "refusal": refusal,
            "rule": rule_refusal,
            "workflow-refusal": workflow_refusal,
            "workflow-fault": workflow_fault,
            "fine": lambda: None,
        }
    )
    running = await start_server(
        address="127.0.0.1:0",
        register=lambda server: gateway_pb2_grpc.add_GatewayServiceServicer_to_server(
            servicer, server
        ),
        service_names=["csd.gateway.v1.GatewayService"],
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield gateway_pb2_grpc.GatewayServiceStub(channel)
    finally:
        await running.stop(grace=0)


async def _call(stub: gateway_pb2_grpc.GatewayServiceStub, failure: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetAssistance(
            gateway_pb2.GetAssistanceRequest(reference=failure),
            metadata=(("x-request-id", f"req-{failure}"),),
        )
    details = err.value.details() or ""
    for leak in (SECRET, "SQL", "INSERT", "SELECT", "sqlite", "Traceback", "person"):
        assert leak not in details, details
    return err.value


@pytest.mark.parametrize(
    ("failure", "code", "message"),
    [
        ("integrity", grpc.StatusCode.ALREADY_EXISTS, "this conflicts with an existing record"),
        ("data", grpc.StatusCode.INTERNAL, "internal error; quote request id req-data"),
        ("bug", grpc.StatusCode.INTERNAL, "internal error; quote request id req-bug"),
        ("connection", grpc.StatusCode.UNAVAILABLE, "the database is unavailable"),
        ("refusal", grpc.StatusCode.NOT_FOUND, "assistance request XA-1 does not exist"),
        ("rule", grpc.StatusCode.PERMISSION_DENIED, "only the coordinator (shi.wenjun) may"),
        ("workflow-refusal", grpc.StatusCode.FAILED_PRECONDITION, "the request is closed"),
        (
            "workflow-fault",
            grpc.StatusCode.INTERNAL,
            "internal error; quote request id req-workflow-fault",
        ),
    ],
)
async def test_failures_become_statuses_without_sql(
    stub: gateway_pb2_grpc.GatewayServiceStub, failure: str, code: grpc.StatusCode, message: str
) -> None:
    err = await _call(stub, failure)
    assert err.code() == code
    assert message in (err.details() or "")


async def test_unexpected_errors_are_logged_in_full_for_the_operators(
    stub: gateway_pb2_grpc.GatewayServiceStub,
) -> None:
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        await _call(stub, "data")
    failed = [e for e in logs if e["event"] == "rpc failed"]
    assert len(failed) == 1
    assert failed[0]["request_id"] == "req-data"
    assert failed[0]["log_level"] == "error" and failed[0]["exc_info"] is True


async def test_a_conflict_is_logged_as_one_call_line(
    stub: gateway_pb2_grpc.GatewayServiceStub,
) -> None:
    with structlog.testing.capture_logs() as logs:
        await _call(stub, "integrity")
    [line] = [e for e in logs if e["event"] == "rpc"]
    assert line["code"] == "ALREADY_EXISTS"
    assert "UNIQUE constraint failed" in line["message"]


async def test_a_good_call_passes_through(stub: gateway_pb2_grpc.GatewayServiceStub) -> None:
    answer = await stub.GetAssistance(gateway_pb2.GetAssistanceRequest(reference="fine"))
    assert answer.reference == "fine"


async def test_every_call_of_a_method_logs_its_own_request_and_caller(
    stub: gateway_pb2_grpc.GatewayServiceStub,
) -> None:
    """The method's handler is wrapped once and kept; what each call says is its own."""
    request = gateway_pb2.GetAssistanceRequest(reference="fine")
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        await stub.GetAssistance(request, metadata=(("x-request-id", "r-1"), ("x-csd-user", "a")))
        await stub.GetAssistance(request, metadata=(("x-request-id", "r-2"), ("x-csd-user", "b")))
        await stub.GetAssistance(request, metadata=(("x-csd-user-bin", b"\x00"),))
        await stub.GetAssistance(request)
    lines = [(e["request_id"], e["caller"]) for e in logs if e["event"] == "rpc"]
    assert lines[:2] == [("r-1", "a"), ("r-2", "b")]
    (third, nobody), (fourth, nobody_either) = lines[2:]
    assert nobody == nobody_either == ""
    assert len({third, fourth, "r-1", "r-2"}) == 4 and len(third) == 32


async def test_a_refusal_quoting_a_huge_input_keeps_its_status() -> None:
    """The details are a header a client may refuse past 8 KiB; a long quote is cut instead."""

    class Quoting(gateway_pb2_grpc.GatewayServiceServicer):
        async def GetAssistance(
            self, request: gateway_pb2.GetAssistanceRequest, context: grpc.aio.ServicerContext
        ) -> gateway_pb2.Assistance:
            raise NotFound(f"region {request.reference!r} does not exist")

    servicer = Quoting()  # type: ignore[abstract]
    running = await start_server(
        address="127.0.0.1:0",
        register=lambda server: gateway_pb2_grpc.add_GatewayServiceServicer_to_server(
            servicer, server
        ),
        service_names=["csd.gateway.v1.GatewayService"],
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await gateway_pb2_grpc.GatewayServiceStub(channel).GetAssistance(
                    gateway_pb2.GetAssistanceRequest(reference="東" * 5000)
                )
    finally:
        await running.stop(grace=0)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    details = err.value.details() or ""
    assert details.startswith("region '東東") and details.endswith("…")
    assert len(details.encode()) <= 2000


@pytest.mark.parametrize(
    "raw",
    [
        b"\x0a\x02\xff\xfe",  # field 1 (reference), a string that is not UTF-8
        b"\xff\xff\xff\xff\xff",  # not a protobuf message at all
        b"\x0a\x64short",  # a length that runs past the end
    ],
)
async def test_wire_level_garbage_is_invalid_argument(tmp_path: Path, raw: bytes) -> None:
    servicer = FailingServicer({"fine": lambda: None})  # type: ignore[abstract]
    running = await start_server(
        address="127.0.0.1:0",
        register=lambda server: gateway_pb2_grpc.add_GatewayServiceServicer_to_server(
            servicer, server
        ),
        service_names=["csd.gateway.v1.GatewayService"],
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = channel.unary_unary("/csd.gateway.v1.GatewayService/GetAssistance")
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call(raw)
    finally:
        await running.stop(grace=0)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid message" in (err.value.details() or "")
