"""How the worker's sandbox treats csd-ops's own workflow modules.

Temporal's sandbox imports a workflow's module afresh for every workflow it builds, so that no
workflow sees another's module state and every call the module makes is checked for
determinism. That isolation has a price paid per workflow, not per worker: measured on a
requirement workflow (`RequirementWorkflow`, on this project's 2-core machines), 749 KiB and 42 ms
to build each one with its module isolated, 42 KiB and 1 ms with the module shared. A worker
that keeps 500 of them in memory spends 370 MiB on copies of one module; one that wakes 1,000
cases at once (an outage that trips every clock, Sunday's weekly reports) rebuilds those it
could not keep, in the middle of the burst.

So the production worker shares them (SHARED): csd-ops's workflow modules are imported once,
like the shared core, which has always been. What the isolation guarded is kept two other ways:
the test suite's workers and the replay tests run every workflow ISOLATED, where any call that
is not deterministic fails the test; and `tests/workflows/test_module_state.py` proves that no
workflow module holds state a workflow could change (its module-level values are immutable).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

Sandbox = Literal["shared", "isolated"]
SHARED: Sandbox = "shared"
ISOLATED: Sandbox = "isolated"


def modules_of(workflows: Iterable[type]) -> list[str]:
    """The modules the workflows are defined in, and csd-ops's workflows package."""
    return sorted({"workflows", *(w.__module__ for w in workflows)})


def runner(sandbox: Sandbox, workflows: Iterable[type]) -> SandboxedWorkflowRunner:
    """The sandbox for a worker running `workflows`."""
    if sandbox == ISOLATED:
        return SandboxedWorkflowRunner()
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*modules_of(workflows))
    return SandboxedWorkflowRunner(restrictions=restrictions)
