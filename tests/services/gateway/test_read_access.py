"""Reads are for the people a case concerns (issue 12): each Get answers its requester, the
people the rule routes it to and the roles that keep it, and refuses anyone else
PERMISSION_DENIED naming the rule; a leave's type and reason only reach those who decide or
record it; the tracking sheet is its keepers', a region's managers read their region's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub

from tests.services.gateway.test_leave_gateway import request as leave_request
from tests.services.gateway.test_major_problem_gateway import report
from tests.services.gateway.test_requirement_gateway import submission


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


async def refused(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, err.value.details()
    return err.value


async def eventually(read: Callable[[], Awaitable[Any]], done: Callable[[Any], bool]) -> Any:
    for _ in range(200):
        answer = await read()
        if done(answer):
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"still {answer}")


async def test_an_assistance_request_is_read_by_those_it_concerns(
    gateway: GatewayServiceStub,
) -> None:
    reference = f"XA-READ-{uuid.uuid4().hex[:6]}"
    await gateway.StartAssistance(
        G.StartAssistanceRequest(
            reference=reference, target_department="rnd", subject="s", description="d"
        ),
        metadata=as_user("zhao.lei"),
    )
    get = G.GetAssistanceRequest(reference=reference)
    await eventually(
        lambda: gateway.GetAssistance(get, metadata=as_user("zhao.lei")),
        lambda a: a.stage == "awaiting_coordinator",
    )
    for reader in ("zhao.lei", "shi.wenjun", "wang.qiang", "li.na", "huang.aiping"):
        assert (await gateway.GetAssistance(get, metadata=as_user(reader))).reference == reference
    err = await refused(gateway.GetAssistance(get, metadata=as_user("sun.hao")))
    assert "(XA-1)" in (err.details() or "")


async def test_a_leave_is_read_by_those_it_concerns_and_its_reason_by_those_who_decide(
    own_gateway: GatewayServiceStub,
) -> None:
    # A clock of its own: the shared server's runs ahead while other tests wait on their
    # timers, and a leave must start within the calendar's three years of its request.
    gateway = own_gateway
    ref = await gateway.RequestLeave(
        leave_request(reason="a private matter", leave_type="sick"), metadata=as_user("liu.yang")
    )
    get = G.GetLeaveRequest(leave_id=ref.leave_id)
    leave = await eventually(
        lambda: gateway.GetLeave(get, metadata=as_user("liu.yang")),
        lambda a: a.stage == "awaiting_approval",
    )
    assert leave.leave_type == "sick" and leave.history[0].note == "a private matter"
    approver = leave.approver_ids[0]
    for decider in (approver, "huang.aiping", "chen.jing"):
        seen = await gateway.GetLeave(get, metadata=as_user(decider))
        assert seen.leave_type == "sick" and seen.history[0].note == "a private matter"
    # Copied (LV-1), so told of the leave, but not of its type or reason.
    copied = await gateway.GetLeave(get, metadata=as_user("shi.wenjun"))
    assert copied.start_date == leave.start_date
    assert copied.leave_type == "" and copied.history[0].note == ""
    err = await refused(gateway.GetLeave(get, metadata=as_user("zhao.lei")))
    assert "(LV-1)" in (err.details() or "")
    await gateway.CancelLeave(
        G.CancelLeaveRequest(leave_id=ref.leave_id), metadata=as_user("liu.yang")
    )


async def test_a_major_problem_is_read_by_those_it_was_sent_to(gateway: GatewayServiceStub) -> None:
    reference = f"MI-READ-{uuid.uuid4().hex[:6]}"
    await gateway.ReportMajorProblem(report(reference), metadata=as_user("ma.chao"))
    get = G.GetMajorProblemRequest(reference=reference)
    await eventually(
        lambda: gateway.GetMajorProblem(get, metadata=as_user("ma.chao")),
        lambda p: p.stage == "awaiting_acknowledgement",
    )
    for reader in ("zhou.xiaoming", "huang.aiping", "shi.wenjun"):
        assert (await gateway.GetMajorProblem(get, metadata=as_user(reader))).reference == reference
    err = await refused(gateway.GetMajorProblem(get, metadata=as_user("sun.hao")))
    assert "(MI-2)" in (err.details() or "")


async def test_a_requirement_and_the_tracking_sheet_are_read_by_their_keepers(
    dev_gateway: GatewayServiceStub,
) -> None:
    gateway = dev_gateway  # the tracking sheet reads Temporal's visibility store
    reference = f"RQ-READ-{uuid.uuid4().hex[:6]}"
    await gateway.SubmitRequirement(submission(reference), metadata=as_user("zhao.lei"))
    get = G.GetRequirementRequest(reference=reference)
    await eventually(
        lambda: gateway.GetRequirement(get, metadata=as_user("zhao.lei")),
        lambda r: r.stage == "submitted",
    )
    for reader in ("gao.lei", "shi.wenjun", "wang.qiang", "li.na", "huang.aiping"):
        assert (await gateway.GetRequirement(get, metadata=as_user(reader))).reference == reference
    for outsider in ("liu.yang", "wu.min"):  # another engineer; another region's manager
        err = await refused(gateway.GetRequirement(get, metadata=as_user(outsider)))
        assert "(RQ-3)" in (err.details() or "")
    sheet = G.ListRequirementsRequest()
    await refused(gateway.ListRequirements(sheet, metadata=as_user("zhao.lei")))
    await refused(gateway.ExportRequirements(sheet, metadata=as_user("zhao.lei")))
    await refused(
        gateway.ListRequirements(
            G.ListRequirementsRequest(region_code="east"), metadata=as_user("wu.min")
        )
    )
    # A region's manager reads their own region's sheet, even when asking for all of it.
    own = await gateway.ListRequirements(sheet, metadata=as_user("wu.min"))
    assert all(row.region == "north" for row in own.rows)
