"""The planner a Temporal Schedule starts every day for each department cadence (MT-1..MT-3,
WR-2..WR-4, RQ-5, RQ-6, PAY-2, CS-2).

A schedule cannot express "the last Thursday of the month, or the working day before it": so the
schedule only wakes the planner, the planner asks the company calendar for the next occurrence,
and when it falls within the planning horizon starts that occurrence's workflow under its business
key. The key makes planning idempotent: the same occurrence planned twice is one workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.staff import (
        CalendarActivities,
        NextOccurrenceInput,
        OccurrenceResult,
        ProjectsInput,
        StaffActivities,
    )
    from workflows import regulation
    from workflows.lookups import lookup
    from workflows.meeting import MeetingInput, MeetingWorkflow
    from workflows.meeting import workflow_id as meeting_id
    from workflows.regulation import cadences
    from workflows.requirement_digest import DigestInput, RequirementDigestWorkflow
    from workflows.requirement_digest import workflow_id as digest_id
    from workflows.satisfaction import SatisfactionSurveyWorkflow, SurveyInput
    from workflows.satisfaction import workflow_id as survey_id
    from workflows.settlement import MonthlySettlementWorkflow, SettlementInput, month_before
    from workflows.settlement import workflow_id as settlement_id
    from workflows.weekly_report import WeeklyReportInput, WeeklyReportWorkflow
    from workflows.weekly_report import workflow_id as weekly_report_id

# Occurrences are planned at most this far ahead: invitations a week before, not a quarter.
HORIZON = timedelta(days=8)

MEETINGS = MappingProxyType({cadences.MT1: "MT-1", cadences.MT2: "MT-2", cadences.MT3: "MT-3"})
WEEKLY_REPORTS = cadences.WR_DUE
DIGESTS = MappingProxyType({cadences.RQ5: "weekly", cadences.RQ6: "monthly"})
CADENCE_NAMES = (*MEETINGS, WEEKLY_REPORTS, *DIGESTS, cadences.PAY2, cadences.CS2)


@dataclass
class PlanInput:
    cadence: str
    region_code: str = ""  # for the regional cadences


@dataclass
class PlanResult:
    occurrence: str
    workflow_id: str = ""  # empty when beyond the horizon
    started: bool = False


@workflow.defn
class CadencePlannerWorkflow:
    """Plan the next occurrence of one cadence."""

    @workflow.run
    async def run(self, input: PlanInput) -> PlanResult:
        if input.cadence not in CADENCE_NAMES:
            raise ApplicationError(
                f"no planner for cadence {input.cadence!r}; the cadences are "
                f"{', '.join(CADENCE_NAMES)}",
                type="INVALID_ARGUMENT",
                non_retryable=True,
            )
        rules = regulation.in_force_at(workflow.now()).version
        nxt = await self._next(input.cadence, workflow.now().isoformat(), rules)
        at = datetime.fromisoformat(nxt.at)
        if at - workflow.now() > HORIZON:
            workflow.set_current_details(f"Next {input.cadence} on {nxt.at}: not yet planned.")
            return PlanResult(occurrence=nxt.at)
        rules = regulation.in_force_at(at).version
        # The occurrence's date as the department names it (the instant is shown in +08:00).
        day = nxt.at[:10]
        if input.cadence in MEETINGS:
            rule = MEETINGS[input.cadence]
            wf_id = meeting_id(rule, input.region_code, day)
            started = await self._start(
                MeetingWorkflow.run, MeetingInput(rule, input.region_code, nxt.at, rules), wf_id
            )
        elif input.cadence == WEEKLY_REPORTS:
            tally = await self._next(cadences.WR_TALLY, nxt.at, rules)
            wf_id = weekly_report_id(input.region_code, day)
            started = await self._start(
                WeeklyReportWorkflow.run,
                WeeklyReportInput(input.region_code, day, nxt.at, tally.at, rules),
                wf_id,
            )
        elif input.cadence == cadences.CS2:
            # One survey per hospital under maintenance; the occurrence names them all.
            wf_id = survey_id("*", day)
            started = False
            for project in await lookup(
                StaffActivities.projects_under_maintenance, ProjectsInput()
            ):
                survey = SurveyInput(
                    project.code, project.hospital, project.region_code, nxt.at, rules
                )
                started |= await self._start(
                    SatisfactionSurveyWorkflow.run, survey, survey_id(project.code, day)
                )
        elif input.cadence == cadences.PAY2:
            month = month_before(day)
            wf_id = settlement_id(month)
            started = await self._start(
                MonthlySettlementWorkflow.run, SettlementInput(month, nxt.at, rules), wf_id
            )
        else:
            kind = DIGESTS[input.cadence]
            wf_id = digest_id(kind, day)
            started = await self._start(
                RequirementDigestWorkflow.run, DigestInput(kind, nxt.at, rules), wf_id
            )
        workflow.set_current_details(
            f"{input.cadence} on {nxt.at}: {wf_id} {'started' if started else 'already planned'}."
        )
        return PlanResult(occurrence=nxt.at, workflow_id=wf_id, started=started)

    async def _next(self, cadence: str, after: str, rule_version: str) -> OccurrenceResult:
        return await lookup(
            CalendarActivities.next_occurrence,
            NextOccurrenceInput(cadence=cadence, after=after, rule_version=rule_version),
        )

    async def _start(self, run: object, arg: object, wf_id: str) -> bool:
        try:
            await workflow.start_child_workflow(
                run,  # type: ignore[arg-type]
                arg,
                id=wf_id,
                # One workflow per occurrence, even after it has finished.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                # The occurrence outlives the planner that started it.
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            return False
        return True
