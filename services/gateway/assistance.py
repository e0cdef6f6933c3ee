"""Gateway handling of XA-1 cross-department assistance requests."""

from __future__ import annotations

from collections.abc import Awaitable

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.case_messages import case_fields
from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_errors import workflow_call
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from services.runtime.errors import FailedPrecondition
from workflows import regulation
from workflows.assistance import (
    AcceptInput,
    AssistanceInput,
    AssistanceStatus,
    AssistanceWorkflow,
    CloseInput,
    HandOffInput,
    may_read,
    validate,
    validate_close,
    validate_hand_off,
    workflow_id,
)
from workflows.regulation import texts


def _same_request(input: AssistanceInput) -> tuple[str, ...]:
    # Not the rule version: a retry on a later day may find a newer rule set in force.
    return (
        input.requester_id,
        input.region_code,
        input.target_department,
        input.subject,
        input.description,
    )


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
            gateway_pb2.AssistanceEvent(at=e.at, actor_id=e.actor_id, stage=e.kind, note=e.note)
            for e in status.history
        ],
        rule_version=status.rule_version,
        **case_fields(status),
    )


class AssistanceGateway(ProcessGateway):
    """Start, move on and read XA-1 requests."""

    async def start(
        self, request: gateway_pb2.StartAssistanceRequest, caller: Caller
    ) -> gateway_pb2.WorkflowRef:
        reference = business_reference(request.reference)
        requester = caller.require_self(request.requester_id, "cross-department assistance request")
        try:
            rules = regulation.in_force(today())
        except regulation.NoRuleSetInForce as err:
            raise FailedPrecondition(f"{err}: XA-1 is not in force yet") from None
        input = AssistanceInput(
            reference=reference,
            requester_id=requester,
            region_code=request.region_code,
            target_department=request.target_department.strip(),
            subject=request.subject.strip(),
            description=request.description.strip(),
            rule_version=rules.version,
        )
        validate(input, rules)
        input.region_code = region = await self._region(request.region_code, caller)
        target, subject = input.target_department, input.subject
        wf_id = workflow_id(reference)
        started = await start_once(
            self._client,
            AssistanceWorkflow.run,
            input,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"XA-1 {reference}: {subject}",
            details=(
                f"Cross-department assistance for {target}, requested by {caller.name} "
                f"({requester}) in region {region}."
            ),
            request_key=_same_request,
            conflict=(
                f"reference {reference} is already used for a different request; "
                "use a new reference for a new request"
            ),
            give_up_after=self._timeout,
        )
        return gateway_pb2.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    def _handle(self, reference: str) -> WorkflowHandle[AssistanceWorkflow, AssistanceStatus]:
        return self._client.get_workflow_handle_for(AssistanceWorkflow.run, workflow_id(reference))

    async def _answer(
        self, reference: str, call: Awaitable[AssistanceStatus]
    ) -> gateway_pb2.Assistance:
        status = await workflow_call(
            call,
            what=f"assistance request {reference}",
            give_up_after=self._timeout,
            handle=self._handle(reference),
        )
        return status_message(status, workflow_id=workflow_id(reference))

    async def accept(
        self, request: gateway_pb2.AcceptAssistanceRequest, caller: Caller
    ) -> gateway_pb2.Assistance:
        reference = business_reference(request.reference)
        note = texts.bounded(request.note, "note")
        return await self._answer(
            reference,
            self._handle(reference).execute_update(
                AssistanceWorkflow.accept,
                AcceptInput(actor_id=caller.id, note=note),
                rpc_timeout=self._timeout,
            ),
        )

    async def hand_off(
        self, request: gateway_pb2.HandOffAssistanceRequest, caller: Caller
    ) -> gateway_pb2.Assistance:
        reference = business_reference(request.reference)
        hand_off = HandOffInput(
            actor_id=caller.id, handed_to=request.handed_to.strip(), note=request.note.strip()
        )
        validate_hand_off(hand_off)
        return await self._answer(
            reference,
            self._handle(reference).execute_update(
                AssistanceWorkflow.hand_off,
                hand_off,
                rpc_timeout=self._timeout,
            ),
        )

    async def close(
        self, request: gateway_pb2.CloseAssistanceRequest, caller: Caller
    ) -> gateway_pb2.Assistance:
        reference = business_reference(request.reference)
        close = CloseInput(actor_id=caller.id, resolution=request.resolution.strip())
        validate_close(close)
        return await self._answer(
            reference,
            self._handle(reference).execute_update(
                AssistanceWorkflow.close,
                close,
                rpc_timeout=self._timeout,
            ),
        )

    async def get(
        self, request: gateway_pb2.GetAssistanceRequest, caller: Caller
    ) -> gateway_pb2.Assistance:
        reference = business_reference(request.reference)
        status = await self._read(
            self._handle(reference),
            AssistanceWorkflow.status,
            caller,
            what=f"assistance request {reference}",
            may_read=may_read,
            readers="a request is read by its requester, its coordinator and those it is copied "
            "to (XA-1)",
        )
        return status_message(status, workflow_id=workflow_id(reference))
