"""What a person sees of a case, read as they read it: the Web UI's current details (the SDK's
built-in metadata query), instants in the company's zone, an SLA alert's words, and the words
of a refused Update."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from workflows.sla import SlaView


async def current_details(handle: WorkflowHandle[Any, Any]) -> str:
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return metadata.current_details


def shanghai(instant: str) -> datetime:
    """`instant` as read from a status or a mail: RFC 3339 with the company's +08:00."""
    assert instant.endswith("+08:00"), instant
    return datetime.fromisoformat(instant)


def quotes(alert: str, view: SlaView) -> None:
    """The alert says the promise and the very instants the status reports for it."""
    assert view.promise and f"{view.promise}." in alert
    assert f"Started:  {view.started_at}" in alert
    assert f"Warning:  {view.warn_at}" in alert
    assert f"Deadline: {view.breach_at}" in alert


async def refused(handle: WorkflowHandle[Any, Any], update: Any, arg: Any) -> str:
    """The words of the refusal an Update meets (its validator's), which the test expects."""
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(update, arg)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError), cause
    return cause.message
