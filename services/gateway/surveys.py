"""Satisfaction surveys through the gateway (CS-2): the assistant records a survey's score and
comments, the region's customer service manager a dissatisfied one's follow-up; a region's
month is reported to the department managers, the assistant and the region's managers."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.runtime.dates import parse_date, parse_month
from services.runtime.errors import PermissionDenied
from services.runtime.validation import require_id
from workflows.satisfaction import (
    PROCESS,
    FollowUpInput,
    ResultInput,
    SatisfactionSurveyWorkflow,
    SurveyStatus,
    workflow_id,
)

G = gateway_pb2
REPORTED_TO = frozenset({"department_manager", "department_assistant"})
REGION_READERS = frozenset({"customer_service_manager", "technical_service_manager"})
MAX_LISTED = 1000


def message(status: SurveyStatus) -> G.Survey:
    return G.Survey(
        workflow_id=workflow_id(status.project_code, status.at[:10]),
        project_code=status.project_code,
        hospital=status.hospital,
        region_code=status.region_code,
        day=status.at[:10],
        stage=status.stage,
        score=status.score,
        comments=status.comments,
        action=status.action,
        sla_state=status.sla_state,
    )


class SurveyGateway(ProcessGateway):
    def _handle(
        self, project_code: str, day: str
    ) -> WorkflowHandle[SatisfactionSurveyWorkflow, SurveyStatus]:
        require_id(project_code, "project_code")
        parse_date(day, "day")
        return self._client.get_workflow_handle_for(
            SatisfactionSurveyWorkflow.run, workflow_id(project_code, day)
        )

    async def record_result(self, request: G.RecordSurveyResultRequest, caller: Caller) -> G.Survey:
        handle = self._handle(request.project_code, request.day)
        result = ResultInput(caller.id, request.score, request.comments)
        return message(
            await self._updated(
                handle, SatisfactionSurveyWorkflow.record_result, result,
                what=f"survey {handle.id}",
            )
        )  # fmt: skip

    async def record_follow_up(
        self, request: G.RecordSurveyFollowUpRequest, caller: Caller
    ) -> G.Survey:
        handle = self._handle(request.project_code, request.day)
        follow_up = FollowUpInput(caller.id, request.action)
        return message(
            await self._updated(
                handle, SatisfactionSurveyWorkflow.record_follow_up, follow_up,
                what=f"survey {handle.id}",
            )
        )  # fmt: skip

    async def list(self, request: G.ListSurveysRequest, caller: Caller) -> G.ListSurveysResponse:
        region = await self._region(request.region_code, caller)
        month = parse_month(request.month)
        if caller.role not in REPORTED_TO and not (
            caller.role in REGION_READERS and caller.region_code == region
        ):
            raise PermissionDenied(
                f"{caller.id} may not read {region}'s surveys: the department managers and the "
                "assistant read every region's, a region's managers their own (CS-2)"
            )
        found = await self._region_cases(
            PROCESS,
            region,
            SatisfactionSurveyWorkflow.status,
            what=f"{region}'s surveys",
            named=lambda workflow_id: f"-{month}-" in workflow_id,  # the month's surveys
            limit=MAX_LISTED,
        )
        surveys = [message(s) for s in found]
        surveys.sort(key=lambda s: (s.day, s.project_code))
        scores = [s.score for s in surveys if s.score]
        return G.ListSurveysResponse(
            surveys=surveys,
            dissatisfied=sum(1 for s in surveys if s.stage in ("follow_up", "followed_up")),
            average_score=round(sum(scores) / len(scores), 2) if scores else 0.0,
        )
