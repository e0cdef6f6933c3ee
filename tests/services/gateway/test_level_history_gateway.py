"""ORG-3 through the gateway: a person reads their own level history; the department managers
and the clerk read anyone's; a colleague is refused with the rule cited."""

from __future__ import annotations

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


async def test_a_level_history_is_read_by_those_it_concerns(gateway: GatewayServiceStub) -> None:
    own = await gateway.GetLevelHistory(G.GetLevelHistoryRequest(), metadata=as_user("zhao.lei"))
    assert own.person_id == "zhao.lei"
    assert [(c.field, c.to) for c in own.changes] == [
        ("role", "technical_service_engineer"), ("track", "technical_service"), ("level", "3"),
    ]  # fmt: skip
    read = G.GetLevelHistoryRequest(person_id="zhao.lei")
    assert await gateway.GetLevelHistory(read, metadata=as_user("chen.jing")) == own
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.GetLevelHistory(read, metadata=as_user("liu.yang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "(ORG-3)" in (err.value.details() or "")
