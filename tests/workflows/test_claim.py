"""An expense claim on the time-skipping server with the real services (RB-1, RB-2): audited
by finance line by line, reviewed on RB-2's route, the sanctioned amount recorded in the ledger
once, and the claimant told every line's outcome."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.finance import ClaimLineInput
from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows import regulation
from workflows.claim import (
    APPROVED,
    AWAITING_CLERK,
    AWAITING_DEPARTMENT_MANAGER,
    REJECTED,
    ClaimInput,
    ClaimStatus,
    ClaimWorkflow,
    ReviewInput,
    validate,
)

MONTH = "2026-06"
# The SDK records the patches a run took here, beside each patch marker.
CHANGE_VERSION = SearchAttributeKey.for_keyword_list("TemporalChangeVersion")


async def _on_site(stack: Stack, person: str, day: str) -> None:
    await StaffServiceStub(stack.staff).ReportAttendance(
        staff_pb2.ReportAttendanceRequest(
            idempotency_key=f"{person}:{day}",
            day=staff_pb2.AttendanceDay(
                person_id=person,
                date=day,
                status=staff_pb2.ATTENDANCE_STATUS_ON_SITE,
                hospital="上海第一醫院",
                city="Shanghai",
                place_region_code="east",
            ),
        )
    )


LINES = [
    ClaimLineInput(1, "travel_allowance", "2026-06-01", "Shanghai", 55_00),
    ClaimLineInput(2, "lodging", "2026-06-01", "Shanghai", 120_00),
    ClaimLineInput(3, "taxi", "2026-06-01", "Shanghai", 40_00, overtime_or_emergency=True),
]


async def _start(
    env: WorkflowEnvironment, task_queue: str, person: str, role: str
) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        ClaimWorkflow.run,
        ClaimInput(person, role, "east", MONTH, LINES, "2024-v1"),
        id=f"claim-{person}-{MONTH}-{uuid.uuid4().hex[:6]}",
        task_queue=task_queue,
    )


async def _stage(handle: WorkflowHandle[Any, Any], stage: str) -> ClaimStatus:
    for _ in range(200):
        status: ClaimStatus = await handle.query(ClaimWorkflow.status)
        if status.stage == stage:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"still {status.stage}")


async def _refused(handle: WorkflowHandle[Any, Any], review: ReviewInput) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(ClaimWorkflow.review, review)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    return str(cause.message)


async def _reimbursed(stack: Stack, person: str) -> list[finance_pb2.LedgerEntry]:
    answer = await FinanceServiceStub(stack.finance).ListEntries(
        finance_pb2.ListEntriesRequest(person_id=person, kind=finance_pb2.ENTRY_KIND_REIMBURSEMENT)
    )
    return list(answer.entries)


async def test_an_engineers_claim_goes_to_the_clerk_then_a_manager_and_is_paid_once(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    await _on_site(stack, "zhao.lei", "2026-06-01")
    async with stack.worker(time_skipping_env.client, task_queue):
        handle = await _start(
            time_skipping_env, task_queue, "zhao.lei", "technical_service_engineer"
        )
        status = await _stage(handle, AWAITING_CLERK)
        assert (status.claimed_fen, status.sanctioned_fen) == (215_00, 155_00)
        lodging = next(line for line in status.lines if line.category == "lodging")
        assert lodging.sanctioned_fen == 100_00 and lodging.exceptions[0].rule == "PAY-4"
        # RB-2: not the region's manager, and not a department manager before the clerk.
        assert "(RB-2)" in await _refused(handle, ReviewInput("wang.qiang", True))
        assert "with the department clerk" in await _refused(
            handle, ReviewInput("huang.aiping", True)
        )
        after = await handle.execute_update(ClaimWorkflow.review, ReviewInput("chen.jing", True))
        assert after.stage == AWAITING_DEPARTMENT_MANAGER  # the reply says where it went
        await _stage(handle, AWAITING_DEPARTMENT_MANAGER)
        await handle.execute_update(ClaimWorkflow.review, ReviewInput("huang.aiping", True))
        result: ClaimStatus = await handle.result()
        await record_history(handle, "claim_approved")
    assert result.stage == APPROVED and result.approved_fen == 155_00
    [entry] = await _reimbursed(stack, "zhao.lei")
    assert entry.amount_fen == 155_00 and entry.rule_id == "RB-1"
    mail = await stack.mail.wait_for(lambda m: "Claim approved" in str(m["Subject"]))
    body = mail.get_content()
    assert "155.00 yuan will be reimbursed" in body
    assert "PAY-4 (refuse)" in body and "RB-4 (refuse)" in body  # every line's outcome


async def test_a_managers_claim_goes_to_a_department_manager_personally(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    await _on_site(stack, "wang.qiang", "2026-06-01")
    async with stack.worker(time_skipping_env.client, task_queue):
        handle = await _start(
            time_skipping_env, task_queue, "wang.qiang", "technical_service_manager"
        )
        await _stage(handle, AWAITING_DEPARTMENT_MANAGER)
        assert "(RB-2)" in await _refused(handle, ReviewInput("chen.jing", True))
        assert "say why" in await _refused(handle, ReviewInput("huang.aiping", False, " "))
        await handle.execute_update(
            ClaimWorkflow.review, ReviewInput("huang.aiping", False, "receipts missing")
        )
        result: ClaimStatus = await handle.result()
    assert result.stage == REJECTED and result.rejection == "receipts missing"
    assert await _reimbursed(stack, "wang.qiang") == []


def test_money_is_never_a_float() -> None:
    line = ClaimLineInput(1, "lodging", "2026-06-01", "Shanghai", 99.5)  # type: ignore[arg-type]
    with pytest.raises(regulation.InvalidInput, match="whole positive fen"):
        validate(ClaimInput("zhao.lei", "engineer", "east", MONTH, [line], "2024-v1"))


async def _approve(handle: WorkflowHandle[Any, Any]) -> ClaimStatus:
    await _stage(handle, AWAITING_CLERK)
    await handle.execute_update(ClaimWorkflow.review, ReviewInput("chen.jing", True))
    await _stage(handle, AWAITING_DEPARTMENT_MANAGER)
    await handle.execute_update(ClaimWorkflow.review, ReviewInput("huang.aiping", True))
    result: ClaimStatus = await handle.result()
    return result


async def test_a_shared_room_and_a_pre_approval_are_paid_once_across_claims(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    for person in ("zhao.lei", "liu.yang"):
        await _on_site(stack, person, "2026-06-01")
    await FinanceServiceStub(stack.finance).RecordPreApproval(
        finance_pb2.RecordPreApprovalRequest(
            idempotency_key="pa",
            pre_approval=finance_pb2.PreApproval(
                reference="PA-DINNER", person_id="zhao.lei", category="hospitality",
                approved_fen=300_00, approved_by="huang.aiping",
            ),
        )
    )  # fmt: skip
    room = ClaimLineInput(1, "lodging", "2026-06-01", "Shanghai", 90_00, shared_with=["liu.yang"])
    dinner = ClaimLineInput(
        2, "hospitality", "2026-06-01", "Shanghai", 200_00, pre_approval="PA-DINNER"
    )
    async with stack.worker(env.client, task_queue):
        first = await env.client.start_workflow(
            ClaimWorkflow.run,
            ClaimInput(
                "zhao.lei", "technical_service_engineer", "east", MONTH, [room, dinner], "2024-v1"
            ),
            id=f"claim-first-{uuid.uuid4().hex[:6]}",
            task_queue=task_queue,
        )
        paid = await _approve(first)
        assert paid.approved_fen == 290_00
        # The run took the patch, and says so where ops look (README: Changing a running
        # workflow): TemporalChangeVersion lists the patch id.
        described = await first.describe()
        assert "claim-records-usage" in (
            described.typed_search_attributes.get(CHANGE_VERSION) or []
        )
        await record_history(first, "claim_records_usage")
        # liu.yang shared that room: it is not paid again on her claim.
        second = await env.client.start_workflow(
            ClaimWorkflow.run,
            ClaimInput("liu.yang", "technical_service_engineer", "east", MONTH,
                       [ClaimLineInput(1, "lodging", "2026-06-01", "Shanghai", 90_00)], "2024-v1"),
            id=f"claim-second-{uuid.uuid4().hex[:6]}",
            task_queue=task_queue,
        )  # fmt: skip
        status = await _stage(second, AWAITING_CLERK)
        [line] = status.lines
        assert line.sanctioned_fen == 0 and line.exceptions[0].code == "room_already_reimbursed"
        await second.terminate("test over")
        # And the dinner's pre-approval is spent: a second claim naming it gets nothing.
        again = await env.client.start_workflow(
            ClaimWorkflow.run,
            ClaimInput(
                "zhao.lei", "technical_service_engineer", "east", MONTH, [dinner], "2024-v1"
            ),
            id=f"claim-again-{uuid.uuid4().hex[:6]}",
            task_queue=task_queue,
        )
        status = await _stage(again, AWAITING_CLERK)
        assert status.lines[0].exceptions[0].code == "pre_approval_used"
        await again.terminate("test over")
