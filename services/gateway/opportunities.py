"""Business opportunities through the gateway (BO-1..BO-3): anyone in the field registers one;
sales, another department, first sends the region an assistance notice and names it (BO-2); a
department manager confirms it; who may sell closes it (workflows/opportunity.py)."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_errors import workflow_call
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from services.runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from workflows import regulation
from workflows.assistance import AssistanceWorkflow
from workflows.assistance import workflow_id as assistance_id
from workflows.opportunity import (
    KINDS,
    PROCESS,
    CloseInput,
    ConfirmInput,
    OpportunityInput,
    OpportunityStatus,
    OpportunityWorkflow,
    may_read,
    validate,
    workflow_id,
)

G = gateway_pb2
# BO-2: another department's people, who reach a region through an assistance notice.
OTHER_DEPARTMENTS = frozenset({"sales"})
# G-5: every region's open opportunities are read department-wide; a region's by its managers.
LISTS_EVERY_REGION = frozenset({"department_manager", "department_assistant"})
LISTS_THEIR_REGION = frozenset({"customer_service_manager", "technical_service_manager"})
MAX_LISTED = 500


def _same(input: OpportunityInput) -> tuple[object, ...]:
    return (input.kind, input.hospital, input.region_code, input.estimated_fen)


def message(status: OpportunityStatus) -> G.Opportunity:
    return G.Opportunity(
        workflow_id=workflow_id(status.reference),
        reference=status.reference,
        kind=status.kind,
        hospital=status.hospital,
        region_code=status.region_code,
        registered_by=status.registered_by,
        estimated_fen=status.estimated_fen,
        stage=status.stage,
        confirmed_by=status.confirmed_by,
        closed_by=status.closed_by,
        amount_fen=status.amount_fen,
        note=status.note,
        entry_id=status.entry_id,
        cooperation=status.cooperation,
    )


class OpportunityGateway(ProcessGateway):
    async def register(
        self, request: G.RegisterOpportunityRequest, caller: Caller
    ) -> G.WorkflowRef:
        reference = business_reference(request.reference)
        region = await self._region(request.region_code, caller)
        opportunity = OpportunityInput(
            reference,
            request.kind,
            request.hospital,
            region,
            caller.id,
            request.estimated_fen,
            request.description,
            regulation.in_force(today()).version,
            cooperation=request.cooperation,
        )
        validate(opportunity)
        if caller.role in OTHER_DEPARTMENTS:
            await self._cooperation_asked(request.cooperation, region, caller)
        wf_id = workflow_id(reference)
        started = await start_once(
            self._client,
            OpportunityWorkflow.run,
            opportunity,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"BO {reference}: {request.kind.replace('_', ' ')} at {request.hospital}",
            details=request.description,
            request_key=_same,
            conflict=f"reference {reference} is already used for another opportunity",
            give_up_after=self._timeout,
        )
        return G.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    async def _cooperation_asked(self, reference: str, region: str, caller: Caller) -> None:
        """BO-2: the assistance notice this opportunity's region was sent first."""
        if not reference:
            raise FailedPrecondition(
                f"{caller.id} is of another department: send the region an assistance notice "
                "through the department first (StartAssistance), and name it in cooperation "
                "(BO-2)"
            )
        handle = self._client.get_workflow_handle_for(
            AssistanceWorkflow.run, assistance_id(business_reference(reference))
        )
        status = await workflow_call(
            handle.query(AssistanceWorkflow.status, rpc_timeout=self._timeout),
            what=f"assistance notice {reference}",
            give_up_after=self._timeout,
            handle=handle,
        )
        if status.region_code != region:
            raise FailedPrecondition(
                f"assistance notice {reference} went to {status.region_code}, not {region}: "
                "the region whose cooperation is needed is sent the notice (BO-2)"
            )

    def _handle(self, reference: str) -> WorkflowHandle[OpportunityWorkflow, OpportunityStatus]:
        return self._client.get_workflow_handle_for(OpportunityWorkflow.run, workflow_id(reference))

    async def confirm(self, request: G.ConfirmOpportunityRequest, caller: Caller) -> G.Opportunity:
        reference = business_reference(request.reference)
        decision = ConfirmInput(caller.id, request.real, request.region_gets_it, request.note)
        return message(
            await self._updated(
                self._handle(reference), OpportunityWorkflow.confirm, decision,
                what=f"opportunity {reference}",
            )
        )  # fmt: skip

    async def close(self, request: G.CloseOpportunityRequest, caller: Caller) -> G.Opportunity:
        reference = business_reference(request.reference)
        outcome = CloseInput(caller.id, caller.role, request.won, request.amount_fen, request.note)
        return message(
            await self._updated(
                self._handle(reference), OpportunityWorkflow.close, outcome,
                what=f"opportunity {reference}",
            )
        )  # fmt: skip

    async def get(self, request: G.GetOpportunityRequest, caller: Caller) -> G.Opportunity:
        reference = business_reference(request.reference)
        status = await self._read(
            self._handle(reference),
            OpportunityWorkflow.status,
            caller,
            what=f"opportunity {reference}",
            may_read=may_read,
            readers="it is read by who registered, confirmed and sells it, the department "
            "managers, the assistant and the region's customer service manager (BO-1)",
        )
        return message(status)

    async def list(
        self, request: G.ListOpportunitiesRequest, caller: Caller
    ) -> G.ListOpportunitiesResponse:
        region = await self._region(request.region_code, caller)
        if caller.role not in LISTS_EVERY_REGION and not (
            caller.role in LISTS_THEIR_REGION and caller.region_code == region
        ):
            raise PermissionDenied(
                f"{caller.id} may not list {region}'s opportunities: the department managers "
                "and the assistant list every region's, a region's managers their own (G-5)"
            )
        if request.kind and request.kind not in KINDS:
            raise InvalidArgument(f"kind {request.kind!r}: use {', '.join(KINDS)}")
        open_cases = await self._region_cases(
            PROCESS,
            region,
            OpportunityWorkflow.status,
            what=f"{region}'s opportunities",
            running_only=True,
            keep=lambda o: not request.kind or o.kind == request.kind,
            limit=MAX_LISTED,
        )
        rows = [message(o) for o in open_cases]
        rows.sort(key=lambda row: row.reference)
        return G.ListOpportunitiesResponse(opportunities=rows)
