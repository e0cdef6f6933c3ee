"""Read-only lookups (the staff directory, the company calendar) as local activities.

A lookup changes nothing, so it need not be a task the server dispatches: run in the workflow's
own task, it costs no server round trip, and its answer still lands in the history (a marker),
so replay is as deterministic as an ordinary activity. Its retries are the named policy's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import CalendarActivities, Contact, RoleInput, WorkingTimeInput
    from workflows import regulation, retry_policies

I = TypeVar("I")  # noqa: E741
R = TypeVar("R")


async def lookup(activity: Callable[[Any, I], Awaitable[R]], arg: I) -> R:
    """`activity` (a read-only method of an activity class) with `arg`."""
    return await workflow.execute_local_activity_method(
        activity,
        arg,
        start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
        retry_policy=retry_policies.DIRECTORY_LOOKUP,
    )


async def people_in_role(role: str, region_code: str = "") -> list[Contact]:
    """Everyone active in `role` (in `region_code`, when given), as of now."""
    return await lookup(
        CalendarActivities.people_in_role, RoleInput(role=role, region_code=region_code)
    )


async def after_working_time(start: datetime, budget: timedelta) -> datetime:
    """The instant `budget` of working time after `start`, on the company calendar: where an
    SLA clock in working hours falls due."""
    moment = await lookup(
        CalendarActivities.add_working_time,
        WorkingTimeInput(start=regulation.shown(start), minutes=int(budget.total_seconds() // 60)),
    )
    return datetime.fromisoformat(moment.at)
