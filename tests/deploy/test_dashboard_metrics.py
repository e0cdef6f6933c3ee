"""SCRAPE TEST (end to end, real processes): every metric the Grafana dashboard and the alert
rules query is really exported by some part.

It starts staff, finance, notify, the gateway and a worker as the `csd` processes production
runs (`csd serve <part>`, `csd worker`), each with its own CSD_METRICS_ADDRESS, on the Temporal
dev server, in dev mode on loopback. Then one major problem goes in through the gateway (its
first phone call refused by the voice gateway once: a failed delivery and a failed activity
attempt), one bypass fine (a workflow that completes and writes a ledger row) and, straight to
Temporal, a fine under a rule set that does not exist (a workflow that fails). Every part's
/metrics is then read until each name of tests/deploy/dashboard.py has a sample somewhere; the
case and ledger gauges are refreshed every 30 s, so this takes up to a minute.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import pytest
from csd.finance.v1 import finance_pb2_grpc
from csd.gateway.v1 import gateway_pb2
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from csd.staff.v1 import staff_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from services.finance.regulation import publish_regulation_policy
from services.mailsink.sink import MailSink
from services.staff.demo import load_demo
from tests.deploy.dashboard import dashboard_metric_names, family
from tests.phone_gateway import PhoneGateway
from workflows import task_queues
from workflows.penalty import PenaltyInput, PenaltyWorkflow

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

CSD = Path(sys.executable).parent / "csd"
SERVICES = ("staff", "finance", "notify", "gateway")
# The case gauges (worker) and the ledger gauge (finance) are read every 30 s.
SCRAPE_WITHIN_SECONDS = 90.0
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})? \S+")


def _free_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@dataclass
class Parts:
    """The running processes, where each listens and serves its metrics, and their logs."""

    folder: Path
    addresses: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def env(self, part: str, base: dict[str, str]) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("CSD_")}
        return {
            **inherited,
            **base,
            **{f"CSD_{name.upper()}_ADDRESS": address for name, address in self.addresses.items()},
            "CSD_METRICS_ADDRESS": self.metrics[part],
        }

    def start(self, part: str, argv: list[str], base: dict[str, str]) -> None:
        log = (self.folder / f"{part}.log").open("wb")
        self.processes[part] = subprocess.Popen(
            [str(CSD), *argv], env=self.env(part, base), stdout=log, stderr=subprocess.STDOUT
        )

    def logs(self) -> str:
        tails = []
        for part in self.processes:
            lines = (self.folder / f"{part}.log").read_text(errors="replace").splitlines()
            tails.append(f"--- {part}\n" + "\n".join(lines[-15:]))
        return "\n".join(tails)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _serving(address: str) -> bool:
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
    except grpc.aio.AioRpcError:
        return False


async def _until_serving(parts: Parts, *names: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    for name in names:
        while not await _serving(parts.addresses[name]):
            if time.monotonic() > deadline or parts.processes[name].poll() is not None:
                raise AssertionError(f"{name} is not serving\n{parts.logs()}")
            await asyncio.sleep(0.2)


@pytest.fixture
def phone() -> Iterator[PhoneGateway]:
    gateway = PhoneGateway()
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture
async def parts(
    dev_server_env: WorkflowEnvironment, tmp_path: Path, phone: PhoneGateway
) -> AsyncIterator[Parts]:
    mail = MailSink()
    await mail.start(host="127.0.0.1", port=0)
    running = Parts(tmp_path)
    for part in (*SERVICES, "worker"):
        running.metrics[part] = _free_address()
    for part in SERVICES:
        running.addresses[part] = _free_address()
    base = {
        "CSD_AUTH_MODE": "dev",
        "CSD_VAR_DIR": str(tmp_path / "var"),
        "CSD_TEMPORAL_ADDRESS": dev_server_env.client.service_client.config.target_host,
        "CSD_TEMPORAL_NAMESPACE": dev_server_env.client.namespace,
        "CSD_SMTP_HOST": "127.0.0.1",
        "CSD_SMTP_PORT": str(mail.port),
        "CSD_PHONE_PROVIDER": "webhook",
        "CSD_PHONE_WEBHOOK_URL": phone.url,
        "CSD_PHONE_WEBHOOK_SECRET": "scrape-test",
        **{
            f"CSD_{name.upper()}_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/{name}.db"
            for name in ("staff", "finance", "notify")
        },
    }
    try:
        for part in ("staff", "finance", "notify"):
            running.start(part, ["serve", part], base)
        await _until_serving(running, "staff", "finance", "notify")
        async with grpc.aio.insecure_channel(running.addresses["staff"]) as staff:
            await load_demo(staff_pb2_grpc.StaffServiceStub(staff))
        async with grpc.aio.insecure_channel(running.addresses["finance"]) as finance:
            await publish_regulation_policy(finance_pb2_grpc.FinanceServiceStub(finance))
        running.start("gateway", ["serve", "gateway"], base)
        running.start("worker", ["worker"], base)
        await _until_serving(running, "gateway")
        yield running
    finally:
        running.stop()
        await mail.stop()


def _exported(page: str) -> set[str]:
    """The metric families with at least one sample on a /metrics page."""
    return {family(m.group(1)) for line in page.splitlines() if (m := SAMPLE.match(line))}


async def _scrape(parts: Parts) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    async with httpx.AsyncClient(timeout=5) as http:
        for part, address in parts.metrics.items():
            try:
                found[part] = _exported((await http.get(f"http://{address}/metrics")).text)
            except httpx.HTTPError:
                found[part] = set()
    return found


async def _run_cases(parts: Parts, phone: PhoneGateway, env: WorkflowEnvironment) -> str:
    suffix = uuid.uuid4().hex[:6].upper()
    phone.failures = 1  # the owner's first call: the voice gateway answers 500
    async with grpc.aio.insecure_channel(parts.addresses["gateway"]) as channel:
        gateway = GatewayServiceStub(channel)
        await gateway.ReportMajorProblem(
            gateway_pb2.ReportMajorProblemRequest(
                reference=f"MI-SCRAPE-{suffix}",
                category="data_loss",
                hospital="武漢協和醫院",
                product="EMR nursing 5.2",
                description="Nursing notes of ward 5 are gone.",
            ),
            metadata=(("x-csd-user", "ma.chao"),),
            timeout=30,
        )
        fine = await gateway.ReportAssistanceBypass(
            gateway_pb2.ReportAssistanceBypassRequest(
                reference=f"RND-SCRAPE-{suffix}",
                person_id="sun.hao",
                description="Asked testing directly for a hotfix build",
            ),
            metadata=(("x-csd-user", "chen.jing"),),
            timeout=30,
        )
    # The fine's workflow completes (the workflow and end-to-end metrics).
    await env.client.get_workflow_handle(fine.workflow_id).result()
    # And one that fails: a fine under a rule set that never existed.
    with pytest.raises(WorkflowFailureError):
        await env.client.execute_workflow(
            PenaltyWorkflow.run,
            PenaltyInput(
                f"SCRAPE-{suffix}", "XA-1", "sun.hao", "east", "2026-01", "x", "chen.jing", "0-v0"
            ),
            id=f"penalty-scrape-fails-{suffix}",
            task_queue=task_queues.MAIN,
        )
    return suffix


async def test_every_metric_the_dashboard_and_alerts_use_is_exported(
    parts: Parts, phone: PhoneGateway, dev_server_env: WorkflowEnvironment
) -> None:
    wanted = dashboard_metric_names()
    await _run_cases(parts, phone, dev_server_env)
    deadline = time.monotonic() + SCRAPE_WITHIN_SECONDS
    while True:
        found = await _scrape(parts)
        everywhere = set().union(*found.values())
        missing = wanted - everywhere
        if not missing or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    by_part = {part: sorted(n for n in names if n in wanted) for part, names in found.items()}
    assert not missing, (
        f"not exported by any part: {sorted(missing)}\nwhat each part exports of the dashboard's "
        f"names: {by_part}\n{parts.logs()}"
    )
