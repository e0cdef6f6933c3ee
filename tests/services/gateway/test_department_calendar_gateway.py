"""Meeting minutes and weekly reports through the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.testing import WorkflowEnvironment

from tests.services.gateway.conftest import gateway_for
from tests.stack import Stack
from tests.workflows.test_weekly_report import week
from workflows import regulation
from workflows.meeting import MeetingInput, MeetingWorkflow, MinutesInput, validate_minutes
from workflows.meeting import workflow_id as meeting_id
from workflows.weekly_report import (
    CUSTOMER_REPORT_SECTIONS,
    SubmissionInput,
    WeeklyReportWorkflow,
    validate_submission,
)
from workflows.weekly_report import workflow_id as weekly_report_id


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


async def test_minutes_through_the_gateway(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with gateway_for(env.client, stack, task_queue) as gateway:
        starts = (await env.get_current_time()) + timedelta(hours=1)
        wf_id = meeting_id("MT-3", "", regulation.shown(starts)[:10])
        await env.client.start_workflow(
            MeetingWorkflow.run,
            MeetingInput("MT-3", "", starts.isoformat(), "2024-v1"),
            id=wf_id,
            task_queue=task_queue,
        )
        for _ in range(100):
            meeting = await gateway.GetMeeting(
                G.GetMeetingRequest(meeting_id=wf_id), metadata=as_user("shi.wenjun")
            )
            if meeting.minutes_taker_id:
                break
            await asyncio.sleep(0.05)
        assert (meeting.rule_id, meeting.minutes_taker_id, meeting.stage) == (
            "MT-3",
            "shi.wenjun",
            "invited",
        )
        # Read by those it invites or tells, not by an engineer it does not concern.
        assert (
            await gateway.GetMeeting(
                G.GetMeetingRequest(meeting_id=wf_id), metadata=as_user("wang.qiang")
            )
        ).chair_id
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await gateway.GetMeeting(
                G.GetMeetingRequest(meeting_id=wf_id), metadata=as_user("zhao.lei")
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        await env.sleep(timedelta(hours=2))
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await gateway.RecordMeetingMinutes(
                G.RecordMeetingMinutesRequest(meeting_id=wf_id, minutes="x"),
                metadata=as_user("huang.aiping"),
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        recorded = await gateway.RecordMeetingMinutes(
            G.RecordMeetingMinutesRequest(
                meeting_id=wf_id, minutes="Two complaints reviewed.", present=["wang.qiang"]
            ),
            metadata=as_user("shi.wenjun"),
        )
        assert recorded.stage == "minutes_recorded" and "li.na" in recorded.absent_ids


async def test_weekly_reports_through_the_gateway(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    input = await week(stack, env, "north")
    sunday = input.week_ending
    async with gateway_for(env.client, stack, task_queue) as gateway:
        await env.client.start_workflow(
            WeeklyReportWorkflow.run,
            input,
            id=weekly_report_id("north", sunday),
            task_queue=task_queue,
        )
        request = G.GetWeeklyReportRequest(region_code="north", week_ending=sunday)
        for _ in range(100):
            report = await gateway.GetWeeklyReport(request, metadata=as_user("zhang.wei"))
            if report.lines:
                break
            await asyncio.sleep(0.05)
        assert {(line.kind, line.person_id) for line in report.lines} == {
            ("tracking_sheet", "sun.hao"),
            ("merged_report", "zhang.wei"),
            ("customer_report", "wu.min"),
        }
        # Another region's people do not read this one's week.
        for outsider in ("zhao.lei", "wang.qiang"):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await gateway.GetWeeklyReport(request, metadata=as_user(outsider))
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        partial = {name: "ok" for name in CUSTOMER_REPORT_SECTIONS[:3]}
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await gateway.SubmitWeeklyReport(
                G.SubmitWeeklyReportRequest(
                    region_code="north",
                    week_ending=sunday,
                    kind="customer_report",
                    sections=partial,
                ),
                metadata=as_user("wu.min"),
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "overall_risk" in (err.value.details() or "") and "WR-3" in (
            err.value.details() or ""
        )
        submitted = await gateway.SubmitWeeklyReport(
            G.SubmitWeeklyReportRequest(
                region_code="north",
                week_ending=sunday,
                kind="tracking_sheet",
                file_reference="f://s.xlsx",
            ),
            metadata=as_user("sun.hao"),
        )
        assert {
            (line.person_id, line.outcome)
            for line in submitted.lines
            if line.kind == "tracking_sheet"
        } == {("sun.hao", "submitted")}
        assert (submitted.due_at, submitted.tally_at) == (input.due_at, input.tally_at)
        assert submitted.due_at.endswith("+08:00") and submitted.tally_at.endswith("+08:00")


@pytest.mark.parametrize(
    ("rpc", "message", "code"),
    [
        (
            "GetMeeting",
            G.GetMeetingRequest(meeting_id="meeting-MT-9-2026-01-01"),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            "GetMeeting",
            G.GetMeetingRequest(meeting_id="meeting-MT-3-2030-01-02"),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            "RecordMeetingMinutes",
            G.RecordMeetingMinutesRequest(meeting_id="meeting-MT-3-2030-01-02", minutes=" "),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            "GetWeeklyReport",
            G.GetWeeklyReportRequest(region_code="east", week_ending="2030-01-01"),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            "GetWeeklyReport",
            G.GetWeeklyReportRequest(region_code="east", week_ending="2030-01-06"),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            "SubmitWeeklyReport",
            G.SubmitWeeklyReportRequest(region_code="East!", week_ending="2030-01-06", kind="x"),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ],
)
async def test_bad_calendar_requests_get_clear_statuses(
    gateway: GatewayServiceStub, rpc: str, message: object, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(gateway, rpc)(message, metadata=as_user("shi.wenjun"))
    assert err.value.code() == code
    assert err.value.details()


def _refusal(check: Callable[[], None]) -> str:
    try:
        check()
    except regulation.InvalidInput as refusal:
        return refusal.message
    raise AssertionError("not refused")


@pytest.mark.parametrize(
    ("rpc", "message", "words"),
    [
        (
            "SubmitWeeklyReport",
            G.SubmitWeeklyReportRequest(
                region_code="east",
                week_ending="2030-01-06",
                kind="customer_report",
                sections={"gossip": "x"},
            ),
            _refusal(
                lambda: validate_submission(
                    SubmissionInput("shi.wenjun", "customer_report", sections={"gossip": "x"})
                )
            ),
        ),
        (
            "SubmitWeeklyReport",
            G.SubmitWeeklyReportRequest(
                region_code="east",
                week_ending="2030-01-06",
                kind="tracking_sheet",
                file_reference="f",
                text="x" * 20_001,
            ),
            _refusal(
                lambda: validate_submission(
                    SubmissionInput("shi.wenjun", "tracking_sheet", "f", text="x" * 20_001)
                )
            ),
        ),
        (
            "RecordMeetingMinutes",
            G.RecordMeetingMinutesRequest(
                meeting_id="meeting-MT-3-2030-01-02", minutes="ok", present=["zhao.lei"] * 201
            ),
            _refusal(
                lambda: validate_minutes(MinutesInput("shi.wenjun", "ok", ["zhao.lei"] * 201))
            ),
        ),
    ],
)
async def test_the_gateway_refuses_early_in_the_workflows_words(
    gateway: GatewayServiceStub, rpc: str, message: object, words: str
) -> None:
    """No such workflow exists: the refusal is the workflow module's own check, run early."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(gateway, rpc)(message, metadata=as_user("shi.wenjun"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == words
