"""The Temporal client over TLS (issue 12, CSD_TEMPORAL_TLS_*): a TLS frontend in front of the
real dev server (tests/tls_frontend.py says why not stunnel4) demands a client certificate
from our CA; the worker and the gateway reach
Temporal through it and a request runs to its first mail. A client without TLS, without a
certificate or expecting another server's name is refused."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.gateway import server as gateway_server
from services.runtime import temporal_client
from services.runtime.dev_pki import DevPki, ensure_dev_pki
from services.runtime.settings import Settings
from services.runtime.tls import WORKER
from tests.stack import Stack
from tests.tls_frontend import TlsFrontend

pytestmark = pytest.mark.e2e


@dataclasses.dataclass
class Fronted:
    address: str
    pki: DevPki


@pytest.fixture
async def fronted(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Fronted]:
    pki = ensure_dev_pki(tmp_path)
    frontend = TlsFrontend.for_temporal(
        dev_server_env.client.service_client.config.target_host, pki
    )
    await frontend.start()
    try:
        yield Fronted(frontend.address, pki)
    finally:
        await frontend.stop()


def _settings(fronted: Fronted, **changes: str) -> Settings:
    worker = fronted.pki.files(WORKER)
    base = dataclasses.replace(
        Settings.from_env(),
        temporal_address=fronted.address,
        temporal_tls_ca=str(fronted.pki.ca),
        temporal_tls_cert=str(worker.cert),
        temporal_tls_key=str(worker.key),
        temporal_tls_server_name="temporal.csd-ops",
        payload_keys="",
    )
    return dataclasses.replace(base, **changes)


async def _connects(settings: Settings) -> bool:
    try:
        client = await asyncio.wait_for(temporal_client.connect(settings), 10)
        return await asyncio.wait_for(client.service_client.check_health(), 10)
    except Exception:
        return False


async def test_a_request_runs_through_a_tls_frontend(
    fronted: Fronted, stack: Stack, task_queue: str
) -> None:
    client: Client = await temporal_client.connect(_settings(fronted))
    running = await gateway_server.start(
        authentication=gateway_server.dev_authentication,
        address="127.0.0.1:0",
        client=client,
        staff_address=stack.staff_address,
        finance_address=stack.finance_address,
        task_queue=task_queue,
    )
    try:
        reference = f"XA-TLS-{uuid.uuid4().hex[:8]}"
        async with (
            stack.worker(client, task_queue),
            grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
        ):
            await GatewayServiceStub(channel).StartAssistance(
                G.StartAssistanceRequest(
                    reference=reference, target_department="rnd", subject="s", description="d"
                ),
                metadata=(("x-csd-user", "zhao.lei"),),
            )
            await stack.mail.wait_for(lambda m: reference in str(m["Subject"]), 15)
    finally:
        await running.stop(grace=0)


async def test_the_frontend_refuses_what_is_not_mutual_tls(fronted: Fronted) -> None:
    assert await _connects(_settings(fronted))
    # Plain text to a TLS port; TLS without a client certificate; a server name it does not hold.
    assert not await _connects(
        _settings(
            fronted,
            temporal_tls_ca="",
            temporal_tls_cert="",
            temporal_tls_key="",
            temporal_tls_server_name="",
        )
    )
    assert not await _connects(_settings(fronted, temporal_tls_cert="", temporal_tls_key=""))
    assert not await _connects(_settings(fronted, temporal_tls_server_name="staff.csd-ops"))


def test_half_a_client_certificate_is_a_settings_error(fronted: Fronted) -> None:
    with pytest.raises(ValueError, match="go together"):
        temporal_client.tls_config(_settings(fronted, temporal_tls_key=""))
    with pytest.raises(ValueError, match="without CSD_TEMPORAL_TLS_CA"):
        temporal_client.tls_config(_settings(fronted, temporal_tls_ca=""))
