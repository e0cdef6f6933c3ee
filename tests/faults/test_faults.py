"""Faults, each stated, and what must hold afterwards: nothing lost, nothing doubled.

`make faults` runs these (with the fault tests elsewhere in the suite marked `faults`); CI runs
them with everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import uuid
from pathlib import Path

import grpc
import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from temporalio.testing import WorkflowEnvironment

from services.cli.health import temporal_health
from services.notify import server as notify_server
from services.notify.email import SmtpMailer
from services.notify.phone import LogProvider
from services.runtime.settings import Settings
from tests.stack import Stack
from workflows.assistance import AssistanceInput, AssistanceWorkflow, workflow_id

pytestmark = pytest.mark.faults


async def test_a_missing_or_read_only_temporal_database_is_reported(tmp_path: Path) -> None:
    """Fault: the dev server's SQLite file is deleted, or made read-only, under it."""
    settings = Settings.from_env()
    database = tmp_path / "temporal.db"
    gone = await temporal_health(settings, database)
    assert not gone.healthy and "missing" in gone.detail
    database.write_bytes(b"")
    database.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    read_only = await temporal_health(settings, database)
    assert not read_only.healthy and "not writable" in read_only.detail
    os.chmod(database, stat.S_IRUSR | stat.S_IWUSR)


async def test_a_reply_lost_after_commit_leaves_one_row(stack: Stack) -> None:
    """Fault: the caller gives up while the server commits (the reply is lost); it retries."""
    finance = FinanceServiceStub(stack.finance)
    request = F.RecordEntryRequest(
        idempotency_key=f"lost-reply-{uuid.uuid4().hex[:6]}",
        entry=F.LedgerEntry(
            person_id="zhao.lei",
            region_code="east",
            month="2026-11",
            kind=F.ENTRY_KIND_FINE,
            amount_fen=5000,
            rule_id="WR-4",
            reason="late weekly report",
        ),
    )
    # Calls abandoned at different moments: before, during and after the server's commit.
    for delay in (0.0, 0.0005, 0.001, 0.002, 0.004, 0.008):
        call = finance.RecordEntry(request, timeout=10)
        await asyncio.sleep(delay)
        call.cancel()
        # Cancelled in flight, or already answered: either way the caller never saw a reply.
        with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            await call
    first = await finance.RecordEntry(request, timeout=10)
    again = await finance.RecordEntry(request, timeout=10)
    assert first == again
    entries = await finance.ListEntries(F.ListEntriesRequest(person_id="zhao.lei"))
    assert [e.idempotency_key for e in entries.entries] == [request.idempotency_key]


async def test_notify_down_then_back_delivers_each_notification_once(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str, tmp_path: Path
) -> None:
    """Fault: the notify service is down while a workflow must mail; it comes back later."""
    notify = stack.servers[2]
    port = notify.port
    await notify.stop(grace=0)
    client = dev_server_env.client
    reference = f"XA-FAULT-{uuid.uuid4().hex[:6]}"
    async with stack.worker(client, task_queue):
        handle = await client.start_workflow(
            AssistanceWorkflow.run,
            AssistanceInput(
                reference, "zhao.lei", "east", "rnd", "subject", "description", "2024-v1"
            ),
            id=workflow_id(reference),
            task_queue=task_queue,
        )
        await asyncio.sleep(3)  # the email activity fails and is retried meanwhile
        assert not stack.mail.messages
        stack.servers[2] = await notify_server.start(
            address=f"127.0.0.1:{port}",
            database_url=f"sqlite+aiosqlite:///{tmp_path}/notify.db",
            mailer=SmtpMailer(
                host="127.0.0.1", port=stack.mail.port, mail_from="csd-ops@csd.example"
            ),
            phone=LogProvider(stack.phone_log),
        )
        await stack.mail.wait_for(lambda m: reference in str(m["Subject"]), 30)
        await asyncio.sleep(1)
        await handle.terminate("test over")
    assert len([m for m in stack.mail.messages if reference in str(m["Subject"])]) == 1
