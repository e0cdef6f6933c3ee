"""`csd dev`'s footprint beside a bare Temporal dev server's, in the same run (issue 7):

- dev_start_s: from spawning `csd dev` in a fresh var/ until every part answers healthy the way
  `csd status` checks them (Temporal and its database, SMTP, the four gRPC services, a worker
  polling), beside a bare `temporal server start-dev` with the same flags until Temporal answers;
- dev_idle_rss_mib: the resident memory of the whole tree (supervisor, dev server, SMTP sink,
  services, worker) after it has idled, beside the bare dev server's after the same idle time.

Each run gets a fresh temporary var/ and free ports, and is stopped with SIGINT as Ctrl-C would;
a part still alive after the grace period is killed and reported.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import processes
from bench.measure import Figure
from services.cli.dev import temporal_argv
from services.cli.health import check_all, temporal_health
from services.runtime.dev_pki import DevPki
from services.runtime.tls import ADMIN

START_TARGET_S = 5.0
RSS_TARGET_MIB = 1024.0
IDLE_SECONDS = 10.0
STARTUP_LIMIT_S = 120.0
# `csd dev` stops its parts one by one with up to 10 s each.
STOP_GRACE_S = 75.0
BANNER = "csd-ops is up in"


@dataclass
class Run:
    """One start of a process tree: how long until healthy, and its memory once idle."""

    start_s: float
    rss_mib: dict[str, float]
    banner_s: float | None = None
    killed: list[str] = field(default_factory=list)

    @property
    def total_mib(self) -> float:
        return sum(self.rss_mib.values())


def _label(pid: int, supervisor: int) -> str:
    return "csd dev (supervisor)" if pid == supervisor else processes.part(pid)


async def _until_healthy(
    check: Callable[[], Awaitable[bool]], process: asyncio.subprocess.Process, began: float
) -> float:
    """Seconds from `began` until `check` says yes; fails when the process exits first."""
    while not await check():
        if process.returncode is not None:
            raise RuntimeError(f"it exited with code {process.returncode} before it was healthy")
        if time.monotonic() - began > STARTUP_LIMIT_S:
            raise RuntimeError(f"not healthy after {STARTUP_LIMIT_S:g} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - began


async def _spawn(argv: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            env=env,
            # Its own group, so that a failed stop can kill what is left of it.
            start_new_session=True,
        )


async def _banner_seen(log: Path, began: float, process: asyncio.subprocess.Process) -> float:
    while BANNER not in await asyncio.to_thread(log.read_text, errors="replace"):
        if process.returncode is not None or time.monotonic() - began > STARTUP_LIMIT_S:
            raise RuntimeError(f"`csd dev` printed no banner; see {log}")
        await asyncio.sleep(0.1)
    return time.monotonic() - began


async def _stop(
    process: asyncio.subprocess.Process, tree: list[int], names: dict[int, str]
) -> list[str]:
    killed = await processes.stop(process, tree, grace=STOP_GRACE_S)
    return [names.get(pid, str(pid)) for pid in killed]


async def dev_run(workdir: Path) -> Run:
    """`csd dev` in a fresh var/: until healthy, then idle, then Ctrl-C."""
    var_dir = workdir / "var"
    settings, env = processes.isolated(var_dir)
    database = var_dir / "temporal.db"
    log = workdir / "csd-dev.log"

    pki = DevPki(var_dir / "tls")

    async def healthy() -> bool:
        # The parts speak mutual TLS with csd dev's CA, once it has made one.
        parts = await check_all(settings, temporal_database=database, tls=pki.ready(ADMIN))
        return all(p.healthy for p in parts)

    began = time.monotonic()
    process = await _spawn([sys.executable, "-m", "services.cli.main", "dev"], env, log)
    tree: list[int] = []
    names: dict[int, str] = {}
    try:
        start_s = await _until_healthy(healthy, process, began)
        banner_s = await _banner_seen(log, began, process)
        await asyncio.sleep(IDLE_SECONDS)
        tree = processes.descendants(process.pid)
        names = {pid: _label(pid, process.pid) for pid in [process.pid, *tree]}
        rss = processes.tree_rss(process.pid, names)
    finally:
        tree = tree or processes.descendants(process.pid)
        killed = await _stop(process, tree, names)
    return Run(start_s, rss, banner_s, killed)


async def bare_run(workdir: Path) -> Run:
    """`temporal server start-dev` with `csd dev`'s flags: until it answers, then idle."""
    var_dir = workdir / "bare"
    var_dir.mkdir()
    settings, env = processes.isolated(var_dir)
    database = var_dir / "temporal.db"

    async def healthy() -> bool:
        return (await temporal_health(settings, database)).healthy

    began = time.monotonic()
    process = await _spawn(temporal_argv(settings), env, workdir / "bare-temporal.log")
    tree: list[int] = []
    try:
        start_s = await _until_healthy(healthy, process, began)
        await asyncio.sleep(IDLE_SECONDS)
        tree = processes.descendants(process.pid)
        rss = processes.tree_rss(process.pid, {process.pid: "temporal"})
    finally:
        killed = await _stop(process, tree, {process.pid: "temporal"})
    return Run(start_s, rss, killed=killed)


async def figures(rounds: int) -> tuple[list[Figure], list[str]]:
    """Start time and idle memory of `csd dev`, each beside the bare dev server's."""
    dev: list[Run] = []
    bare: list[Run] = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="csd-bench-footprint-") as tmp:
            bare.append(await bare_run(Path(tmp)))
            dev.append(await dev_run(Path(tmp)))
    result = [
        Figure("dev_start_s", "s", [r.start_s for r in dev], [r.start_s for r in bare],
               START_TARGET_S),
        Figure("dev_idle_rss_mib", "MiB", [r.total_mib for r in dev],
               [r.total_mib for r in bare], RSS_TARGET_MIB),
    ]  # fmt: skip
    banners = sorted(r.banner_s for r in dev if r.banner_s is not None)
    detail = [
        f"csd dev: every part healthy in {statistics.median(r.start_s for r in dev):.1f} s "
        f"(the banner, after seeding and the schedules, at {statistics.median(banners):.1f} s) "
        f"beside a bare dev server's {statistics.median(r.start_s for r in bare):.1f} s",
        f"csd dev idle RSS after {IDLE_SECONDS:g} s, median per part: "
        + ", ".join(
            f"{name} {statistics.median(r.rss_mib.get(name, 0.0) for r in dev):.0f} MiB"
            for name in dev[-1].rss_mib
        )
        + f"; the bare dev server {statistics.median(r.total_mib for r in bare):.0f} MiB",
    ]
    killed = sorted({name for r in [*dev, *bare] for name in r.killed})
    detail.append(
        f"stopped with SIGINT; killed after {STOP_GRACE_S:g} s: {', '.join(killed)}"
        if killed
        else "stopped with SIGINT (Ctrl-C): every process exited by itself"
    )
    return result, detail


if __name__ == "__main__":
    found, lines = asyncio.run(figures(1))
    for figure in found:
        print(f"{figure.name}: {figure.value:.2f} {figure.unit} (floor {figure.floor}) "
              f"target <= {figure.target:g}")  # fmt: skip
    print("\n".join(lines))
