"""Salary changes through the gateway (PAY-1): a department manager proposes, the executive team
decides, those it concerns read it (workflows/salary_change.py::may_read)."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from services.runtime.errors import PermissionDenied
from services.runtime.validation import require_id
from workflows import regulation
from workflows.decision import DecisionInput
from workflows.salary_change import (
    PROPOSERS,
    SalaryChangeInput,
    SalaryChangeStatus,
    SalaryChangeWorkflow,
    may_read,
    validate,
    workflow_id,
)

G = gateway_pb2


def _same_change(input: SalaryChangeInput) -> tuple[object, ...]:
    return (input.person_id, input.base_fen, input.effective_from)


def message(status: SalaryChangeStatus) -> G.SalaryChange:
    return G.SalaryChange(
        workflow_id=workflow_id(status.reference),
        reference=status.reference,
        person_id=status.person_id,
        proposed_by=status.proposed_by,
        base_fen=status.base_fen,
        effective_from=status.effective_from,
        stage=status.stage,
        decided_by=status.decided_by,
        note=status.note,
    )


class SalaryChangeGateway(ProcessGateway):
    async def propose(self, request: G.ProposeSalaryChangeRequest, caller: Caller) -> G.WorkflowRef:
        if caller.role != PROPOSERS:
            raise PermissionDenied(
                f"{caller.id} may not propose a salary change: a department manager does (PAY-1)"
            )
        reference = business_reference(request.reference)
        require_id(request.person_id, "person_id")
        change = SalaryChangeInput(
            reference,
            request.person_id,
            caller.id,
            request.base_fen,
            request.effective_from,
            request.why,
            regulation.in_force(today()).version,
        )
        validate(change)
        wf_id = workflow_id(reference)
        started = await start_once(
            self._client,
            SalaryChangeWorkflow.run,
            change,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"PAY-1 salary change {reference}",
            details=change.why,
            request_key=_same_change,
            conflict=f"reference {reference} is already used for another salary change",
            give_up_after=self._timeout,
        )
        return G.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    def _handle(self, reference: str) -> WorkflowHandle[SalaryChangeWorkflow, SalaryChangeStatus]:
        return self._client.get_workflow_handle_for(
            SalaryChangeWorkflow.run, workflow_id(reference)
        )

    async def decide(self, request: G.DecideSalaryChangeRequest, caller: Caller) -> G.SalaryChange:
        reference = business_reference(request.reference)
        handle = self._handle(reference)
        decision = DecisionInput(caller.id, request.approve, request.note)
        status = await self._updated(
            handle, SalaryChangeWorkflow.decide, decision, what=f"salary change {reference}"
        )
        return message(status)

    async def get(self, request: G.GetSalaryChangeRequest, caller: Caller) -> G.SalaryChange:
        reference = business_reference(request.reference)
        status = await self._read(
            self._handle(reference),
            SalaryChangeWorkflow.status,
            caller,
            what=f"salary change {reference}",
            may_read=may_read,
            readers="it is read by the person, the department managers and the executive team "
            "(PAY-1)",
        )
        return message(status)
