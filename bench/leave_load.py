"""Leave requests through the gateway, as people make them: the load for the throughput and
decision benchmarks.

Every request needs a slot of its own (a workflow per person, day and half day, LV-3 refuses
overlaps), so `LeaveSlots` hands out half days of the engineers of the demo organisation,
weekday by weekday from a few weeks ahead; a day the company calendar has off is skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta

import grpc
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub

from services.runtime.dates import today

# Engineers of the demo organisation (services/staff/demo.py), each with a team lead to approve.
REQUESTERS = ("zhao.lei", "liu.yang", "sun.hao", "ma.chao")
POLL_SECONDS = 0.02
WAIT_SECONDS = 60.0


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


class LeaveSlots:
    """Distinct (person, day, half) slots, never one twice in a process's life."""

    def __init__(self, first_day: date | None = None) -> None:
        self._slots = self._generate(first_day or today() + timedelta(days=21))

    @staticmethod
    def _generate(day: date) -> Iterator[tuple[str, date, int]]:
        while True:
            if day.weekday() < 5:
                for half in (G.DAY_HALF_AM, G.DAY_HALF_PM):
                    for person in REQUESTERS:
                        yield person, day, half
            day += timedelta(days=1)

    def take(self) -> tuple[str, date, int]:
        return next(self._slots)


async def request_leave(gateway: GatewayServiceStub, slots: LeaveSlots) -> tuple[str, str]:
    """A half day's leave requested; (leave id, requester). Slots the calendar has off are
    refused (no working time) and the next one is taken."""
    while True:
        person, day, half = slots.take()
        try:
            ref = await gateway.RequestLeave(
                G.RequestLeaveRequest(
                    leave_type="personal", start_date=day.isoformat(), start_half=half,  # type: ignore[arg-type]
                    end_date=day.isoformat(), end_half=half, reason="benchmark",  # type: ignore[arg-type]
                ),
                metadata=as_user(person),
            )  # fmt: skip
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.INVALID_ARGUMENT and "no working time" in (
                err.details() or ""
            ):
                continue
            raise
        return ref.leave_id, person


async def leave_in_stage(
    gateway: GatewayServiceStub, leave_id: str, requester: str, stage: str
) -> G.Leave:
    """The leave once it has reached `stage`, as its requester sees it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        try:
            leave: G.Leave = await gateway.GetLeave(
                G.GetLeaveRequest(leave_id=leave_id), metadata=as_user(requester)
            )
            if leave.stage == stage:
                return leave
        except grpc.aio.AioRpcError as err:
            # Started, but its first task has not run yet; or the worker is busy and the
            # gateway says to retry, as a person would.
            if err.code() not in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAVAILABLE):
                raise
        if loop.time() > deadline:
            raise TimeoutError(f"{leave_id} did not reach {stage} in {WAIT_SECONDS:g} s")
        await asyncio.sleep(POLL_SECONDS)


async def approve(gateway: GatewayServiceStub, leave: G.Leave) -> G.Leave:
    """The first approver says yes; the result is what the approver's screen shows."""
    decided: G.Leave = await gateway.DecideLeave(
        G.DecideLeaveRequest(leave_id=leave.leave_id, approve=True),
        metadata=as_user(leave.approver_ids[0]),
    )
    return decided
