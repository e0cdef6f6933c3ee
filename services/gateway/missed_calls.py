"""Missed on-call calls through the gateway (OC-1): recorded by whoever called, verified by the
person's manager, read by those it concerns (workflows/on_call_miss.py::may_read)."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_errors import workflow_call
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from services.runtime.validation import require_id
from workflows import regulation
from workflows.on_call_miss import (
    MissInput,
    MissStatus,
    OnCallMissWorkflow,
    VerifyInput,
    may_read,
    validate,
    workflow_id,
)

G = gateway_pb2


def _same_miss(input: MissInput) -> tuple[str, str, str]:
    return (input.person_id, input.called_by, input.called_at)


def message(status: MissStatus) -> G.MissedCall:
    return G.MissedCall(
        workflow_id=workflow_id(status.reference),
        reference=status.reference,
        person_id=status.person_id,
        called_by=status.called_by,
        month=status.month,
        stage=status.stage,
        verified_by=status.verified_by,
        forfeit_fen=status.forfeit_fen,
        fine_fen=status.fine_fen,
        note=status.note,
    )


class MissedCallGateway(ProcessGateway):
    async def record(self, request: G.RecordMissedCallRequest, caller: Caller) -> G.WorkflowRef:
        reference = business_reference(request.reference)
        require_id(request.person_id, "person_id")
        missed = MissInput(
            reference,
            request.person_id,
            caller.id,
            request.called_at,
            request.what,
            regulation.in_force(today()).version,
        )
        validate(missed)
        wf_id = workflow_id(reference)
        started = await start_once(
            self._client,
            OnCallMissWorkflow.run,
            missed,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"OC-1 missed call: {request.person_id} ({reference})",
            details=missed.what,
            request_key=_same_miss,
            conflict=f"reference {reference} is already used for another missed call",
            give_up_after=self._timeout,
        )
        return G.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    def _handle(self, reference: str) -> WorkflowHandle[OnCallMissWorkflow, MissStatus]:
        return self._client.get_workflow_handle_for(OnCallMissWorkflow.run, workflow_id(reference))

    async def verify(self, request: G.VerifyMissedCallRequest, caller: Caller) -> G.MissedCall:
        reference = business_reference(request.reference)
        handle = self._handle(reference)
        verdict = VerifyInput(caller.id, request.verified, request.fine_fen, request.note)
        status = await workflow_call(
            handle.execute_update(OnCallMissWorkflow.verify, verdict, rpc_timeout=self._timeout),
            what=f"missed call {reference}",
            give_up_after=self._timeout,
            handle=handle,
        )
        return message(status)

    async def get(self, request: G.GetMissedCallRequest, caller: Caller) -> G.MissedCall:
        reference = business_reference(request.reference)
        status = await self._read(
            self._handle(reference),
            OnCallMissWorkflow.status,
            caller,
            what=f"missed call {reference}",
            may_read=may_read,
            readers="it is read by the person, the caller, the person's manager, the clerk and "
            "the department managers (OC-1)",
        )
        return message(status)
