"""The worker's metrics (issue 15): the Temporal SDK's own and the department's case gauges,
served by one runtime at CSD_METRICS_ADDRESS, from a real worker on the real dev server."""

from __future__ import annotations

import asyncio
import re
import socket
import uuid

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.runtime.temporal_client import data_converter
from services.worker.case_gauges import CaseGauges
from services.worker.telemetry import metrics_runtime
from tests.stack import Stack
from workflows.assistance import AssistanceInput, AssistanceWorkflow, workflow_id


def _free_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


async def _scrape(address: str) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"http://{address}/metrics")).text


def _value(page: str, name: str, **labels: str) -> float | None:
    """The sample of `name` whose labels include `labels`, or None when there is none."""
    for line in page.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return None


async def test_the_sdk_metrics_and_the_case_gauges_share_one_endpoint(
    dev_server_env: WorkflowEnvironment, stack: Stack
) -> None:
    address = _free_address()
    runtime = metrics_runtime(address)
    assert runtime is not None
    client = await Client.connect(
        dev_server_env.client.service_client.config.target_host,
        data_converter=data_converter(),
        runtime=runtime,
    )
    gauges = CaseGauges(runtime.metric_meter)
    reference = f"XA-GAUGE-{uuid.uuid4().hex[:6]}"
    task_queue = f"test-{uuid.uuid4()}"
    async with stack.worker(client, task_queue):
        handle = await client.start_workflow(
            AssistanceWorkflow.run,
            AssistanceInput(reference, "liu.yang", "east", "rnd", "Export", "times out", "2024-v1"),
            id=workflow_id(reference),
            task_queue=task_queue,
        )
        await stack.mail.wait_for(lambda m: reference in str(m["Subject"]), 20)
        # Visibility is eventually consistent: the new case is counted once it is listed.
        for _ in range(50):
            await gauges.refresh(client)
            page = await _scrape(address)
            with_ours = _value(page, "csd_open_cases", process="assistance", region="east")
            if with_ours:
                break
            await asyncio.sleep(0.1)
        assert with_ours is not None and with_ours >= 1
        assert (
            _value(page, "csd_sla_clocks", process="assistance", region="east", state="breached")
            == 0
        )

        await handle.terminate("test over")
        for _ in range(50):
            await gauges.refresh(client)
            page = await _scrape(address)
            if _value(page, "csd_open_cases", process="assistance", region="east") == with_ours - 1:
                break
            await asyncio.sleep(0.1)
        # Gone from the count, and read as one fewer (zero, not absent, once none is left).
        assert _value(page, "csd_open_cases", process="assistance", region="east") == with_ours - 1

    # The worker's own work, as the SDK saw it.
    for family in (
        "temporal_workflow_task_execution_latency_seconds_bucket",
        "temporal_activity_execution_latency_seconds_bucket",
        "temporal_worker_task_slots_available",
        "temporal_request_total",
    ):
        assert family in page, family


def test_without_an_address_the_worker_keeps_no_metrics() -> None:
    assert metrics_runtime("") is None
