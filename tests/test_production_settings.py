"""Production settings end to end (issue 15): every part its own process, as a deployment runs
them (`csd serve <service>`, `csd worker`), on PostgreSQL, with mutual TLS between the parts
and to Temporal, bearer tokens signed by an identity provider's key of our own (not csd dev's),
payloads encrypted and metrics served. An XA-1 request goes through the gateway to its close,
the mail arrives over SMTP, what Temporal keeps is ciphertext, and a caller without a token is
refused. The operators' setup (seeding, the Schedules) runs as the admin part.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from jwt.algorithms import ECAlgorithm
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.cli.health import grpc_health
from services.cli.schedules import sync_department_calendar
from services.cli.seed import seed
from services.mailsink import MailSink
from services.runtime.dev_pki import DevPki, ensure_dev_pki
from services.runtime.payload_codec import ENCODING, Keyring
from services.runtime.settings import Settings
from services.runtime.tls import ADMIN
from tests.conftest import _drop_postgres_database, _postgres_database
from tests.ports import free_port
from tests.tls_frontend import TlsFrontend
from workflows import search_attributes

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[1]
ISSUER = "https://id.hospital-group.example"
AUDIENCE = "csd-ops"
SERVICES = ("staff", "finance", "notify")


@dataclass
class IdentityProvider:
    """An organisation's identity provider, as far as the gateway sees it: a JWKS file."""

    jwks: Path
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    key_id: str = "idp-2026-12"

    def publish(self) -> None:
        public = json.loads(ECAlgorithm.to_jwk(self.key.public_key()))
        self.jwks.write_text(json.dumps({"keys": [{**public, "kid": self.key_id, "use": "sig"}]}))

    def token(self, person_id: str) -> str:
        now = int(time.time())
        claims = {"sub": person_id, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": self.key_id})


@dataclass
class Deployment:
    settings: Settings  # the operators' (admin) view of it
    pki: DevPki
    idp: IdentityProvider
    mail: MailSink
    temporal: Client  # a client without the keyring: sees what Temporal stores
    metrics: dict[str, str]
    processes: dict[str, asyncio.subprocess.Process]
    logs: Path

    def tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()[-3000:]


async def _until_healthy(deployment: Deployment, name: str, address: str) -> None:
    tls = deployment.pki.files(ADMIN)
    for _ in range(300):
        process = deployment.processes[name]
        if process.returncode is not None:
            raise AssertionError(f"{name} exited {process.returncode}\n{deployment.tail(name)}")
        if (await grpc_health(name, address, tls)).healthy:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name} is not healthy\n{deployment.tail(name)}")


async def _until_polling(deployment: Deployment) -> None:
    for _ in range(300):
        if '"worker polling"' in deployment.tail("worker"):
            return
        if deployment.processes["worker"].returncode is not None:
            break
        await asyncio.sleep(0.1)
    raise AssertionError(f"the worker does not poll\n{deployment.tail('worker')}")


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    databases = [await _postgres_database() for _ in SERVICES]
    pki = ensure_dev_pki(tmp_path)
    idp = IdentityProvider(tmp_path / "jwks.json")
    idp.publish()
    mail = MailSink(tmp_path / "mail")
    smtp_port = free_port()
    await mail.start(port=smtp_port)
    dev_server = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )
    frontend = TlsFrontend.for_temporal(dev_server.client.service_client.config.target_host, pki)
    await frontend.start()
    addresses = {name: f"127.0.0.1:{free_port()}" for name in (*SERVICES, "gateway")}
    metrics = {name: f"127.0.0.1:{free_port()}" for name in (*SERVICES, "gateway", "worker")}
    common = {
        "CSD_AUTH_MODE": "jwt",
        "CSD_VAR_DIR": str(tmp_path / "var"),
        "CSD_TEMPORAL_ADDRESS": frontend.address,
        "CSD_TEMPORAL_TLS_CA": str(pki.ca),
        "CSD_TEMPORAL_TLS_SERVER_NAME": "temporal.csd-ops",
        "CSD_PAYLOAD_KEYS": Keyring.generate("prod-1").render(),
        "CSD_JWT_JWKS": str(idp.jwks),
        "CSD_JWT_ISSUER": ISSUER,
        "CSD_JWT_AUDIENCE": AUDIENCE,
        "CSD_SMTP_HOST": "127.0.0.1",
        "CSD_SMTP_PORT": str(smtp_port),
        **{f"CSD_{name.upper()}_ADDRESS": address for name, address in addresses.items()},
        **{
            f"CSD_{name.upper()}_DATABASE_URL": url
            for name, (url, _) in zip(SERVICES, databases, strict=True)
        },
    }
    logs = tmp_path / "log"
    logs.mkdir()
    processes: dict[str, asyncio.subprocess.Process] = {}
    admin = pki.files(ADMIN)
    # The operators' view: the admin certificate, to the services and to Temporal.
    settings = dataclasses.replace(
        Settings.from_env(),
        var_dir=tmp_path / "var",
        auth_mode="jwt",
        temporal_address=frontend.address,
        temporal_tls_ca=str(pki.ca),
        temporal_tls_cert=str(admin.cert),
        temporal_tls_key=str(admin.key),
        temporal_tls_server_name="temporal.csd-ops",
        payload_keys=common["CSD_PAYLOAD_KEYS"],
        tls_ca=str(admin.ca),
        tls_cert=str(admin.cert),
        tls_key=str(admin.key),
        staff_address=addresses["staff"],
        finance_address=addresses["finance"],
        notify_address=addresses["notify"],
        gateway_address=addresses["gateway"],
    )
    deployment = Deployment(settings, pki, idp, mail, dev_server.client, metrics, processes, logs)

    async def spawn(name: str, *argv: str) -> None:
        env = {
            **os.environ,
            **common,
            **pki.env(name),
            # The frontend demands a client certificate of the CA: each part shows its own.
            "CSD_TEMPORAL_TLS_CERT": str(pki.files(name).cert),
            "CSD_TEMPORAL_TLS_KEY": str(pki.files(name).key),
            "CSD_METRICS_ADDRESS": metrics[name],
        }
        with (logs / f"{name}.log").open("ab") as out:
            processes[name] = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "services.cli.main", *argv,
                cwd=REPO, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            )  # fmt: skip

    try:
        for name in SERVICES:
            await spawn(name, "serve", name)
        for name in SERVICES:
            await _until_healthy(deployment, name, addresses[name])
        # The operators' setup, as the deployment's setup job runs it: demo data, Schedules.
        await seed(settings)
        await sync_department_calendar(settings)
        await spawn("gateway", "serve", "gateway")
        await spawn("worker", "worker")
        await _until_healthy(deployment, "gateway", addresses["gateway"])
        await _until_polling(deployment)
        yield deployment
    finally:
        for process in processes.values():
            if process.returncode is None:
                process.terminate()
        for process in processes.values():
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
        await frontend.stop()
        await dev_server.shutdown()
        await mail.stop()
        for _, name in databases:
            await _drop_postgres_database(name)


