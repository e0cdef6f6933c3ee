"""A gateway on loopback with a worker, over the real services."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.gateway import server as gateway_server
from tests.stack import Stack


@asynccontextmanager
async def gateway_for(
    client: Client,
    stack: Stack,
    task_queue: str,
    authentication: gateway_server.Authentication = gateway_server.dev_authentication,
) -> AsyncIterator[GatewayServiceStub]:
    """Dev authentication unless told otherwise: the tests name their callers in x-csd-user;
    tests/services/gateway/test_authentication.py runs the production kind."""
    running = await gateway_server.start(
        authentication=authentication,
        address="127.0.0.1:0",
        client=client,
        staff_address=stack.staff_address,
        finance_address=stack.finance_address,
        task_queue=task_queue,
    )
    try:
        worker = stack.worker(client, task_queue)
        async with worker, grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield GatewayServiceStub(channel)
    finally:
        await running.stop(grace=0)


@pytest.fixture
async def gateway(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> AsyncIterator[GatewayServiceStub]:
    async with gateway_for(time_skipping_env.client, stack, task_queue) as stub:
        yield stub


@pytest.fixture
async def own_gateway(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> AsyncIterator[GatewayServiceStub]:
    """A gateway over a time-skipping server no other test moves the clock of."""
    async with gateway_for(own_time_skipping_env.client, stack, task_queue) as stub:
        yield stub


@pytest.fixture
async def dev_gateway(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> AsyncIterator[GatewayServiceStub]:
    """A gateway over the real dev server, whose visibility store answers list queries."""
    async with gateway_for(dev_server_env.client, stack, task_queue) as stub:
        yield stub


async def requirement_routed(gateway: GatewayServiceStub, reference: str) -> None:
    """Asked of the workflow itself, by someone who may not filter: "still being routed"
    (FAILED_PRECONDITION) until it knows its senior support, then PERMISSION_DENIED. (A filter
    the gateway refuses on its own, such as a refusal without a reason, says nothing of it.)"""
    for _ in range(200):
        try:
            await gateway.FilterRequirement(
                G.FilterRequirementRequest(reference=reference, accept=True),
                metadata=(("x-csd-user", "wang.qiang"),),
            )
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.PERMISSION_DENIED:
                return
            assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err.details()
        else:
            raise AssertionError("wang.qiang, not senior support, filtered the requirement")
        await asyncio.sleep(0.05)
    raise AssertionError(f"{reference} was never routed to support")
