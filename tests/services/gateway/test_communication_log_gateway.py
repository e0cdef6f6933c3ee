"""The communication log through the gateway (CL-1, CL-2): the caller writes as themself, on
the latest version; a stale write comes back FAILED_PRECONDITION with the staff service's
details (the current version and the entries since); the log is read by those it is for."""

from __future__ import annotations

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from csd.staff.v1 import staff_pb2 as S

from services.gateway.relay import status_details

PROJECT = "sh-first-hospital"


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def append(version: int, summary: str) -> G.AppendCommunicationLogRequest:
    return G.AppendCommunicationLogRequest(
        project_code=PROJECT, expected_version=version, contact_with="the IT director",
        channel="visit", summary=summary,
    )  # fmt: skip


async def test_a_log_written_in_turn_and_a_stale_write_refused_with_what_it_missed(
    gateway: GatewayServiceStub,
) -> None:
    first = await gateway.AppendCommunicationLog(
        append(0, "went through the backup plan"), metadata=as_user("zhao.lei")
    )
    assert (first.version, first.author_id) == (1, "zhao.lei")
    await gateway.AppendCommunicationLog(
        append(1, "renewal talk with the IT director"), metadata=as_user("li.na")
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.AppendCommunicationLog(
            append(1, "written on an old copy"), metadata=as_user("wang.qiang")
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "(CL-2)" in (err.value.details() or "")
    [detail] = status_details(err.value)
    stale = S.StaleLog()
    assert detail.Unpack(stale)
    assert stale.current_version == 2
    assert [e.author_id for e in stale.entries_since] == ["li.na"]

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.AppendCommunicationLog(append(2, "not mine"), metadata=as_user("sun.hao"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "(CL-1)" in (err.value.details() or "")

    read = G.GetCommunicationLogRequest(project_code=PROJECT)
    log = await gateway.GetCommunicationLog(read, metadata=as_user("shi.wenjun"))  # assistant
    assert log.version == 2 and [e.version for e in log.entries] == [1, 2]
    assert log.hospital == "上海第一醫院" and len(log.csv.splitlines()) == 3
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.GetCommunicationLog(read, metadata=as_user("liu.yang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