@pytest.mark.timeout(180)
async def test_a_request_runs_end_to_end_under_the_production_settings(
    deployment: Deployment,
) -> None:
    settings = deployment.settings
    # People's clients trust the CA and prove who they are by token; no client certificate.
    credentials = grpc.ssl_channel_credentials(root_certificates=deployment.pki.ca.read_bytes())
    options = [("grpc.ssl_target_name_override", "gateway.csd-ops")]
    reference = f"XA-PROD-{uuid.uuid4().hex[:8]}"

    def bearer(person: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {deployment.idp.token(person)}"),)

    async with grpc.aio.secure_channel(settings.gateway_address, credentials, options) as channel:
        gateway = GatewayServiceStub(channel)
        start = G.StartAssistanceRequest(
            reference=reference,
            target_department="sales",
            subject="Quote for the nursing module",
            description="武漢協和 asks for a quote on the nursing module.",
        )
        # Nobody gets in without a token, nor by naming themself.
        for metadata in ((), (("x-csd-user", "ma.chao"),)):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await gateway.StartAssistance(start, metadata=metadata)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

        started = await gateway.StartAssistance(start, metadata=bearer("ma.chao"))
        assert started.workflow_id == f"assistance-{reference}"
        mail = await deployment.mail.wait_for(lambda m: reference in str(m["Subject"]), 30)
        assert mail["To"] == "shi.wenjun@csd.example"
        assert "武漢協和" in mail.get_content()
        await gateway.AcceptAssistance(
            G.AcceptAssistanceRequest(reference=reference), metadata=bearer("shi.wenjun")
        )
        closed = await gateway.CloseAssistance(
            G.CloseAssistanceRequest(reference=reference, resolution="Quote sent by sales"),
            metadata=bearer("shi.wenjun"),
        )
        assert closed.stage == "closed"

    # What Temporal keeps of the case is ciphertext: the description is nowhere in clear.
    handle = deployment.temporal.get_workflow_handle(f"assistance-{reference}")
    history = await handle.fetch_history()
    started_event = history.events[0].workflow_execution_started_event_attributes
    assert all(p.metadata["encoding"] == ENCODING for p in started_event.input.payloads)
    assert "武漢協和" not in history.to_json() and "nursing" not in history.to_json()

    # Every part serves its metrics; the gateway's count the refusals and the answers.
    async with httpx.AsyncClient() as http:
        pages = {
            name: (await http.get(f"http://{address}/metrics")).text
            for name, address in deployment.metrics.items()
        }
    start_rpc = "/csd.gateway.v1.GatewayService/StartAssistance"
    assert (
        f'csd_rpc_requests_total{{code="UNAUTHENTICATED",rpc="{start_rpc}"}} 2.0'
        in pages["gateway"]
    )
    assert f'csd_rpc_requests_total{{code="OK",rpc="{start_rpc}"}} 1.0' in pages["gateway"]
    assert "temporal_workflow_task_execution_latency_seconds_bucket" in pages["worker"]
    assert 'csd_notifications_total{channel="email",outcome="sent"}' in pages["notify"]
    assert "csd_rpc_requests_total" in pages["staff"] and "csd_ledger_rows" in pages["finance"]

    # A service's port answers nobody without a certificate of the CA.
    health = await grpc_health("staff", settings.staff_address, None)
    assert not health.healthy, health
