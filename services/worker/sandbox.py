"""How the worker's sandbox treats csd-ops's own workflow modules.

Temporal's sandbox imports a workflow's module afresh for every workflow it builds, so that no
workflow sees another's module state and every call the module makes is checked for
determinism. That isolation has a price paid per workflow, not per worker: measured on a
requirement workflow (`RequirementWorkflow`, on this project's 2-core machines), 749 KiB and 42 ms
to build each one with its module isolated, 42 KiB and 1 ms with the module shared. A worker
that keeps 500 of them in memory spends 370 MiB on copies of one module; one that wakes 1,000
cases at once (an outage that trips every clock, Sunday's weekly reports) rebuilds those it
could not keep, in the middle of the burst.

So the worker shares them (SHARED, what production and the test suite's workers run): csd-ops's
workflow and activity modules are imported once, as the shared core always was. What the
isolation guarded is kept two other ways: the replay tests (`tests/workflows/test_replay.py`)
replay every committed history ISOLATED, where a call that is not deterministic fails; and
`tests/workflows/test_module_state.py` proves that no workflow module holds state a workflow
could change (its module-level values are immutable).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

Sandbox = Literal["shared", "isolated"]
SHARED: Sandbox = "shared"
ISOLATED: Sandbox = "isolated"
# Packages whose modules a workflow's code and payload types come from. Both, not only the
# workflows: a module passed through reaches the sandbox alone, and the payload converter looks
# a dataclass's annotations up (strings, under `from __future__ import annotations`) in the
# sandbox's module table, which lends it a module only if that module is configured to pass
# through; a digest's `list[TrackingRow]` (activities.requirements) would not decode.
OURS = ("workflows", "activities")


def modules_of(workflows: Iterable[type]) -> list[str]:
    """What the shared sandbox passes through: csd-ops's packages and the modules the workflows
    are defined in (the benchmarks' probes live elsewhere)."""
    return sorted({*OURS, *(w.__module__ for w in workflows)})


def runner(sandbox: Sandbox, workflows: Iterable[type]) -> SandboxedWorkflowRunner:
    """The sandbox for a worker running `workflows`."""
    if sandbox == ISOLATED:
        return SandboxedWorkflowRunner()
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*modules_of(workflows))
    return SandboxedWorkflowRunner(restrictions=restrictions)
