"""Pre-approvals (RB-5, PAY-4, PAY-7) on the time-skipping server with the real services: asked
by the spender, decided by a department manager (never their own), a business expense asked by
email and phone at once, and the approved amount found by the claim audit for the claimant's
own lines only."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.pre_approval import (
    APPROVED,
    AWAITING_DECISION,
    DecisionInput,
    PreApprovalRequest,
    PreApprovalStatus,
    PreApprovalWorkflow,
    workflow_id,
)


def ask(
    category: str, amount_fen: int, person: str = "zhao.lei", **changes: str
) -> PreApprovalRequest:
    fields: dict[str, Any] = {
        "reference": f"PA-{uuid.uuid4().hex[:8]}",
        "person_id": person,
        "region_code": "east",
        "category": category,
        "amount_fen": amount_fen,
        "why": "dinner after the go-live",
        "customer": "上海第一醫院",
        "who": "the IT director and two nurses",
        "rule_version": "2024-v1",
    } | changes
    return PreApprovalRequest(**fields)


async def _start(
    env: WorkflowEnvironment, task_queue: str, request: PreApprovalRequest
) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        PreApprovalWorkflow.run, request, id=workflow_id(request.reference), task_queue=task_queue
    )


async def _waiting(handle: WorkflowHandle[Any, Any]) -> PreApprovalStatus:
    for _ in range(200):
        status: PreApprovalStatus = await handle.query(PreApprovalWorkflow.status)
        if status.stage == AWAITING_DECISION and status.deciders:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("never waiting")


async def _audit(stack: Stack, person: str, pre_approval: str, amount: int) -> F.AuditedLine:
    await StaffServiceStub(stack.staff).ReportAttendance(
        staff_pb2.ReportAttendanceRequest(
            idempotency_key=f"{person}-0601",
            day=staff_pb2.AttendanceDay(
                person_id=person, date="2026-06-01", status=staff_pb2.ATTENDANCE_STATUS_ON_SITE,
                hospital="上海第一醫院", city="Shanghai", place_region_code="east",
            ),
        )
    )  # fmt: skip
    audit = await FinanceServiceStub(stack.finance).AuditClaim(
        F.AuditClaimRequest(
            person_id=person,
            month="2026-06",
            lines=[F.ClaimLine(number=1, category="hospitality", date="2026-06-01",
                               city="Shanghai", amount_fen=amount, pre_approval=pre_approval)],
        )
    )  # fmt: skip
    [line] = audit.lines
    return line


async def test_hospitality_approved_beforehand_is_reimbursed_within_its_amount(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    request = ask("hospitality", 500_00)
    async with stack.worker(time_skipping_env.client, task_queue):
        handle = await _start(time_skipping_env, task_queue, request)
        await _waiting(handle)
        mail = await stack.mail.wait_for(lambda m: "A pre-approval to decide" in str(m["Subject"]))
        assert "Customer: 上海第一醫院" in mail.get_content()
        for decision, words in (
            (DecisionInput("wang.qiang", True), "a department manager does"),
            (DecisionInput("huang.aiping", True, 600_00), "at most the 500.00 yuan asked"),
        ):
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await handle.execute_update(PreApprovalWorkflow.decide, decision)
            cause = err.value.cause
            assert isinstance(cause, ApplicationError) and words in cause.message
        await handle.execute_update(
            PreApprovalWorkflow.decide, DecisionInput("huang.aiping", True, 400_00)
        )
        result: PreApprovalStatus = await handle.result()
        await record_history(handle, "pre_approval_approved")
    assert result.stage == APPROVED and result.approved_fen == 400_00
    line = await _audit(stack, "zhao.lei", request.reference, 450_00)
    assert line.sanctioned_fen == 400_00
    assert [(e.code, e.rule, e.fen) for e in line.exceptions] == [
        ("over_pre_approval", "RB-5", 50_00)
    ]
    # Another person's claim naming it finds no approval of theirs.
    other = await _audit(stack, "liu.yang", request.reference, 100_00)
    assert other.sanctioned_fen == 0 and other.exceptions[0].code == "no_pre_approval"


async def test_a_business_expense_is_asked_by_email_and_phone_at_once(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    request = ask("business", 2_000_00)
    async with stack.worker(time_skipping_env.client, task_queue):
        handle = await _start(time_skipping_env, task_queue, request)
        await _waiting(handle)
        await stack.mail.wait_for(lambda m: "A pre-approval to decide" in str(m["Subject"]))
        for _ in range(100):
            # The call and the mail go out at once: the log may not be there yet.
            log = stack.phone_log
            if log.exists() and request.reference in log.read_text(errors="replace"):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no call placed")
        await handle.execute_update(
            PreApprovalWorkflow.decide,
            DecisionInput("huang.aiping", False, note="not this quarter"),
        )
        result: PreApprovalStatus = await handle.result()
    assert result.stage == "refused"
    await stack.mail.wait_for(lambda m: "Pre-approval refused" in str(m["Subject"]))
