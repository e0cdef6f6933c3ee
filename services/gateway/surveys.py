"""Satisfaction surveys through the gateway (CS-2): the assistant records a survey's score and
comments, the region's customer service manager a dissatisfied one's follow-up; a region's
month is reported to the department managers, the assistant and the region's managers."""

from __future__ import annotations

from collections.abc import Awaitable

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.workflow_errors import workflow_call
from services.runtime.dates import parse_date, parse_month
from services.runtime.errors import PermissionDenied
from services.runtime.validation import require_id
from workflows import search_attributes
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

    async def _answer(
        self, handle: WorkflowHandle[SatisfactionSurveyWorkflow, SurveyStatus],
        call: Awaitable[SurveyStatus],
    ) -> G.Survey:  # fmt: skip
        status = await workflow_call(
            call, what=f"survey {handle.id}", give_up_after=self._timeout, handle=handle
        )
        return message(status)

    async def record_result(self, request: G.RecordSurveyResultRequest, caller: Caller) -> G.Survey:
        handle = self._handle(request.project_code, request.day)
        result = ResultInput(caller.id, request.score, request.comments)
        return await self._answer(
            handle,
            handle.execute_update(
                SatisfactionSurveyWorkflow.record_result, result, rpc_timeout=self._timeout
            ),
        )

    async def record_follow_up(
        self, request: G.RecordSurveyFollowUpRequest, caller: Caller
    ) -> G.Survey:
        handle = self._handle(request.project_code, request.day)
        follow_up = FollowUpInput(caller.id, request.action)
        return await self._answer(
            handle,
            handle.execute_update(
                SatisfactionSurveyWorkflow.record_follow_up, follow_up, rpc_timeout=self._timeout
            ),
        )

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
        # The region was found in the directory and the month parsed: both plain, safe to quote.
        query = (
            f"{search_attributes.PROCESS.name} = '{PROCESS}' AND "
            f"{search_attributes.REGION.name} = '{region}'"
        )
        surveys: list[G.Survey] = []

        async def collect() -> None:
            async for execution in self._client.list_workflows(query, page_size=200):
                if f"-{month}-" not in execution.id:
                    continue  # another month's survey
                handle = self._client.get_workflow_handle_for(
                    SatisfactionSurveyWorkflow.run, execution.id
                )
                surveys.append(message(await handle.query(SatisfactionSurveyWorkflow.status)))
                if len(surveys) >= MAX_LISTED:
                    return

        await workflow_call(collect(), what=f"{region}'s surveys", give_up_after=self._timeout * 3)
        surveys.sort(key=lambda s: (s.day, s.project_code))
        scores = [s.score for s in surveys if s.score]
        return G.ListSurveysResponse(
            surveys=surveys,
            dissatisfied=sum(1 for s in surveys if s.stage in ("follow_up", "followed_up")),
            average_score=round(sum(scores) / len(scores), 2) if scores else 0.0,
        )
