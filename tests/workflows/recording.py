"""Recording the histories that tests/workflows/test_replay.py replays."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

HISTORIES = Path(__file__).parent.parent / "histories"
# The workflow code's generations, one per `workflow.patched` change, oldest first: histories of
# the code as it is now are recorded under the newest, beside (never over) the older ones.
# "core" is the baseline cut when every process moved onto the shared case file (issue 11): the
# generations before it, and their patch ids, were retired with it, nothing being deployed yet.
GENERATIONS = ("core", "claim-records-usage", "mi-candidate-on-call-misses", "wr2-log-bundle",
               "meeting-agenda-figures", "wr4-tally-figures",
               "wr3-inspection-records")  # fmt: skip
GENERATION = GENERATIONS[-1]


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With CSD_RECORD_HISTORIES=1, keep the history of `handle` as
    tests/histories/<name>.<GENERATION>.json.

    A committed history is never rewritten: it stands for executions already running under the
    code that made it. Record a changed workflow under a new name and keep the old file.
    """
    if os.environ.get("CSD_RECORD_HISTORIES") != "1":
        return
    path = HISTORIES / f"{name}.{GENERATION}.json"
    if path.exists():
        warnings.warn(f"{path} exists and is kept; record under a new name", stacklevel=2)
        return
    history = await handle.fetch_history()
    path.write_text(history.to_json())
