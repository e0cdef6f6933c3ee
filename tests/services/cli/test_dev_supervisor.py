"""`csd dev` heals instead of dying (issue 15): a crashed part is restarted and `csd status`
says so; a part that keeps crashing is given up on; a SIGKILLed csd dev takes its children
with it; the next one stops what an earlier one left and names whoever else holds a port; a
frozen worker is "stalled", not "ok". Real processes, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.services.cli.dev_harness import (
    CSD,
    Dev,
    dead,
    dev_environment,
    status,
    stop_gracefully,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def dev_env(tmp_path: Path) -> dict[str, str]:
    return dev_environment(tmp_path)


@pytest.fixture
async def dev(dev_env: dict[str, str]) -> AsyncIterator[Dev]:
    running = await Dev.start(dev_env)
    try:
        await running.wait_for_line("csd-ops is up")
        yield running
    finally:
        await stop_gracefully(running.process)


async def _until(condition: object, seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.1)


async def test_a_killed_part_is_restarted_healthy_and_csd_status_shows_the_restart(
    dev: Dev, dev_env: dict[str, str]
) -> None:
    notify = dev.pid("notify")
    os.kill(notify, signal.SIGKILL)
    said = await dev.wait_for_line("stopped unexpectedly", 10)
    assert said.startswith(f"notify (pid {notify}) stopped unexpectedly (killed by SIGKILL"), said
    back = await dev.wait_for_line("notify is back", 30)
    assert dev.pid("notify") != notify and f"pid {dev.pid('notify')}, restart 1" in back

    code, report = await status(dev_env)
    assert code == 0, report
    line = next(row for row in report.splitlines() if " notify " in row)
    assert line.startswith("ok   notify") and "restarted 1x, last killed by SIGKILL at" in line
    log = (Path(dev_env["CSD_VAR_DIR"]) / "log" / "dev.log").read_text()
    assert '"part exited"' in log and '"part restarted"' in log


async def test_a_part_that_keeps_crashing_is_given_up_on_and_csd_dev_stops(dev: Dev) -> None:
    # Five crashes within a minute: kill staff as soon as each restart of it is up.
    for restart in range(1, 5):
        os.kill(dev.pid("staff"), signal.SIGKILL)
        await dev.wait_for_line(f"restart {restart})", 30)
    os.kill(dev.pid("staff"), signal.SIGKILL)
    await dev.wait_for_line("giving up on it and stopping csd dev", 10)
    assert await asyncio.wait_for(dev.process.wait(), 60) == 1
    assert dev.process.stdout is not None
    rest = (await dev.process.stdout.read()).decode()
    stopped = [line for line in rest.splitlines() if line.startswith("stopped ")]
    # Everything else stopped in order; staff, given up, was not running.
    assert stopped[0] == "stopped worker" and stopped[-1] == "stopped temporal", rest
    assert "stopped staff" not in stopped


async def test_a_sigkilled_csd_dev_leaves_no_part_running_and_the_next_one_clears_leftovers(
    dev_env: dict[str, str],
) -> None:
    dev_env["CSD_DEV_WORKERS"] = "2"
    first = await Dev.start(dev_env)
    try:
        await first.wait_for_line("csd-ops is up")
        parts = first.state()["parts"]
        assert "worker-2" in parts and parts["worker-2"]["metrics_address"]
        pids = [part["pid"] for part in parts.values()]
        assert len(pids) == 8 and all(isinstance(pid, int) for pid in pids), parts
        first.process.kill()
        await first.process.wait()
        await _until(lambda: all(dead(pid) for pid in pids), 5)
    finally:
        await stop_gracefully(first.process)

    # A part of ours left holding a port (as a csd dev before PR_SET_PDEATHSIG, or one frozen
    # when its supervisor died, would leave it): the same program for the same var/.
    var = Path(dev_env["CSD_VAR_DIR"])
    stray = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.mailsink",
        "--host", "127.0.0.1", "--port", dev_env["CSD_SMTP_PORT"], "--maildir", str(var / "mail"),
        env=dev_env,
    )  # fmt: skip
    try:
        await asyncio.sleep(1.5)
        second = await Dev.start(dev_env)
        try:
            said = await second.wait_for_line("left on port", 30)
            assert f"stopped pid {stray.pid}" in said and dev_env["CSD_SMTP_PORT"] in said
            await second.wait_for_line("csd-ops is up")
            assert await asyncio.wait_for(stray.wait(), 5) is not None
            code, report = await status(dev_env)
            assert code == 0, report
            assert "ok   worker  " in report and "ok   worker-2" in report, report
        finally:
            await stop_gracefully(second.process)
    finally:
        if stray.returncode is None:
            stray.kill()
            await stray.wait()


async def test_a_port_held_by_someone_else_is_named_and_csd_dev_exits(
    dev_env: dict[str, str],
) -> None:
    port = dev_env["CSD_STAFF_ADDRESS"].rsplit(":", 1)[1]
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import socket, sys, time\n"
        f"s = socket.create_server(('127.0.0.1', {port}))\n"
        "print('listening', flush=True)\n"
        "time.sleep(60)\n",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), 10) == b"listening\n"
        process = await asyncio.create_subprocess_exec(
            CSD,
            "dev",
            env=dev_env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        holder.kill()
        await holder.wait()
    output = out.decode()
    assert process.returncode == 1, output
    assert f"port {port} (staff) is held by pid {holder.pid}: {sys.executable} -c" in output
    assert "stopped" not in output  # nothing was started, nothing of theirs was touched


async def test_a_frozen_worker_is_stalled_and_ok_again_once_thawed(
    dev: Dev, dev_env: dict[str, str]
) -> None:
    worker = dev.pid("worker")
    os.kill(worker, signal.SIGSTOP)
    try:
        await dev.wait_for_line(f"worker (pid {worker}) is not answering", 10)
        await asyncio.sleep(2)
        code, report = await status(dev_env)
        assert code == 1, report
        line = next(row for row in report.splitlines() if " worker " in row)
        assert line.startswith("DOWN worker"), report
        assert f"stalled: pid {worker} not answering for " in line and "last poll seen" in line
    finally:
        os.kill(worker, signal.SIGCONT)
    await dev.wait_for_line(f"worker (pid {worker}) answers again", 10)
    code, report = await status(dev_env)
    assert code == 0, report
    line = next(row for row in report.splitlines() if " worker " in row)
    assert line.startswith("ok   worker") and f"pid {worker}: " in line, report
    assert "poller(s), last seen" in line
