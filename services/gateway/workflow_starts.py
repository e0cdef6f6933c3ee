"""Starting a workflow once per business key.

A key names one request for good. Its first start wins; a retry of that request is answered from
the run it started, however long ago, and a different request under the same key is refused,
never silently answered with someone else's run.

A first start costs one round trip: it is made with the conflict policy FAIL, so a start that
succeeds is known to be this request's own run. Only when the key is taken (a retry, or a
conflict) is the run's first history event read, which says what it was started with.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.types import MethodAsyncSingleParam

from services.gateway.workflow_errors import TEMPORAL_TIMEOUT, workflow_call
from services.runtime.errors import FailedPrecondition, Unavailable

InputT = TypeVar("InputT")


@dataclass(frozen=True)
class Started(Generic[InputT]):
    """The run a business key names, and the input it really started with."""

    run_id: str
    input: InputT


async def start_once(
    client: Client,
    run: MethodAsyncSingleParam[Any, InputT, Any],
    input: InputT,
    *,
    id: str,
    task_queue: str,
    summary: str,
    details: str,
    request_key: Callable[[InputT], Hashable],
    conflict: str,
    give_up_after: timedelta = TEMPORAL_TIMEOUT,
) -> Started[InputT]:
    """Start `run(input)` as workflow `id`, or find the run `id` already names.

    `request_key` picks what makes two requests the same; a run started with a different key
    raises FAILED_PRECONDITION with the message `conflict`.
    """
    what = f"workflow {id}"
    try:
        handle = await workflow_call(
            client.start_workflow(
                run,
                input,
                id=id,
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=summary,
                static_details=details,
                rpc_timeout=give_up_after,
            ),
            what=what,
            give_up_after=give_up_after,
        )
        # Started just now, by this call: the run is this request's.
        return Started(handle.result_run_id or "", input)
    except WorkflowAlreadyStartedError as err:
        # The key is taken, by a run running or closed: this request's, or another's.
        run_id = err.run_id or ""
    first = await workflow_call(
        _started_with(client, id, run_id, type(input), rpc_timeout=give_up_after),
        what=what,
        give_up_after=give_up_after,
    )
    if request_key(first) != request_key(input):
        raise FailedPrecondition(conflict)
    return Started(run_id, first)


async def _started_with(
    client: Client,
    workflow_id: str,
    run_id: str,
    input_type: type[InputT],
    *,
    rpc_timeout: timedelta,
) -> InputT:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id or None)
    async for event in handle.fetch_history_events(page_size=1, rpc_timeout=rpc_timeout):
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        [value] = await client.data_converter.decode(payloads, [input_type])
        return value  # type: ignore[no-any-return]
    raise Unavailable(f"workflow {workflow_id} has no history yet; retry shortly")
