"""CS-2 through the gateway on the real dev server: the assistant records a survey's score, the
region's customer service manager the follow-up, and a region's month is reported with its
average and its dissatisfied count to those it is for."""

from __future__ import annotations

import asyncio
import contextlib

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from workflows.regulation import shown
from workflows.satisfaction import SatisfactionSurveyWorkflow, SurveyInput, workflow_id


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


async def test_a_survey_recorded_followed_up_and_reported(
    dev_server_env: WorkflowEnvironment, dev_gateway: GatewayServiceStub, task_queue: str
) -> None:
    at = shown(await dev_server_env.get_current_time())
    day = at[:10]
    handle = await dev_server_env.client.start_workflow(
        SatisfactionSurveyWorkflow.run,
        SurveyInput("sh-renji", "上海仁濟醫院", "east", at, "2024-v1"),
        id=workflow_id("sh-renji", day),
        task_queue=task_queue,
    )
    try:
        record = G.RecordSurveyResultRequest(
            project_code="sh-renji", day=day, score=1, comments="night upgrades not announced"
        )
        for _ in range(200):
            try:
                survey = await dev_gateway.RecordSurveyResult(
                    record, metadata=as_user("shi.wenjun")
                )
                break
            except grpc.aio.AioRpcError as refused:  # still asking the assistant
                assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
                await asyncio.sleep(0.05)
        assert survey.score == 1
        follow = G.RecordSurveyFollowUpRequest(
            project_code="sh-renji", day=day, action="night upgrades announced a week ahead"
        )
        for _ in range(200):
            try:
                survey = await dev_gateway.RecordSurveyFollowUp(follow, metadata=as_user("li.na"))
                break
            except grpc.aio.AioRpcError as refused:  # the follow-up is being opened
                assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
                await asyncio.sleep(0.05)
        assert survey.stage == "followed_up"
        report = G.ListSurveysRequest(region_code="east", month=day[:7])
        for _ in range(100):
            listed = await dev_gateway.ListSurveys(report, metadata=as_user("huang.aiping"))
            if listed.surveys:
                break
            await asyncio.sleep(0.1)
        assert [s.project_code for s in listed.surveys] == ["sh-renji"]
        assert (listed.dissatisfied, listed.average_score) == (1, 1.0)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await dev_gateway.ListSurveys(report, metadata=as_user("zhang.wei"))  # north's TSM
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        with contextlib.suppress(RPCError):  # finished already, when all went well
            await handle.terminate("test over")
