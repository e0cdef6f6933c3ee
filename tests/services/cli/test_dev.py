"""`csd dev` as a person runs it: every part up, a request served, Ctrl-C, and a resume."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub

from services.staff import server as staff_server
from services.staff.demo import DEMO_VERSION, REGIONS
from tests.services.cli.dev_harness import CSD, Dev, dev_environment, status, stop_gracefully

pytestmark = pytest.mark.e2e


@pytest.fixture
def dev_env(tmp_path: Path) -> dict[str, str]:
    return dev_environment(tmp_path)


@pytest.fixture
async def start_dev(dev_env: dict[str, str]) -> AsyncIterator[object]:
    started: list[Dev] = []

    async def start() -> Dev:
        dev = await Dev.start(dev_env)
        started.append(dev)
        await dev.wait_for_line("csd-ops is up")
        return dev

    try:
        yield start
    finally:
        for dev in started:
            await stop_gracefully(dev.process)


def gateway_channel(dev_env: dict[str, str]) -> grpc.aio.Channel:
    """As a newcomer's client reaches the gateway of csd dev: TLS, trusting var/tls/ca.pem (the
    gateway's certificate names 127.0.0.1), no client certificate (people show tokens)."""
    ca = (Path(dev_env["CSD_VAR_DIR"]) / "tls" / "ca.pem").read_bytes()
    return grpc.aio.secure_channel(
        dev_env["CSD_GATEWAY_ADDRESS"], grpc.ssl_channel_credentials(root_certificates=ca)
    )


