"""var/dev-state.json: what a running `csd dev` supervises, for `csd status` and for the next
`csd dev` (which stops the leftovers of one that was killed).

Written by the supervisor on every change (a part started, exited, restarted, stopped or
started answering again), atomically: a reader sees the old file or the new, never half."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from services.runtime import procfs

STATE_FILE = "dev-state.json"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def seconds_since(instant: str) -> float:
    return max((datetime.now(UTC) - datetime.fromisoformat(instant)).total_seconds(), 0.0)


@dataclass
class PartRecord:
    """One part as the supervisor last saw it."""

    name: str
    argv: list[str]
    log: str
    metrics_address: str = ""
    pid: int | None = None
    # starting, running, restarting, given up, stopped
    state: str = "starting"
    started_at: str = ""
    restarts: int = 0
    last_exit: int | None = None
    last_exit_at: str = ""
    # The last time the supervisor found it answering (not frozen; its /metrics served).
    answered_at: str = ""

    def alive(self) -> bool:
        return procfs.runs(self.pid, self.argv)

    def history(self) -> str:
        """ "restarted 2x, last exit 1 at 14:03:12", or "" for a part that never exited."""
        if self.last_exit is None:
            return ""
        at = datetime.fromisoformat(self.last_exit_at).astimezone().strftime("%H:%M:%S")
        return f"restarted {self.restarts}x, last {exit_text(self.last_exit)} at {at}"


def exit_text(code: int) -> str:
    """asyncio's return code in words: -9 is a SIGKILL, not an exit code."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit {code}"


@dataclass
class DevState:
    supervisor_pid: int
    supervisor_argv: list[str]
    started_at: str
    parts: dict[str, PartRecord] = field(default_factory=dict)

    def save(self, var_dir: Path) -> None:
        path = var_dir / STATE_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        os.replace(temporary, path)

    def supervisor_alive(self) -> bool:
        return procfs.runs(self.supervisor_pid, self.supervisor_argv)

    def workers(self) -> list[PartRecord]:
        return [p for p in self.parts.values() if p.name.split("-")[0] == "worker"]

    @classmethod
    def load(cls, var_dir: Path) -> DevState | None:
        """The state file's contents; None when there is none or it cannot be read."""
        try:
            raw = json.loads((var_dir / STATE_FILE).read_text(encoding="utf-8"))
            parts = {name: PartRecord(**part) for name, part in raw.pop("parts").items()}
            return cls(**raw, parts=parts)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    @classmethod
    def current(cls, var_dir: Path) -> DevState | None:
        """The state of a `csd dev` still running on `var_dir`; None when none is."""
        state = cls.load(var_dir)
        return state if state is not None and state.supervisor_alive() else None

    @staticmethod
    def remove(var_dir: Path) -> None:
        (var_dir / STATE_FILE).unlink(missing_ok=True)
