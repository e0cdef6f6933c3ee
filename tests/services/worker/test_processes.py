"""`csd worker --processes N` (issue 15): N worker processes on one task queue, each serving its
own metrics; a child that dies is started again; SIGTERM stops them all; a parent killed
outright takes its children with it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from services.runtime import procfs
from services.runtime.settings import Settings
from services.worker.processes import Child, metrics_address_of
from tests.ports import free_port, free_ports
from tests.stack import Stack
from workflows import search_attributes

REPO = Path(__file__).resolve().parents[3]


def _alive(pid: int) -> bool:
    # A zombie is dead for our purposes (its parent has not reaped it yet).
    return procfs.cmdline(pid) is not None


def _events(log: Path, event: str) -> list[dict[str, object]]:
    lines = log.read_text().splitlines() if log.exists() else []
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == event:
            found.append(record)
    return found


async def _until(what: str, condition: object, log: Path, within: float = 60.0) -> None:
    for _ in range(int(within / 0.1)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} within {within} s\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text()[-3000:]


@pytest.fixture
async def own_dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of the test's own: the processes poll the main task queue."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


async def _start(
    own_dev_server: WorkflowEnvironment, stack: Stack, tmp_path: Path, metrics_port: int
) -> tuple[asyncio.subprocess.Process, Path]:
    log = tmp_path / "workers.log"
    env = {
        **os.environ,
        "CSD_AUTH_MODE": "dev",
        "CSD_TEMPORAL_ADDRESS": own_dev_server.client.service_client.config.target_host,
        "CSD_STAFF_ADDRESS": stack.staff_address,
        "CSD_FINANCE_ADDRESS": stack.finance_address,
        "CSD_NOTIFY_ADDRESS": f"127.0.0.1:{stack.servers[2].port}",
        "CSD_VAR_DIR": str(tmp_path / "var"),
        "CSD_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
    }
    with log.open("ab") as out:
        parent = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.cli.main",
            "worker",
            "--processes",
            "2",
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    return parent, log


def _children(log: Path) -> list[int]:
    return [int(str(e["pid"])) for e in _events(log, "worker process started")]


@pytest.mark.timeout(120)
async def test_two_processes_poll_restart_a_dead_one_and_stop_together(
    own_dev_server: WorkflowEnvironment, stack: Stack, tmp_path: Path
) -> None:
    metrics_port = free_ports(2)  # the second child listens on the next one
    parent, log = await _start(own_dev_server, stack, tmp_path, metrics_port)
    try:
        await _until("both children poll", lambda: len(_events(log, "worker polling")) == 2, log)
        first, second = _children(log)
        async with httpx.AsyncClient() as http:
            for index in (0, 1):
                address = metrics_address_of(f"127.0.0.1:{metrics_port}", index)
                page = (await http.get(f"http://{address}/metrics")).text
                assert "temporal_worker_task_slots_available" in page, address

        os.kill(first, signal.SIGKILL)
        await _until("the dead child is replaced", lambda: len(_children(log)) == 3, log)
        await _until("and polls", lambda: len(_events(log, "worker polling")) == 3, log)
        assert _events(log, "worker process exited; starting it again")[0]["code"] == -9
        replacement = _children(log)[2]
        assert _alive(second) and _alive(replacement)

        parent.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(parent.wait(), 30) == 0
        await _until(
            "no child is left", lambda: not (_alive(second) or _alive(replacement)), log, 10
        )
    finally:
        if parent.returncode is None:
            parent.kill()
            await parent.wait()


@pytest.mark.timeout(120)
async def test_a_parent_killed_outright_takes_its_children_with_it(
    own_dev_server: WorkflowEnvironment, stack: Stack, tmp_path: Path
) -> None:
    parent, log = await _start(own_dev_server, stack, tmp_path, free_port())
    try:
        await _until("both children start", lambda: len(_children(log)) == 2, log)
        children = _children(log)
        parent.kill()
        await parent.wait()
        await _until("the children die with it", lambda: not any(map(_alive, children)), log, 10)
    finally:
        if parent.returncode is None:
            parent.kill()
            await parent.wait()


def test_only_the_first_process_keeps_the_case_gauges(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each gauge refresh lists the whole namespace: once per machine is enough.
    monkeypatch.setenv("CSD_METRICS_ADDRESS", "127.0.0.1:9200")
    settings = Settings.from_env()
    children = [Child(index, settings) for index in range(3)]
    assert [c.env["CSD_CASE_GAUGES"] for c in children] == ["on", "off", "off"]
    assert [c.env["CSD_METRICS_ADDRESS"] for c in children] == [
        "127.0.0.1:9200",
        "127.0.0.1:9201",
        "127.0.0.1:9202",
    ]
    monkeypatch.setenv("CSD_CASE_GAUGES", "off")
    assert not Settings.from_env().case_gauges
