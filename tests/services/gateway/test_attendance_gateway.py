"""Attendance through the gateway (AT-1): each person reports their own day, the clerk reports
for anyone and imports the HR export, and a month's sheet is read by the person, their region's
managers, the clerk and the department managers; anyone else is refused and nothing is written.
The staff service's own refusals reach the caller in its words."""

from __future__ import annotations

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub

from tests.stack import Stack

DAY = "2026-06-01"


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def on_site(**changes: str) -> G.ReportAttendanceRequest:
    fields = {
        "date": DAY,
        "status": "on_site",
        "hospital": "上海第一醫院",
        "city": "Shanghai",
        "place_region_code": "east",
    } | changes
    return G.ReportAttendanceRequest(**fields)


async def stored(stack: Stack, person: str = "zhao.lei") -> list[staff_pb2.AttendanceDay]:
    answer = await StaffServiceStub(stack.staff).ListAttendance(
        staff_pb2.ListAttendanceRequest(person_id=person, **{"from": DAY}, to=DAY)
    )
    return list(answer.days)


async def test_a_person_reports_their_day_and_the_clerk_for_anyone(
    gateway: GatewayServiceStub, stack: Stack
) -> None:
    mine = await gateway.ReportAttendance(on_site(), metadata=as_user("zhao.lei"))
    assert (mine.person_id, mine.status, mine.reported_by) == ("zhao.lei", "on_site", "zhao.lei")
    again = await gateway.ReportAttendance(on_site(), metadata=as_user("zhao.lei"))
    assert again == mine  # a retry is the same write
    by_clerk = await gateway.ReportAttendance(
        on_site(person_id="zhao.lei", status="office", hospital="", city="", place_region_code=""),
        metadata=as_user("chen.jing"),
    )
    assert (by_clerk.status, by_clerk.reported_by) == ("office", "chen.jing")
    assert [d.reported_by for d in await stored(stack)] == ["chen.jing"]  # the latest counts


@pytest.mark.parametrize(
    ("request_message", "user", "code", "words"),
    [
        (on_site(person_id="zhao.lei"), "liu.yang", grpc.StatusCode.PERMISSION_DENIED, "(AT-1)"),
        (on_site(status="beach"), "zhao.lei", grpc.StatusCode.INVALID_ARGUMENT, "use one of"),
        (on_site(hospital=""), "zhao.lei", grpc.StatusCode.INVALID_ARGUMENT, "names the hospital"),
        (
            on_site(place_region_code="atlantis"),
            "zhao.lei",
            grpc.StatusCode.FAILED_PRECONDITION,
            "'atlantis' is not a region",
        ),
        (on_site(date="2099-01-05"), "zhao.lei", grpc.StatusCode.INVALID_ARGUMENT, "future"),
    ],
)
async def test_a_report_refused_writes_nothing(
    gateway: GatewayServiceStub,
    stack: Stack,
    request_message: G.ReportAttendanceRequest,
    user: str,
    code: grpc.StatusCode,
    words: str,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.ReportAttendance(request_message, metadata=as_user(user))
    assert err.value.code() == code
    assert words in (err.value.details() or "")
    assert await stored(stack) == []


HEADER = "person_id,date,status,hospital,city,place_region_code,note\n"


async def test_only_the_clerk_imports_and_a_bad_file_is_refused_whole(
    gateway: GatewayServiceStub, stack: Stack
) -> None:
    good = HEADER + f"zhao.lei,{DAY},office,,,,\nliu.yang,{DAY},rest_day,,,,\n"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.ImportAttendance(
            G.ImportAttendanceRequest(csv=good), metadata=as_user("zhao.lei")
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    bad = good + f"nobody,{DAY},sleeping,,,,\n"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.ImportAttendance(
            G.ImportAttendanceRequest(csv=bad), metadata=as_user("chen.jing")
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "line 4: status is required" in (err.value.details() or "")
    assert await stored(stack) == [] and await stored(stack, "liu.yang") == []
    imported = await gateway.ImportAttendance(
        G.ImportAttendanceRequest(csv=good), metadata=as_user("chen.jing")
    )
    assert imported.days == 2


@pytest.mark.parametrize(
    ("reader", "allowed"),
    [
        ("zhao.lei", True),  # the person
        ("wang.qiang", True),  # east's technical service manager
        ("chen.jing", True),  # the clerk
        ("huang.aiping", True),  # a department manager
        ("zhang.wei", False),  # north's technical service manager
        ("liu.yang", False),  # a colleague
    ],
)
async def test_a_sheet_is_read_by_those_it_concerns(
    gateway: GatewayServiceStub, reader: str, allowed: bool
) -> None:
    await gateway.ReportAttendance(on_site(), metadata=as_user("zhao.lei"))
    request = G.GetAttendanceSheetRequest(person_id="zhao.lei", month="2026-06")
    if allowed:
        sheet = await gateway.GetAttendanceSheet(request, metadata=as_user(reader))
        assert [d.date for d in sheet.days] == [DAY] and sheet.working_days == 21
    else:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await gateway.GetAttendanceSheet(request, metadata=as_user(reader))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