async def test_csd_dev_runs_everything_stops_cleanly_and_resumes(
    start_dev: object, dev_env: dict[str, str]
) -> None:
    dev: Dev = await start_dev()  # type: ignore[operator]
    code, report = await status(dev_env)
    assert code == 0, report
    for part in ("temporal", "smtp", "staff", "finance", "notify", "gateway", "worker"):
        assert f"ok   {part}" in report
    assert "queue csd-ops" in report and "poller(s), last seen" in report

    reference = "XA-DEV-1"
    # The parts talk mutual TLS, as in production: a plain-text caller is not even answered.
    async with grpc.aio.insecure_channel(dev_env["CSD_STAFF_ADDRESS"]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await StaffServiceStub(channel).GetPerson(
                staff_pb2.GetPersonRequest(id="zhao.lei"), timeout=5
            )
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    async with gateway_channel(dev_env) as channel:
        gateway = GatewayServiceStub(channel)
        await gateway.StartAssistance(
            G.StartAssistanceRequest(
                reference=reference, target_department="rnd", subject="s", description="d"
            ),
            metadata=(("x-csd-user", "zhao.lei"),),
        )
    maildir = Path(dev_env["CSD_VAR_DIR"]) / "mail"
    for _ in range(100):
        if any(reference in p.read_text(errors="replace") for p in maildir.glob("*.eml")):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("no mail arrived in var/mail")

    assert await dev.interrupt() == 0
    stopped = [line for line in "".join(dev.output).splitlines() if line.startswith("stopped ")]
    # Reverse order of start: the worker first, Temporal last.
    assert stopped[0] == "stopped worker" and stopped[-1] == "stopped temporal", stopped
    code, report = await status(dev_env)
    assert code == 1 and "DOWN" in report

    # A second run resumes: the request started before is still there, waiting.
    await start_dev()  # type: ignore[operator]
    async with gateway_channel(dev_env) as channel:
        found = await GatewayServiceStub(channel).GetAssistance(
            G.GetAssistanceRequest(reference=reference), metadata=(("x-csd-user", "zhao.lei"),)
        )
    assert found.stage == "awaiting_coordinator"


def everything_down(report: str) -> bool:
    lines = report.splitlines()
    return len(lines) == 7 and all(line.startswith("DOWN") for line in lines)


async def test_a_stop_during_startup_stops_every_part_at_once(dev_env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        CSD, "dev", env=dev_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert process.stdout is not None
    try:
        # The services are up and seeded; the gateway and the worker are on their way.
        seeded = await asyncio.wait_for(process.stdout.readline(), 60)
        assert b"demo organisation" in seeded, seeded
        # Closing the terminal (SIGHUP) is a stop like Ctrl-C.
        process.send_signal(signal.SIGHUP)
        rest = (await asyncio.wait_for(process.stdout.read(), 40)).decode()
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        await stop_gracefully(process)
    assert "stopped before it was up" in rest
    assert "stopped temporal" in rest.splitlines()[-1], rest
    code, report = await status(dev_env)
    assert code == 1 and everything_down(report), report


async def test_a_failed_seed_stops_the_parts_already_running(
    dev_env: dict[str, str], tmp_path: Path
) -> None:
    # A staff database whose first demo region was recorded differently under the demo's own
    # idempotency key: seeding it is refused (FAILED_PRECONDITION), a gRPC error.
    database = f"sqlite+aiosqlite:///{tmp_path / 'staff-conflict.db'}"
    running = await staff_server.start(address="127.0.0.1:0", database_url=database)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            code, _, tier = REGIONS[0]
            await StaffServiceStub(channel).UpsertRegion(
                staff_pb2.UpsertRegionRequest(
                    idempotency_key=f"demo:{DEMO_VERSION}:region:{code}",
                    region=staff_pb2.Region(code=code, name="Not the demo's name", tier=tier),
                )
            )
    finally:
        await running.stop(grace=0)

    env = {**dev_env, "CSD_STAFF_DATABASE_URL": database}
    process = await asyncio.create_subprocess_exec(
        CSD, "dev", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), 90)
    finally:
        await stop_gracefully(process)
    output = out.decode()
    assert process.returncode == 1, output
    assert "csd dev could not start" in output and "FAILED_PRECONDITION" in output
    stopped = [line for line in output.splitlines() if line.startswith("stopped ")]
    assert stopped == [
        "stopped notify",
        "stopped finance",
        "stopped staff",
        "stopped smtp",
        "stopped temporal",
    ], output
    code, report = await status(env)
    assert code == 1 and everything_down(report), report


async def test_csd_dev_in_jwt_mode_takes_tokens_from_csd_token_and_refuses_the_header(
    start_dev: object, dev_env: dict[str, str]
) -> None:
    """CSD_AUTH_MODE=jwt make dev: production authentication with a key of this machine's own,
    made under var/auth (private key 0600); `csd token --as ID` signs a token with it."""
    dev_env["CSD_AUTH_MODE"] = "jwt"
    dev: Dev = await start_dev()  # type: ignore[operator]
    await dev.wait_for_line("callers")
    assert "csd token --as" in dev.output[-1]
    var = Path(dev_env["CSD_VAR_DIR"])
    private = (
        var / "auth" / "signing-key.pem",
        var / "payload-keys",
        var / "staff.db",
        var / "tls" / "ca-key.pem",
        var / "tls" / "worker-key.pem",
    )
    modes = await asyncio.to_thread(lambda: [p.stat().st_mode & 0o777 for p in (var, *private)])
    assert modes == [0o700, 0o600, 0o600, 0o600, 0o600, 0o600]
    process = await asyncio.create_subprocess_exec(
        CSD, "token", "--as", "zhao.lei", env=dev_env, stdout=asyncio.subprocess.PIPE
    )
    token = (await process.communicate())[0].decode().strip()
    assert process.returncode == 0 and token.count(".") == 2
    request = G.GetAssistanceRequest(reference="XA-none")
    async with gateway_channel(dev_env) as channel:
        gateway = GatewayServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await gateway.GetAssistance(request, metadata=(("authorization", f"Bearer {token}"),))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND  # in: there is no such request
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await gateway.GetAssistance(request, metadata=(("x-csd-user", "zhao.lei"),))
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "only in dev mode" in (err.value.details() or "")
