"""Process trees for the footprint and scale benchmarks: an isolated csd environment on free
ports, resident memory and CPU time, and stopping a tree with nothing left behind.

Read from /proc (Linux), because psutil is not one of the project's dependencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from pathlib import Path
from unittest.mock import patch

from services.runtime import procfs
from services.runtime.payload_codec import Keyring
from services.runtime.settings import Settings

PROC = Path("/proc")


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (the OS's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated(var_dir: Path) -> tuple[Settings, dict[str, str]]:
    """Settings for a csd-ops in `var_dir` with a free port for every part, and the environment
    that gives a child process the same (inherited CSD_* variables dropped, so that SQLite under
    `var_dir` is used whatever the caller's shell says)."""
    ports = {name: free_port() for name in ("temporal", "ui", "gateway", "staff", "finance",
                                            "notify", "smtp")}  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSD_")}
    env |= {
        "CSD_VAR_DIR": str(var_dir),
        "CSD_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "CSD_TEMPORAL_UI_PORT": str(ports["ui"]),
        "CSD_GATEWAY_ADDRESS": f"127.0.0.1:{ports['gateway']}",
        "CSD_STAFF_ADDRESS": f"127.0.0.1:{ports['staff']}",
        "CSD_FINANCE_ADDRESS": f"127.0.0.1:{ports['finance']}",
        "CSD_NOTIFY_ADDRESS": f"127.0.0.1:{ports['notify']}",
        "CSD_SMTP_HOST": "127.0.0.1",
        "CSD_SMTP_PORT": str(ports["smtp"]),
        # Never the documented ports of a developer's own csd dev: metrics and the codec too.
        "CSD_CODEC_ADDRESS": f"127.0.0.1:{free_port()}",
        **{
            f"CSD_{part}_METRICS_ADDRESS": f"127.0.0.1:{free_port()}"
            for part in ("GATEWAY", "STAFF", "FINANCE", "NOTIFY", "WORKER")
        },
        # The benchmarks name their callers in x-csd-user, as `make dev` does.
        "CSD_AUTH_MODE": "dev",
        # Encrypted payloads, as csd dev runs them; the bench's own client holds the key too.
        "CSD_PAYLOAD_KEYS": Keyring.generate("bench").render(),
    }
    # A lever under measurement: the worker's workflow cache (`BENCH_WORKER_CACHED_WORKFLOWS`).
    if cache := os.environ.get("BENCH_WORKER_CACHED_WORKFLOWS", ""):
        env["CSD_WORKER_CACHED_WORKFLOWS"] = cache
    # Read exactly as a child will read it.
    with patch.dict(os.environ, env, clear=True):
        settings = Settings.from_env()
    return settings, env


def rss_mib(pid: int) -> float:
    """Resident set size of one process in MiB; 0 when it is gone."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    return 0.0  # a zombie has no VmRSS line


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process so far; 0 when it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`, children first. Children started in their own session
    (as `csd dev` starts its parts) are still children: this follows the parent, not the group."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for children in (PROC / str(parent) / "task").glob("*/children"):
            with contextlib.suppress(OSError):
                for child in children.read_text().split():
                    found.append(int(child))
                    pending.append(int(child))
    return found


# A marker in a command line -> the part it runs, for the benchmarks' per-part tables.
PART_MARKERS = {
    "start-dev": "temporal",
    "services.mailsink": "smtp",
    "services.staff.server": "staff",
    "services.finance.server": "finance",
    "services.notify.server": "notify",
    "services.gateway.server": "gateway",
    "services.worker.main": "worker",
    "bench.probe_worker ours": "bench worker (ours)",
    "bench.probe_worker bare": "bench worker (bare)",
    "bench.probe_worker production": "bench worker (production)",
    "bench.run": "bench (load)",
    "csd dev": "csd dev (supervisor)",
}


def part(pid: int) -> str:
    """The part `pid` runs (PART_MARKERS), or its command line's start."""
    line = " ".join(command_line(pid))
    return next((name for marker, name in PART_MARKERS.items() if marker in line), line[:40])


def cpu_by_part(root: int) -> dict[str, float]:
    """CPU seconds so far per part of the tree under and including `root` (processes of one
    part summed): two readings' difference says where a stretch of work spent the cores."""
    spent: dict[str, float] = {}
    for member in [root, *descendants(root)]:
        name = part(member)
        spent[name] = spent.get(name, 0.0) + cpu_seconds(member)
    return spent


def spent_between(before: dict[str, float], after: dict[str, float]) -> str:
    """ "worker 12.3 s, temporal 8.1 s, …": the CPU each part spent between two readings,
    the most first, parts that spent under 0.05 s left out."""
    spent = {name: after[name] - before.get(name, 0.0) for name in after}
    return ", ".join(
        f"{name} {seconds:.1f} s"
        for name, seconds in sorted(spent.items(), key=lambda item: -item[1])
        if seconds >= 0.05
    )


def command_line(pid: int) -> list[str]:
    return procfs.cmdline(pid) or []


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent to reap it."""
    return procfs.cmdline(pid) is not None


def tree_rss(pid: int, label: dict[int, str] | None = None) -> dict[str, float]:
    """MiB per process of the tree under and including `pid`, keyed by `label[pid]` (or the
    command line's first words) with the pid appended when two share a name."""
    result: dict[str, float] = {}
    for member in [pid, *descendants(pid)]:
        name = (label or {}).get(member) or " ".join(command_line(member)[:3]) or str(member)
        if name in result:
            name = f"{name} ({member})"
        result[name] = rss_mib(member)
    return result


async def stop(
    process: asyncio.subprocess.Process,
    tree: list[int],
    *,
    grace: float,
    sig: signal.Signals = signal.SIGINT,
) -> list[int]:
    """Send `sig` to `process` (SIGINT: as Ctrl-C would), wait up to `grace` seconds for it and
    every pid of `tree` to end, then SIGKILL whatever is left: its process group and each of `tree`.

    Returns the pids that had to be killed (empty when the stop was clean).
    """
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), grace)
    # Other processes, not our tasks: nothing to wait on but their /proc entries.
    while loop.time() < deadline and any(alive(p) for p in tree):  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    survivors = [p for p in [process.pid, *tree] if alive(p)]
    for pid in survivors:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()
    return survivors
