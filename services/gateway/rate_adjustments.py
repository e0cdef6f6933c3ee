"""Disputed travel allowance rates through the gateway (PAY-3): a department manager asks, the
vice-president in charge decides, those it concerns read it
(workflows/rate_adjustment.py::may_read). A settled month is refused before anything starts."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.identity import Caller
from services.gateway.process import FinanceProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_starts import start_once
from services.runtime.dates import parse_month, today
from services.runtime.errors import PermissionDenied
from services.runtime.validation import require_id
from workflows import regulation
from workflows.decision import DecisionInput
from workflows.rate_adjustment import (
    REQUESTERS,
    RateAdjustmentRequest,
    RateAdjustmentStatus,
    RateAdjustmentWorkflow,
    may_read,
    validate,
    workflow_id,
)

G = gateway_pb2


def _same_request(input: RateAdjustmentRequest) -> tuple[object, ...]:
    return (input.person_id, input.month, input.tier, input.daily_fen)


def message(status: RateAdjustmentStatus) -> G.RateAdjustment:
    return G.RateAdjustment(
        workflow_id=workflow_id(status.reference),
        reference=status.reference,
        person_id=status.person_id,
        month=status.month,
        tier=status.tier,
        daily_fen=status.daily_fen,
        requested_by=status.requested_by,
        stage=status.stage,
        decided_by=status.decided_by,
        note=status.note,
        outcome=status.outcome,
    )


class RateAdjustmentGateway(FinanceProcessGateway):
    async def request(
        self, request: G.RequestRateAdjustmentRequest, caller: Caller
    ) -> G.WorkflowRef:
        if caller.role != REQUESTERS:
            raise PermissionDenied(
                f"{caller.id} may not ask for a rate adjustment: a department manager does (PAY-3)"
            )
        reference = business_reference(request.reference)
        require_id(request.person_id, "person_id")
        asked = RateAdjustmentRequest(
            reference,
            request.person_id,
            parse_month(request.month),
            request.tier,
            request.daily_fen,
            caller.id,
            request.why,
            regulation.in_force(today()).version,
        )
        validate(asked)
        await self._refuse_if_settled(
            asked.person_id,
            asked.month,
            why="a settled month's rates no longer change (PAY-2, PAY-3)",
        )
        wf_id = workflow_id(reference)
        started = await start_once(
            self._client,
            RateAdjustmentWorkflow.run,
            asked,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"PAY-3 disputed rate {reference}",
            details=asked.why,
            request_key=_same_request,
            conflict=f"reference {reference} is already used for another rate adjustment",
            give_up_after=self._timeout,
        )
        return G.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    def _handle(
        self, reference: str
    ) -> WorkflowHandle[RateAdjustmentWorkflow, RateAdjustmentStatus]:
        return self._client.get_workflow_handle_for(
            RateAdjustmentWorkflow.run, workflow_id(reference)
        )

    async def decide(
        self, request: G.DecideRateAdjustmentRequest, caller: Caller
    ) -> G.RateAdjustment:
        reference = business_reference(request.reference)
        handle = self._handle(reference)
        decision = DecisionInput(caller.id, request.approve, request.note)
        status = await self._updated(
            handle, RateAdjustmentWorkflow.decide, decision, what=f"rate adjustment {reference}"
        )
        return message(status)

    async def get(self, request: G.GetRateAdjustmentRequest, caller: Caller) -> G.RateAdjustment:
        reference = business_reference(request.reference)
        status = await self._read(
            self._handle(reference),
            RateAdjustmentWorkflow.status,
            caller,
            what=f"rate adjustment {reference}",
            may_read=may_read,
            readers="it is read by the person, the department managers, the clerk and the "
            "vice-president in charge (PAY-3)",
        )
        return message(status)
