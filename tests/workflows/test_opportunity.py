"""Business opportunities on the time-skipping server with the real services (BO-1, BO-3, G-3,
G-5): registered and mailed at once to the department managers and the region's customer
service manager, confirmed by a department manager, sold only by who may sell it, and a won sale
is the region's income in the ledger once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.case_details import refused
from tests.workflows.recording import record_history
from workflows.opportunity import (
    FOR_THE_DEPARTMENT,
    FOR_THE_REGION,
    LOST,
    NOT_REAL,
    REGISTERED,
    WON,
    CloseInput,
    ConfirmInput,
    OpportunityInput,
    OpportunityStatus,
    OpportunityWorkflow,
    workflow_id,
)


def registered(by: str = "zhao.lei") -> OpportunityInput:
    return OpportunityInput(
        f"BO-{uuid.uuid4().hex[:8]}", "secondary_sale", "上海第一醫院", "east", by, 80_000_00,
        "the nursing module for two more wards", "2024-v1",
    )  # fmt: skip


async def _start(
    env: WorkflowEnvironment, task_queue: str, input: OpportunityInput
) -> WorkflowHandle[Any, Any]:
    handle = await env.client.start_workflow(
        OpportunityWorkflow.run, input, id=workflow_id(input.reference), task_queue=task_queue
    )
    for _ in range(200):
        status: OpportunityStatus = await handle.query(OpportunityWorkflow.status)
        if status.stage == REGISTERED and status.confirmers:
            return handle
        await asyncio.sleep(0.05)
    raise AssertionError("never registered")


async def _stage(handle: WorkflowHandle[Any, Any], stage: str) -> OpportunityStatus:
    for _ in range(200):
        status: OpportunityStatus = await handle.query(OpportunityWorkflow.status)
        if status.stage == stage and status.sellers:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {stage}")


async def _income(stack: Stack, reference: str) -> list[finance_pb2.LedgerEntry]:
    entries = await FinanceServiceStub(stack.finance).ListEntries(
        finance_pb2.ListEntriesRequest(region_code="east", kind=finance_pb2.ENTRY_KIND_INCOME)
    )
    return [e for e in entries.entries if e.reference == workflow_id(reference)]


async def test_a_sale_kept_by_the_department_is_sold_by_it_and_booked_once(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    opportunity = registered()
    async with stack.worker(env.client, task_queue):
        handle = await _start(env, task_queue, opportunity)
        mail = await stack.mail.wait_for(lambda m: "A business opportunity" in str(m["Subject"]))
        assert {"huang.aiping@csd.example", "li.na@csd.example"} <= set(
            str(mail["To"]).replace(" ", "").split(",")
        )
        close = OpportunityWorkflow.close
        # BO-3: the engineer who registered it never sells it.
        words = await refused(handle, close, CloseInput("zhao.lei", "technical_service_engineer",
                                                        True, 80_000_00))  # fmt: skip
        assert "(BO-3)" in words
        words = await refused(handle, close, CloseInput("li.na", "customer_service_manager",
                                                        True, 80_000_00))  # fmt: skip
        assert "confirms it first (BO-1)" in words
        words = await refused(
            handle, OpportunityWorkflow.confirm, ConfirmInput("li.na", True, True)
        )
        assert "the department's managers do" in words
        await handle.execute_update(
            OpportunityWorkflow.confirm, ConfirmInput("huang.aiping", True, False, "a key account")
        )
        await _stage(handle, FOR_THE_DEPARTMENT)
        # BO-1: without the company's authorisation the region's CSM does not sell.
        words = await refused(handle, close, CloseInput("li.na", "customer_service_manager",
                                                        True, 80_000_00))  # fmt: skip
        assert "without the company's authorisation" in words
        await handle.execute_update(
            close, CloseInput("huang.aiping", "department_manager", True, 75_000_00)
        )
        result: OpportunityStatus = await handle.result()
        await record_history(handle, "opportunity_won_by_the_department")
    assert result.stage == WON and result.amount_fen == 75_000_00
    [income] = await _income(stack, opportunity.reference)
    assert (income.amount_fen, income.rule_id, income.id) == (75_000_00, "BO-1", result.entry_id)


async def test_a_sale_given_to_the_region_is_its_csms_and_the_tsm_never_sells(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    opportunity = registered(by="wang.qiang")
    async with stack.worker(env.client, task_queue):
        handle = await _start(env, task_queue, opportunity)
        await handle.execute_update(
            OpportunityWorkflow.confirm, ConfirmInput("jiang.chengzhao", True, True)
        )
        status = await _stage(handle, FOR_THE_REGION)
        assert status.sellers == ["li.na"]
        tsm = CloseInput("wang.qiang", "technical_service_manager", True, 1_00)
        words = await refused(handle, OpportunityWorkflow.close, tsm)
        assert "(BO-3)" in words
        words = await refused(handle, OpportunityWorkflow.close,
                               CloseInput("li.na", "customer_service_manager", False))  # fmt: skip
        assert "say why it was lost" in words
        await handle.execute_update(
            OpportunityWorkflow.close,
            CloseInput("li.na", "customer_service_manager", False, note="budget moved to 2027"),
        )
        result: OpportunityStatus = await handle.result()
    assert result.stage == LOST and not result.entry_id
    assert await _income(stack, opportunity.reference) == []


async def test_an_opportunity_that_is_not_real_says_why_and_ends(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await _start(env, task_queue, registered())
        words = await refused(
            handle, OpportunityWorkflow.confirm, ConfirmInput("huang.aiping", False)
        )
        assert "say why it is not real" in words
        await handle.execute_update(
            OpportunityWorkflow.confirm,
            ConfirmInput("huang.aiping", False, note="the hospital bought it elsewhere"),
        )
        result: OpportunityStatus = await handle.result()
    assert result.stage == NOT_REAL and "elsewhere" in result.note
