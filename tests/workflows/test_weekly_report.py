"""Weekly reports (WR-1..WR-4) on the time-skipping server, with the real services."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from services.runtime.dates import COMPANY_ZONE, today
from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.weekly_report import (
    CUSTOMER_REPORT,
    CUSTOMER_REPORT_SECTIONS,
    MERGED_REPORT,
    TALLIED,
    TRACKING_SHEET,
    SubmissionInput,
    WeeklyReportInput,
    WeeklyReportStatus,
    WeeklyReportWorkflow,
    workflow_id,
)

Handle = WorkflowHandle[WeeklyReportWorkflow, WeeklyReportStatus]


def next_sunday() -> str:
    day = today() + timedelta(days=7)
    return (day + timedelta(days=(6 - day.weekday()) % 7)).isoformat()


async def start(client: Client, task_queue: str, region: str) -> Handle:
    sunday = next_sunday()
    return await client.start_workflow(
        WeeklyReportWorkflow.run,
        WeeklyReportInput(region_code=region, week_ending=sunday, rule_version="2024-v1"),
        id=workflow_id(region, sunday),
        task_queue=task_queue,
    )


async def collecting(handle: Handle) -> WeeklyReportStatus:
    for _ in range(200):
        status = await handle.query(WeeklyReportWorkflow.status)
        if status.expected:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("never started collecting")


def sections(**changes: str) -> dict[str, str]:
    full = {name: f"{name} this week: fine" for name in CUSTOMER_REPORT_SECTIONS}
    full.update(changes)
    return full


async def refused(handle: Handle, submission: SubmissionInput) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(WeeklyReportWorkflow.submit, submission)
    assert isinstance(err.value.cause, ApplicationError)
    return err.value.cause


async def test_missing_and_late_reports_are_fined_once_on_time_ones_not(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "east")
        status = await collecting(handle)
        assert sorted((e.kind, e.person_id) for e in status.expected) == [
            (CUSTOMER_REPORT, "li.na"),
            (MERGED_REPORT, "wang.qiang"),
            (TRACKING_SHEET, "liu.yang"),
            (TRACKING_SHEET, "zhao.lei"),
        ]
        # WR-3: a report missing sections is refused, naming them.
        error = await refused(
            handle,
            SubmissionInput(
                "li.na", CUSTOMER_REPORT, sections=sections(complaints="", final_payments=" ")
            ),
        )
        assert error.type == "INVALID_ARGUMENT"
        assert "complaints" in error.message and "final_payments" in error.message
        # Only the people who owe a report may submit it.
        assert (
            await refused(handle, SubmissionInput("sun.hao", TRACKING_SHEET, "f"))
        ).type == "PERMISSION_DENIED"

        await handle.execute_update(
            WeeklyReportWorkflow.submit,
            SubmissionInput("li.na", CUSTOMER_REPORT, sections=sections()),
        )
        await handle.execute_update(
            WeeklyReportWorkflow.submit,
            SubmissionInput("zhao.lei", TRACKING_SHEET, "file://sheets/zhao.lei.xlsx"),
        )
        await handle.execute_update(
            WeeklyReportWorkflow.submit,
            SubmissionInput(
                "wang.qiang", MERGED_REPORT, "file://east/merged.zip", text="quiet week"
            ),
        )
        # liu.yang's sheet comes after Sunday: late.
        now = await env.get_current_time()
        sunday_night = date.fromisoformat(status.week_ending) + timedelta(days=1)
        await env.sleep(datetime.combine(sunday_night, time(1, 0), tzinfo=COMPANY_ZONE) - now)
        late = await handle.execute_update(
            WeeklyReportWorkflow.submit,
            SubmissionInput("liu.yang", TRACKING_SHEET, "file://sheets/liu.yang.xlsx"),
        )
        assert [s.late for s in late.submissions if s.person_id == "liu.yang"] == [True]
        result = await handle.result()
        await record_history(handle, "weekly_report_tallied")

    assert result.stage == TALLIED
    assert {(t.person_id, t.outcome) for t in result.tally} == {
        ("li.na", "on_time"),
        ("zhao.lei", "on_time"),
        ("wang.qiang", "on_time"),
        ("liu.yang", "late"),
    }
    fines = await FinanceServiceStub(stack.finance).ListEntries(
        finance_pb2.ListEntriesRequest(region_code="east", kind=finance_pb2.ENTRY_KIND_FINE)
    )
    assert [(f.person_id, f.amount_fen, f.rule_id, f.recorded_by) for f in fines.entries] == [
        ("liu.yang", 5000, "WR-4", "wang.qiang")
    ]
    tally = await stack.mail.wait_for(lambda m: "tally" in str(m["Subject"]), 10)
    assert {a.strip() for a in str(tally["To"]).split(",")} == {
        "huang.aiping@csd.example",
        "jiang.chengzhao@csd.example",
    }
    assert tally["Cc"] == "chen.jing@csd.example"


async def test_a_region_without_a_customer_service_manager_has_its_tsm_cover_wr3(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "southwest")
        status = await collecting(handle)
        assert sorted((e.kind, e.person_id) for e in status.expected) == [
            (CUSTOMER_REPORT, "yang.fan"),
            (MERGED_REPORT, "yang.fan"),
            (TRACKING_SHEET, "luo.jie"),
        ]
        result = await handle.result()  # nobody reports: every report is missing
    assert {(t.person_id, t.kind, t.outcome) for t in result.tally} == {
        ("yang.fan", CUSTOMER_REPORT, "missing"),
        ("yang.fan", MERGED_REPORT, "missing"),
        ("luo.jie", TRACKING_SHEET, "missing"),
    }
    fines = await FinanceServiceStub(stack.finance).ListEntries(
        finance_pb2.ListEntriesRequest(region_code="southwest", kind=finance_pb2.ENTRY_KIND_FINE)
    )
    # Each missing report fined exactly once, even with activity retries.
    assert sorted(f.person_id for f in fines.entries) == ["luo.jie", "yang.fan", "yang.fan"]
