"""Read-only lookups (the staff directory, the company calendar) as local activities.

A lookup changes nothing, so it need not be a task the server dispatches: run in the workflow's
own task, it costs no server round trip, and its answer still lands in the history (a marker),
so replay is as deterministic as before. Its retries are the same named policy's.

Workflows that started with lookups as ordinary activities keep them so: `workflow.patched` says
which kind a history holds, once per run, and every lookup of that run follows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import retry_policies

LOCAL_LOOKUPS = "read-only-lookups-as-local-activities"

I = TypeVar("I")  # noqa: E741
R = TypeVar("R")


async def lookup(activity: Callable[[Any, I], Awaitable[R]], arg: I) -> R:
    """`activity` (a read-only method of an activity class) with `arg`."""
    if workflow.patched(LOCAL_LOOKUPS):
        return await workflow.execute_local_activity_method(
            activity,
            arg,
            start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
            retry_policy=retry_policies.DIRECTORY_LOOKUP,
        )
    return await workflow.execute_activity_method(
        activity,
        arg,
        start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
        retry_policy=retry_policies.DIRECTORY_LOOKUP,
    )
