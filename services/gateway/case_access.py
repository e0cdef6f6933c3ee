"""Who may see a case in clear through the codec endpoint: the same read rules as the gateway's
Get RPCs (each process's `may_read`, beside its status), applied to a workflow id.

The strictest rule of a process applies, since a payload may hold anything of the case: for
leave that is who may read the reason and type (LV-5). Workflows without a read rule of their
own (fines, digests, the calendar's planners) and payloads of no case are for the department
managers only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from services.gateway.identity import Authenticator, Caller
from services.gateway.workflow_errors import TEMPORAL_TIMEOUT
from services.runtime.errors import Unavailable
from workflows import (
    assistance,
    claim,
    complaint,
    dismissal,
    handover,
    leave,
    major_problem,
    meeting,
    missing_reports,
    on_call_miss,
    opportunity,
    pre_approval,
    rate_adjustment,
    requirement,
    salary_change,
    sales_log,
    satisfaction,
    service_plan,
    spot_check,
    weekly_report,
)
from workflows.regulation.readers import Reader

DEPARTMENT_WIDE = "department_manager"


@dataclass(frozen=True)
class ReadRule:
    query: Callable[[Any], Any]
    may_read: Callable[[Any, Reader], bool]


READ_RULES: dict[str, ReadRule] = {
    "AssistanceWorkflow": ReadRule(assistance.AssistanceWorkflow.status, assistance.may_read),
    "ClaimWorkflow": ReadRule(claim.ClaimWorkflow.status, claim.may_read),
    "ComplaintWorkflow": ReadRule(complaint.ComplaintWorkflow.status, complaint.may_read),
    "DismissalWorkflow": ReadRule(dismissal.DismissalWorkflow.status, dismissal.may_read),
    "HandoverWorkflow": ReadRule(handover.HandoverWorkflow.status, handover.may_read),
    "LeaveWorkflow": ReadRule(leave.LeaveWorkflow.status, leave.may_read_reason),
    "MajorProblemWorkflow": ReadRule(
        major_problem.MajorProblemWorkflow.status, major_problem.may_read
    ),
    "MeetingWorkflow": ReadRule(meeting.MeetingWorkflow.status, meeting.may_read),
    "MissingReportsWorkflow": ReadRule(
        missing_reports.MissingReportsWorkflow.status, missing_reports.may_read
    ),
    "OnCallMissWorkflow": ReadRule(on_call_miss.OnCallMissWorkflow.status, on_call_miss.may_read),
    "OpportunityWorkflow": ReadRule(opportunity.OpportunityWorkflow.status, opportunity.may_read),
    "PreApprovalWorkflow": ReadRule(pre_approval.PreApprovalWorkflow.status, pre_approval.may_read),
    "RateAdjustmentWorkflow": ReadRule(
        rate_adjustment.RateAdjustmentWorkflow.status, rate_adjustment.may_read
    ),
    "RequirementWorkflow": ReadRule(requirement.RequirementWorkflow.status, requirement.may_read),
    "SalaryChangeWorkflow": ReadRule(
        salary_change.SalaryChangeWorkflow.status, salary_change.may_read
    ),
    "SalesLogWorkflow": ReadRule(sales_log.SalesLogWorkflow.status, sales_log.may_read),
    "SatisfactionSurveyWorkflow": ReadRule(
        satisfaction.SatisfactionSurveyWorkflow.status, satisfaction.may_read
    ),
    "ServicePlanWorkflow": ReadRule(service_plan.ServicePlanWorkflow.status, service_plan.may_read),
    "SpotCheckWorkflow": ReadRule(spot_check.SpotCheckWorkflow.status, spot_check.may_read),
    "WeeklyReportWorkflow": ReadRule(
        weekly_report.WeeklyReportWorkflow.status, weekly_report.may_read
    ),
}


class GatewayCaseAccess:
    """The codec endpoint's judge: the person the request's bearer token names, and each case's
    read rule against its current status (queried from its workflow)."""

    def __init__(
        self,
        client: Client,
        authenticator: Authenticator,
        *,
        temporal_timeout: timedelta = TEMPORAL_TIMEOUT,
    ) -> None:
        self._client = client
        self._authenticator = authenticator
        self._timeout = temporal_timeout

    async def readable(self, headers: Mapping[str, str], cases: set[str]) -> set[str]:
        caller = await self._authenticator.authenticate_metadata(headers)
        return {case for case in cases if await self._may_read(case, caller)}

    async def _may_read(self, case: str, caller: Caller) -> bool:
        if caller.role == DEPARTMENT_WIDE:
            return True
        if not case:
            return False
        handle = self._client.get_workflow_handle(case)
        try:
            description = await handle.describe(rpc_timeout=self._timeout)
            rule = READ_RULES.get(description.workflow_type)
            if rule is None:
                return False
            status = await handle.query(rule.query, rpc_timeout=self._timeout)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise Unavailable("Temporal cannot say whose case this is; retry shortly") from None
        except (TimeoutError, WorkflowQueryFailedError):
            raise Unavailable("the case's worker does not answer; retry shortly") from None
        return rule.may_read(status, caller)
