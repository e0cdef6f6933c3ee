"""Gateway handling of XA-1 cross-department assistance requests."""

from __future__ import annotations

import re

import grpc
from csd.gateway.v1 import gateway_pb2
from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.gateway.identity import Caller
from services.gateway.workflow_errors import workflow_call
from services.runtime.dates import today
from services.runtime.errors import AlreadyExists, InvalidArgument, NotFound, Unavailable
from workflows import rulebook, task_queues
from workflows.assistance import (
    AcceptInput,
    AssistanceInput,
    AssistanceStatus,
    AssistanceWorkflow,
    CloseInput,
    HandOffInput,
    workflow_id,
)

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
MAX_TEXT = 10_000


def _reference(value: str) -> str:
    if not _REFERENCE.match(value):
        raise InvalidArgument(
            "reference must be 1-80 letters, digits, '.', '_' or '-' (your business key, "
            "e.g. XA-2026-0042); a retry with the same reference returns the same request"
        )
    return value


def _text(value: str, field: str, *, limit: int = MAX_TEXT) -> str:
    value = value.strip()
    if not value:
        raise InvalidArgument(f"{field} is required")
    if len(value) > limit:
        raise InvalidArgument(f"{field} is longer than {limit} characters")
    return value


def status_message(status: AssistanceStatus, *, workflow_id: str) -> gateway_pb2.Assistance:
    return gateway_pb2.Assistance(
        reference=status.reference,
        workflow_id=workflow_id,
        stage=status.stage,
        requester_id=status.requester_id,
        region_code=status.region_code,
        target_department=status.target_department,
        subject=status.subject,
        coordinator_id=status.coordinator_id,
        cc_ids=status.cc_ids,
        handed_to=status.handed_to,
        resolution=status.resolution,
        history=[
            gateway_pb2.AssistanceEvent(at=e.at, actor_id=e.actor_id, stage=e.stage, note=e.note)
            for e in status.history
        ],
        rule_version=status.rule_version,
    )


class AssistanceGateway:
    """Start, move on and read XA-1 requests."""

    def __init__(
        self,
        client: Client,
        staff: staff_pb2_grpc.StaffServiceStub,
        *,
        task_queue: str = task_queues.MAIN,
    ) -> None:
        self._client = client
        self._staff = staff
        self._task_queue = task_queue

    async def _require_region(self, code: str) -> None:
        try:
            await self._staff.GetRegion(staff_pb2.GetRegionRequest(code=code), timeout=3.0)
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(f"region {code!r} does not exist") from None
            raise Unavailable(
                f"the staff service cannot confirm the region: {err.details()}"
            ) from None

    async def start(
        self, request: gateway_pb2.StartAssistanceRequest, caller: Caller
    ) -> gateway_pb2.WorkflowRef:
        reference = _reference(request.reference)
        requester = caller.require_self(request.requester_id, "cross-department assistance request")
        region = request.region_code or caller.region_code
        if not region:
            raise InvalidArgument("region_code is required: you belong to no region")
        target = _text(request.target_department, "target_department", limit=80)
        subject = _text(request.subject, "subject", limit=200)
        description = _text(request.description, "description")
        await self._require_region(region)
        wf_id = workflow_id(reference)
        try:
            handle = await self._client.start_workflow(
                AssistanceWorkflow.run,
                AssistanceInput(
                    reference=reference,
                    requester_id=requester,
                    region_code=region,
                    target_department=target,
                    subject=subject,
                    description=description,
                    rule_version=rulebook.in_force(today()).version,
                ),
                id=wf_id,
                task_queue=self._task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"XA-1 {reference}: {subject}",
                static_details=(
                    f"Cross-department assistance for {target}, requested by {caller.name} "
                    f"({requester}) in region {region}."
                ),
            )
        except WorkflowAlreadyStartedError:
            raise AlreadyExists(
                f"assistance request {reference} already exists and is closed; "
                "use a new reference for a new request"
            ) from None
        return gateway_pb2.WorkflowRef(workflow_id=wf_id, run_id=handle.result_run_id or "")

    def _handle(self, reference: str) -> WorkflowHandle[AssistanceWorkflow, AssistanceStatus]:
        return self._client.get_workflow_handle_for(AssistanceWorkflow.run, workflow_id(reference))

    async def accept(
        self, request: gateway_pb2.AcceptAssistanceRequest, caller: Caller
    ) -> gateway_pb2.Assistance:
        reference = _reference(request.reference)
        status = await workflow_call(
            self._handle(reference).execute_update(
                AssistanceWorkflow.accept,
                AcceptInput(actor_id=caller.id, note=request.note.strip()),
            ),
            what=f"assistance request {reference}",
        )
        return status_message(status, workflow_id=workflow_id(reference))

    async def hand_off(
        self, request: gateway_pb2.HandOffAssistanceRequest, caller: Caller
    ) -> gateway_pb2.Assistance:
        reference = _reference(request.reference)
        handed_to = _text(request.handed_to, "handed_to", limit=200)
        status = await workflow_call(
            self._handle(reference).execute_update(
                AssistanceWorkflow.hand_off,
                HandOffInput(actor_id=caller.id, handed_to=handed_to, note=request.note.strip()),
            ),
            what=f"assistance request {reference}",
        )
        return status_message(status, workflow_id=workflow_id(reference))

    async def close(
        self, request: gateway_pb2.CloseAssistanceRequest, caller: Caller
    ) -> gateway_pb2.Assistance:
        reference = _reference(request.reference)
        resolution = _text(request.resolution, "resolution")
        status = await workflow_call(
            self._handle(reference).execute_update(
                AssistanceWorkflow.close, CloseInput(actor_id=caller.id, resolution=resolution)
            ),
            what=f"assistance request {reference}",
        )
        return status_message(status, workflow_id=workflow_id(reference))

    async def get(
        self, request: gateway_pb2.GetAssistanceRequest, caller: Caller
    ) -> gateway_pb2.Assistance:
        reference = _reference(request.reference)
        status = await workflow_call(
            self._handle(reference).query(AssistanceWorkflow.status),
            what=f"assistance request {reference}",
        )
        return status_message(status, workflow_id=workflow_id(reference))
