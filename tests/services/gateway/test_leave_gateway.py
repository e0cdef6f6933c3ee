"""Leave through the gateway: LV-2 at the door, decisions by the right people, clear refusals."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub

from services.runtime.dates import today
from tests.calendar_dates import plain_monday
from workflows.regulation import texts

MON = plain_monday()
AM, PM = G.DAY_HALF_AM, G.DAY_HALF_PM


def day(offset: int) -> str:
    return (MON + timedelta(days=offset)).isoformat()


def in_shanghai(instant: str) -> bool:
    return instant.endswith("+08:00") and datetime.fromisoformat(instant).utcoffset() == timedelta(
        hours=8
    )


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def request(**changes: object) -> G.RequestLeaveRequest:
    fields: dict[str, object] = {
        "leave_type": "annual",
        "start_date": day(0),
        "start_half": AM,
        "end_date": day(1),
        "end_half": PM,
        "reason": "family visit",
    }
    fields.update(changes)
    return G.RequestLeaveRequest(**fields)  # type: ignore[arg-type]


async def leave_awaiting(gateway: GatewayServiceStub, leave_id: str, user: str) -> G.Leave:
    for _ in range(200):
        leave: G.Leave = await gateway.GetLeave(
            G.GetLeaveRequest(leave_id=leave_id), metadata=as_user(user)
        )
        if leave.stage == "awaiting_approval":
            return leave
        await asyncio.sleep(0.05)
    raise AssertionError(f"leave stayed {leave.stage}")


async def test_a_leave_request_through_the_gateway(own_gateway: GatewayServiceStub) -> None:
    ref = await own_gateway.RequestLeave(request(), metadata=as_user("zhao.lei"))
    assert ref.leave_id == f"leave-zhao.lei-{day(0)}-am"
    assert (ref.half_days, ref.calendar_official, ref.rule_version) == (4, True, "2024-v1")
    again = await own_gateway.RequestLeave(request(), metadata=as_user("zhao.lei"))
    assert again.run_id == ref.run_id

    leave = await leave_awaiting(own_gateway, ref.leave_id, "zhao.lei")
    assert (leave.rule_id, list(leave.approver_ids), leave.sla_state) == (
        "LV-1",
        ["wang.qiang"],
        "ok",
    )
    # The decision clock, timed by the instants the reply reports, all in Asia/Shanghai;
    # events name their kind in `stage`.
    [clock] = leave.slas
    assert (clock.name, clock.state, clock.warn_at, clock.breach_at) == (
        "decision",
        "ok",
        leave.reminder_at,
        leave.escalate_at,
    )
    assert "within 4 working hours" in clock.promise and "(LV-1..LV-4)" in clock.promise
    assert [e.stage for e in leave.history] == ["submitted"]
    assert list(leave.notices) == []
    assert all(
        in_shanghai(at)
        for at in (leave.reminder_at, leave.escalate_at, clock.started_at, leave.history[0].at)
    )

    for user, code in (
        ("liu.yang", grpc.StatusCode.PERMISSION_DENIED),
        ("zhao.lei", grpc.StatusCode.PERMISSION_DENIED),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await own_gateway.DecideLeave(
                G.DecideLeaveRequest(leave_id=ref.leave_id, approve=True), metadata=as_user(user)
            )
        assert err.value.code() == code
    decided = await own_gateway.DecideLeave(
        G.DecideLeaveRequest(leave_id=ref.leave_id, approve=True), metadata=as_user("wang.qiang")
    )
    assert (decided.decided_by, decided.sla_state, decided.slas[0].state) == (
        "wang.qiang",
        "met",
        "met",
    )
    for _ in range(200):
        leave = await own_gateway.GetLeave(
            G.GetLeaveRequest(leave_id=ref.leave_id), metadata=as_user("zhao.lei")
        )
        if leave.stage == "recorded":
            break
        await asyncio.sleep(0.05)
    assert leave.stage == "recorded" and leave.record_id
    assert [e.stage for e in leave.history] == ["submitted", "approved", "recorded"]
    assert all(in_shanghai(e.at) for e in leave.history)

    cancelled = await own_gateway.CancelLeave(
        G.CancelLeaveRequest(leave_id=ref.leave_id, reason="trip called off"),
        metadata=as_user("zhao.lei"),
    )
    assert cancelled.stage == "cancelled"


async def test_the_same_start_with_other_details_is_refused(
    own_gateway: GatewayServiceStub,
) -> None:
    await own_gateway.RequestLeave(request(), metadata=as_user("sun.hao"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await own_gateway.RequestLeave(request(end_date=day(3)), metadata=as_user("sun.hao"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        # LV-2: no retroactive leave, not even for half a day already gone; the workflow's
        # own sentence.
        (
            {"start_date": (today() - timedelta(days=1)).isoformat(), "start_half": PM},
            grpc.StatusCode.FAILED_PRECONDITION,
            f"leave starting {today() - timedelta(days=1)} pm has already begun: leave must be "
            "requested in advance, never afterwards (LV-2)",
        ),
        (
            {
                "start_date": (today() - timedelta(days=3)).isoformat(),
                "end_date": today().isoformat(),
            },
            grpc.StatusCode.FAILED_PRECONDITION,
            "LV-2",
        ),
        ({"leave_type": "sabbatical"}, grpc.StatusCode.INVALID_ARGUMENT, "leave_type"),
        ({"start_date": "next monday"}, grpc.StatusCode.INVALID_ARGUMENT, "start_date"),
        ({"end_date": day(-1)}, grpc.StatusCode.INVALID_ARGUMENT, "ends before"),
        (
            {"start_date": day(5), "end_date": day(6)},
            grpc.StatusCode.INVALID_ARGUMENT,
            "no working time",
        ),
        ({"start_half": 9}, grpc.StatusCode.INVALID_ARGUMENT, "start_half"),
        ({"reason": " "}, grpc.StatusCode.INVALID_ARGUMENT, "reason"),
        ({"reason": "x" * (texts.TEXT + 1)}, grpc.StatusCode.INVALID_ARGUMENT, "reason"),
        ({"requester_id": "zhao.lei"}, grpc.StatusCode.PERMISSION_DENIED, "on behalf"),
        ({"end_date": "2099-01-01"}, grpc.StatusCode.INVALID_ARGUMENT, "three years"),
    ],
)
async def test_bad_leave_requests_are_refused_and_start_nothing(
    gateway: GatewayServiceStub, changes: dict[str, object], code: grpc.StatusCode, words: str
) -> None:
    bad = request(**changes)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.RequestLeave(bad, metadata=as_user("liu.yang"))
    assert err.value.code() == code
    assert words in (err.value.details() or "")
    leave_id = f"leave-liu.yang-{bad.start_date}-am"
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await gateway.GetLeave(G.GetLeaveRequest(leave_id=leave_id), metadata=as_user("liu.yang"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("rpc", "message", "code"),
    [
        (
            "DecideLeave",
            G.DecideLeaveRequest(leave_id="nonsense", approve=True),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            "DecideLeave",
            G.DecideLeaveRequest(leave_id="leave-nobody-2030-01-01-am", approve=True),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            "CancelLeave",
            G.CancelLeaveRequest(leave_id="leave-nobody-2030-01-01-am"),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            "CancelLeave",
            G.CancelLeaveRequest(leave_id="leave-x", reason="x" * (texts.TEXT + 1)),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            "DecideLeave",
            G.DecideLeaveRequest(leave_id="leave-x", approve=False, reason=" "),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        ("GetLeave", G.GetLeaveRequest(leave_id=""), grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
async def test_bad_leave_references_get_clear_statuses(
    gateway: GatewayServiceStub, rpc: str, message: object, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(gateway, rpc)(message, metadata=as_user("wang.qiang"))
    assert err.value.code() == code
    assert err.value.details()
