"""Customer complaints through the gateway (CS-1): anyone who hears one registers it; the
region's customer service manager or a department manager assigns it; the assignee closes it
(workflows/complaint.py)."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from workflows import regulation
from workflows.complaint import (
    AssignInput,
    CloseInput,
    ComplaintInput,
    ComplaintStatus,
    ComplaintWorkflow,
    may_read,
    validate,
    workflow_id,
)

G = gateway_pb2


def _same(input: ComplaintInput) -> tuple[object, ...]:
    return (input.hospital, input.region_code, input.severity, input.what_happened)


def message(status: ComplaintStatus) -> G.Complaint:
    return G.Complaint(
        workflow_id=workflow_id(status.reference),
        reference=status.reference,
        hospital=status.hospital,
        region_code=status.region_code,
        severity=status.severity,
        registered_by=status.registered_by,
        stage=status.stage,
        assignee_id=status.assignee_id,
        close_by=status.close_by,
        closed_by=status.closed_by,
        resolution=status.resolution,
        root_cause=status.root_cause,
        action=status.action,
        sla_state=status.sla_state,
    )


class ComplaintGateway(ProcessGateway):
    async def register(self, request: G.RegisterComplaintRequest, caller: Caller) -> G.WorkflowRef:
        reference = business_reference(request.reference)
        region = await self._region(request.region_code, caller)
        rules = regulation.in_force(today())
        complaint = ComplaintInput(reference, request.hospital, region, request.severity,
                                   request.what_happened, caller.id, rules.version)  # fmt: skip
        validate(complaint, rules)
        wf_id = workflow_id(reference)
        started = await start_once(
            self._client,
            ComplaintWorkflow.run,
            complaint,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"CS-1 {reference}: {request.severity} complaint from {request.hospital}",
            details=request.what_happened,
            request_key=_same,
            conflict=f"reference {reference} is already used for another complaint",
            give_up_after=self._timeout,
        )
        return G.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    def _handle(self, reference: str) -> WorkflowHandle[ComplaintWorkflow, ComplaintStatus]:
        return self._client.get_workflow_handle_for(ComplaintWorkflow.run, workflow_id(reference))

    async def assign(self, request: G.AssignComplaintRequest, caller: Caller) -> G.Complaint:
        reference = business_reference(request.reference)
        assignment = AssignInput(caller.id, request.assignee_id, request.note)
        return message(
            await self._updated(
                self._handle(reference), ComplaintWorkflow.assign, assignment,
                what=f"complaint {reference}",
            )
        )  # fmt: skip

    async def close(self, request: G.CloseComplaintRequest, caller: Caller) -> G.Complaint:
        reference = business_reference(request.reference)
        closing = CloseInput(caller.id, request.resolution, request.root_cause, request.action)
        return message(
            await self._updated(
                self._handle(reference), ComplaintWorkflow.close, closing,
                what=f"complaint {reference}",
            )
        )  # fmt: skip

    async def get(self, request: G.GetComplaintRequest, caller: Caller) -> G.Complaint:
        reference = business_reference(request.reference)
        status = await self._read(
            self._handle(reference),
            ComplaintWorkflow.status,
            caller,
            what=f"complaint {reference}",
            may_read=may_read,
            readers="it is read by who registered it, its assignee, the region's customer "
            "service manager, the department managers and the assistant (CS-1)",
        )
        return message(status)
