"""Every part's RPC metrics (issue 15): each answer is counted by method and status code, its
time observed, the refusals too, and served in the Prometheus text format over HTTP."""

from __future__ import annotations

import grpc
import httpx
import pytest
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from prometheus_client import REGISTRY

from services.runtime.metrics import serve_metrics

GET_PERSON = "/csd.staff.v1.StaffService/GetPerson"
LIST_REGIONS = "/csd.staff.v1.StaffService/ListRegions"


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_answers_are_counted_by_code_and_timed_and_served(
    staff_stub: StaffServiceStub,
) -> None:
    not_found = _sample("csd_rpc_requests_total", rpc=GET_PERSON, code="NOT_FOUND")
    timed = _sample("csd_rpc_duration_seconds_count", rpc=GET_PERSON)
    with pytest.raises(grpc.aio.AioRpcError):
        await staff_stub.GetPerson(staff_pb2.GetPersonRequest(id="nobody"))
    listed = _sample("csd_rpc_requests_total", rpc=LIST_REGIONS, code="OK")
    await staff_stub.ListRegions(staff_pb2.ListRegionsRequest())
    assert _sample("csd_rpc_requests_total", rpc=GET_PERSON, code="NOT_FOUND") == not_found + 1
    assert _sample("csd_rpc_requests_total", rpc=LIST_REGIONS, code="OK") == listed + 1
    assert _sample("csd_rpc_duration_seconds_count", rpc=GET_PERSON) == timed + 1

    port = serve_metrics("127.0.0.1:0")
    async with httpx.AsyncClient() as http:
        page = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    assert f'csd_rpc_requests_total{{code="NOT_FOUND",rpc="{GET_PERSON}"}}' in page
    assert f'csd_rpc_duration_seconds_bucket{{le="0.001",rpc="{GET_PERSON}"}}' in page
