"""AT-2's daily check for one region, started each morning by a Temporal Schedule
(services/cli/schedules.py): the staff service finds (and keeps) each occurrence of more than
the rule's number of working days without a daily report, and each gets its case
(workflows/missing_reports.py) under the occurrence's own workflow id. A check that runs twice,
or again after a crash, starts nothing twice: the id is taken, the start is refused, and the
check goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.attendance import AttendanceActivities, OpenMissingReportsInput
    from workflows import regulation, retry_policies
    from workflows.missing_reports import (
        MissingReportsInput,
        MissingReportsWorkflow,
        workflow_id,
    )


@dataclass
class AttendanceCheckInput:
    region_code: str


@dataclass
class AttendanceCheckResult:
    as_of: str
    started: list[str] = field(default_factory=list)
    already_open: list[str] = field(default_factory=list)


@workflow.defn
class AttendanceCheckWorkflow:
    @workflow.run
    async def run(self, input: AttendanceCheckInput) -> AttendanceCheckResult:
        now = workflow.now()
        rules = regulation.in_force_at(now)
        as_of = now.astimezone(regulation.COMPANY_ZONE).date().isoformat()
        found = await workflow.execute_activity_method(
            AttendanceActivities.open_missing_reports,
            OpenMissingReportsInput(input.region_code, as_of, rules.at2_missing_days),
            start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
            retry_policy=retry_policies.DIRECTORY_LOOKUP,
        )
        result = AttendanceCheckResult(as_of)
        for occurrence in found:
            case_id = workflow_id(occurrence.id)
            try:
                await workflow.start_child_workflow(
                    MissingReportsWorkflow.run,
                    MissingReportsInput(occurrence, rules.version),
                    id=case_id,
                    # The case outlives the check; its id, once used, is never used again.
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
            except WorkflowAlreadyStartedError:
                result.already_open.append(case_id)
            else:
                result.started.append(case_id)
        return result
