"""What Linux's /proc says about a process (`csd dev`, `csd status`, `csd worker --processes`
and the benchmarks): whether a pid is alive and still the program it was, whether it is frozen,
who listens on a port; and the one prctl that makes a child die with its parent."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

PROC = Path("/proc")

# prctl(2): PR_SET_PDEATHSIG asks the kernel to signal this process when its parent thread dies.
_PR_SET_PDEATHSIG = 1
_LISTEN = "0A"  # the TCP state in /proc/net/tcp


def cmdline(pid: int) -> list[str] | None:
    """The argv `pid` runs with, or None when there is no such process (or it is a zombie)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    if not raw:  # a zombie, or a kernel thread
        return None
    return raw.rstrip(b"\0").decode(errors="replace").split("\0")


def state(pid: int) -> str:
    """The scheduler state letter of `pid` (R, S, T for stopped, Z…), "" when it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return ""
    # The command name in parentheses may hold spaces; the state follows its closing one.
    return stat.rsplit(")", 1)[1].split()[0]


def stopped(pid: int) -> bool:
    """Frozen by SIGSTOP (or a debugger): alive, and answering nothing."""
    return state(pid) in ("T", "t")


def runs(pid: int | None, argv: list[str]) -> bool:
    """`pid` is alive and still runs `argv` (not a new process that got the pid after it)."""
    return pid is not None and cmdline(pid) == argv


def var_dir_of(pid: int) -> Path | None:
    """The data directory a csd-ops process was started for: its CSD_VAR_DIR, or var/ under its
    working directory (Settings' default); None when this user may not read its environment."""
    try:
        environ = (PROC / str(pid) / "environ").read_bytes().split(b"\0")
        cwd = Path(os.readlink(PROC / str(pid) / "cwd"))
    except OSError:
        return None
    given = next((e[len(b"CSD_VAR_DIR=") :] for e in environ if e.startswith(b"CSD_VAR_DIR=")), b"")
    return (cwd / (given.decode(errors="replace") or "var")).resolve()


def listening(ports: Iterable[int]) -> dict[int, list[int]]:
    """For each of `ports` some process listens on (TCP, any local address), the pids holding
    that socket; an empty list when the holder is not this user's to see."""
    wanted = set(ports)
    inodes: dict[str, int] = {}
    for table in ("tcp", "tcp6"):
        try:
            rows = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            port = int(fields[1].rsplit(":", 1)[1], 16)
            if fields[3] == _LISTEN and port in wanted:
                inodes[f"socket:[{fields[9]}]"] = port
    held: dict[int, list[int]] = {port: [] for port in inodes.values()}
    if not inodes:
        return held
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:
            continue
        for link in links:
            if link in inodes and int(entry.name) not in held[inodes[link]]:
                held[inodes[link]].append(int(entry.name))
    return held


async def terminate(pid: int, *, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds: `pid` is gone when this returns."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        try:
            os.kill(pid, sig)
            # A frozen process would hold the SIGTERM pending until someone thaws it.
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            return
        for _ in range(int(wait / 0.05)):
            if cmdline(pid) is None:
                return
            await asyncio.sleep(0.05)


def die_with_parent() -> Callable[[], None] | None:
    """A subprocess preexec_fn (Linux) after which the child is SIGKILLed when the process that
    started it dies, however it dies: a SIGKILLed `csd dev` leaves no part holding a port.

    The kernel sends the signal when the *thread* that forked exits; csd dev forks from its
    main thread, which lives as long as the process."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def in_child() -> None:
        if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        # The parent may have died between fork and prctl: then no signal will ever come.
        if os.getppid() != parent:
            os._exit(1)

    return in_child
