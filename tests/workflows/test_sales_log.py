"""CL-3 on the time-skipping server with the real services: a log sent by sales is passed by
the assistant to the project's engineer, who completes it; it then is an entry of the project's
communication log on its latest version, written once, marked as from sales."""

from __future__ import annotations

import asyncio
import uuid

from csd.staff.v1 import staff_pb2 as S
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from temporalio.testing import WorkflowEnvironment

from services.runtime.dates import today
from tests.stack import Stack
from tests.workflows.case_details import refused
from tests.workflows.recording import record_history
from workflows.sales_log import (
    LOGGED,
    SENT,
    CompleteInput,
    PassOnInput,
    SalesLogInput,
    SalesLogStatus,
    SalesLogWorkflow,
    workflow_id,
)

PROJECT = "sh-first-hospital"


async def test_sales_log_is_passed_on_completed_and_logged_on_the_latest_version(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    day = today().isoformat()
    log = SalesLogInput(
        f"SL-{uuid.uuid4().hex[:8]}", PROJECT, "east", "zhao.lei", "sun.li", "the purchasing head",
        "asked about extending the maintenance contract", day, "2024-v1",
    )  # fmt: skip
    staff = StaffServiceStub(stack.staff)
    async with stack.worker(env.client, task_queue):
        handle = await env.client.start_workflow(
            SalesLogWorkflow.run, log, id=workflow_id(log.reference), task_queue=task_queue
        )
        for _ in range(200):
            status: SalesLogStatus = await handle.query(SalesLogWorkflow.status)
            if status.stage == SENT and status.assistants and status.slas:
                break
            await asyncio.sleep(0.05)
        await stack.mail.wait_for(lambda m: "to pass on" in str(m["Subject"]))
        complete = CompleteInput("zhao.lei", "they want a 3-year term")
        assert "has not passed it on yet" in await refused(
            handle, SalesLogWorkflow.complete, complete
        )
        assert "the department assistant does" in await refused(
            handle, SalesLogWorkflow.pass_on, PassOnInput("liu.yang")
        )
        await handle.execute_update(SalesLogWorkflow.pass_on, PassOnInput("shi.wenjun"))
        await stack.mail.wait_for(lambda m: "Complete sales' log" in str(m["Subject"]))
        assert "the project's engineer" in await refused(
            handle, SalesLogWorkflow.complete, CompleteInput("liu.yang", "not mine")
        )
        # Someone writes the log meanwhile: the completed entry goes on after it.
        await staff.AppendLogEntry(
            S.AppendLogEntryRequest(
                idempotency_key="meanwhile", project_code=PROJECT, expected_version=0,
                entry=S.LogEntry(author_id="li.na", contact_with="the IT director",
                                 channel="phone", summary="renewal quote sent", contacted_on=day),
            )
        )  # fmt: skip
        await handle.execute_update(SalesLogWorkflow.complete, complete)
        result: SalesLogStatus = await handle.result()
        await record_history(handle, "sales_log_logged")
    assert result.stage == LOGGED and result.log_version == 2
    entries = (await staff.ListLogEntries(S.ListLogEntriesRequest(project_code=PROJECT))).entries
    assert [(e.version, e.author_id, e.source) for e in entries] == [
        (1, "li.na", ""),
        (2, "zhao.lei", "sales"),
    ]
    assert "3-year term" in entries[1].summary and entries[1].reference == handle.id
