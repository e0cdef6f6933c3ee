"""Pre-approvals through the gateway (RB-5, PAY-4, PAY-7): each person asks for their own; a
department manager decides; the asker, the managers and the clerk read it."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_errors import workflow_call
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from workflows import regulation
from workflows.pre_approval import (
    DecisionInput,
    PreApprovalRequest,
    PreApprovalStatus,
    PreApprovalWorkflow,
    may_read,
    validate,
    workflow_id,
)

G = gateway_pb2


def _same_request(input: PreApprovalRequest) -> tuple[object, ...]:
    return (input.person_id, input.category, input.amount_fen)


def message(status: PreApprovalStatus) -> G.PreApproval:
    return G.PreApproval(
        workflow_id=workflow_id(status.reference),
        reference=status.reference,
        person_id=status.person_id,
        category=status.category,
        amount_fen=status.amount_fen,
        approved_fen=status.approved_fen,
        stage=status.stage,
        decided_by=status.decided_by,
        note=status.note,
        notices=list(status.notices),
    )


class PreApprovalGateway(ProcessGateway):
    async def request(self, request: G.RequestPreApprovalRequest, caller: Caller) -> G.WorkflowRef:
        reference = business_reference(request.reference)
        asked = PreApprovalRequest(
            reference=reference,
            person_id=caller.id,
            region_code=caller.region_code or await self._head_office(),
            category=request.category,
            amount_fen=request.amount_fen,
            why=request.why,
            customer=request.customer,
            who=request.who,
            rule_version=regulation.in_force(today()).version,
        )
        validate(asked)
        wf_id = workflow_id(reference)
        started = await start_once(
            self._client,
            PreApprovalWorkflow.run,
            asked,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"Pre-approval {reference}: {request.category} for {caller.name}",
            details=asked.why,
            request_key=_same_request,
            conflict=f"reference {reference} is already used for another request",
            give_up_after=self._timeout,
        )
        return G.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    def _handle(self, reference: str) -> WorkflowHandle[PreApprovalWorkflow, PreApprovalStatus]:
        return self._client.get_workflow_handle_for(PreApprovalWorkflow.run, workflow_id(reference))

    async def decide(self, request: G.DecidePreApprovalRequest, caller: Caller) -> G.PreApproval:
        reference = business_reference(request.reference)
        handle = self._handle(reference)
        decision = DecisionInput(caller.id, request.approve, request.approved_fen, request.note)
        status = await workflow_call(
            handle.execute_update(PreApprovalWorkflow.decide, decision, rpc_timeout=self._timeout),
            what=f"pre-approval {reference}",
            give_up_after=self._timeout,
            handle=handle,
        )
        return message(status)

    async def get(self, request: G.GetPreApprovalRequest, caller: Caller) -> G.PreApproval:
        reference = business_reference(request.reference)
        status = await self._read(
            self._handle(reference),
            PreApprovalWorkflow.status,
            caller,
            what=f"pre-approval {reference}",
            may_read=may_read,
            readers="a pre-approval is read by the person who asked, the department managers and "
            "the clerk",
        )
        return message(status)
