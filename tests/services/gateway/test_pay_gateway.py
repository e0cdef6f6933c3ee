"""Pay through the gateway (PAY-2): performance pay entered by a department manager only; the
month's statement read by the person, the department managers and the clerk."""

from __future__ import annotations

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


async def test_performance_pay_and_the_statement_through_the_gateway(
    gateway: GatewayServiceStub,
) -> None:
    enter = G.RecordPerformancePayRequest(person_id="zhao.lei", month="2026-06", amount_fen=800_00)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.RecordPerformancePay(enter, metadata=as_user("wang.qiang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    entered = await gateway.RecordPerformancePay(enter, metadata=as_user("huang.aiping"))
    assert entered.recorded_by == "huang.aiping"
    statement = await gateway.GetPayStatement(
        G.GetPayStatementRequest(month="2026-06"), metadata=as_user("zhao.lei")
    )
    assert {line.item: line.amount_fen for line in statement.lines}["performance_pay"] == 800_00
    assert "base_salary" in {line.item for line in statement.not_paid}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.GetPayStatement(
            G.GetPayStatementRequest(person_id="zhao.lei", month="2026-06"),
            metadata=as_user("liu.yang"),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
