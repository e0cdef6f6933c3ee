"""OC-1 on the time-skipping server with the real services: a missed on-call call recorded by
the caller is verified by the person's manager; verified misses forfeit the month's
communication allowance exactly once however many there are; an unverified one forfeits
nothing; a further fine is the manager's, with its reason."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.on_call_miss import (
    AWAITING_VERIFICATION,
    MissInput,
    MissStatus,
    OnCallMissWorkflow,
    VerifyInput,
    workflow_id,
)


def miss(person: str = "zhao.lei", at: str = "2026-06-03T22:10:00+08:00") -> MissInput:
    return MissInput(f"OC-{uuid.uuid4().hex[:8]}", person, "shi.wenjun", at,
                     "hospital system down at 上海第一醫院", "2024-v1")  # fmt: skip


async def _waiting(
    env: WorkflowEnvironment, task_queue: str, input: MissInput
) -> WorkflowHandle[Any, Any]:
    handle = await env.client.start_workflow(
        OnCallMissWorkflow.run, input, id=workflow_id(input.reference), task_queue=task_queue
    )
    for _ in range(200):
        status: MissStatus = await handle.query(OnCallMissWorkflow.status)
        if status.stage == AWAITING_VERIFICATION and status.manager_id:
            return handle
        await asyncio.sleep(0.05)
    raise AssertionError("never waiting")


async def _entries(stack: Stack, person: str, kind: int) -> list[F.LedgerEntry]:
    answer = await FinanceServiceStub(stack.finance).ListEntries(
        F.ListEntriesRequest(person_id=person, kind=kind)  # type: ignore[arg-type]
    )
    return list(answer.entries)


async def test_verified_misses_forfeit_the_months_allowance_once(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    async with stack.worker(env.client, task_queue):
        first = await _waiting(env, task_queue, miss())
        second = await _waiting(env, task_queue, miss(at="2026-06-20T03:00:00+08:00"))
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await first.execute_update(OnCallMissWorkflow.verify, VerifyInput("huang.aiping", True))
        cause = err.value.cause
        assert (
            isinstance(cause, ApplicationError)
            and "manager wang.qiang does (OC-1)" in cause.message
        )
        await first.execute_update(OnCallMissWorkflow.verify, VerifyInput("wang.qiang", True))
        await second.execute_update(
            OnCallMissWorkflow.verify,
            VerifyInput("wang.qiang", True, fine_fen=50_00, note="a go-live night, twice"),
        )
        one: MissStatus = await first.result()
        two: MissStatus = await second.result()
        await record_history(second, "on_call_miss_verified_fined")
    [forfeit] = await _entries(stack, "zhao.lei", F.ENTRY_KIND_FORFEIT)
    assert forfeit.amount_fen == 100_00 and forfeit.month == "2026-06"  # PAY-5: an engineer's
    assert one.forfeit_entry == two.forfeit_entry == forfeit.id
    [fine] = await _entries(stack, "zhao.lei", F.ENTRY_KIND_FINE)
    assert (fine.amount_fen, fine.rule_id) == (50_00, "OC-1")


async def test_an_unverified_miss_forfeits_nothing(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await _waiting(env, task_queue, miss("liu.yang"))
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(OnCallMissWorkflow.verify, VerifyInput("wang.qiang", False))
        await handle.execute_update(
            OnCallMissWorkflow.verify,
            VerifyInput("wang.qiang", False, note="the phone network was down that night"),
        )
        status: MissStatus = await handle.result()
    assert status.stage == "not_verified"
    assert await _entries(stack, "liu.yang", F.ENTRY_KIND_FORFEIT) == []
