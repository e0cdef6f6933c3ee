"""A case's start confirms its region with the staff directory once per few seconds, not on
every start (issue 16); a region the directory does not know is asked about every time."""

from __future__ import annotations

from typing import Any

import pytest
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from prometheus_client import REGISTRY

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.runtime.errors import NotFound

GET_REGION = "/csd.staff.v1.StaffService/GetRegion"


def _asked(code: str) -> float:
    value = REGISTRY.get_sample_value("csd_rpc_requests_total", {"rpc": GET_REGION, "code": code})
    return value or 0.0


def _caller(region: str) -> Caller:
    return Caller(id="zhao.lei", name="Zhao Lei", role="technical_service_engineer",
                  region_code=region)  # fmt: skip


async def test_a_region_is_confirmed_once_and_an_unknown_one_every_time(
    demo_staff_stub: StaffServiceStub,
) -> None:
    client: Any = None  # confirming a region never reaches Temporal
    gateway = ProcessGateway(client, demo_staff_stub)
    found, missing = _asked("OK"), _asked("NOT_FOUND")
    for _ in range(3):
        assert await gateway._region("", _caller("east")) == "east"
    assert _asked("OK") == found + 1
    for _ in range(2):
        with pytest.raises(NotFound, match="region 'atlantis' does not exist"):
            await gateway._region("atlantis", _caller("east"))
    assert _asked("NOT_FOUND") == missing + 2
