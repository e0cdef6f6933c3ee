"""Service work through the gateway (SV-1): the region's customer service manager plans a
hospital's maintenance or inspection visits for a year, its visits are recorded, and project
handovers are opened and signed off by each side (workflows/service_plan.py, handover.py)."""

from __future__ import annotations

from typing import Any

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from services.runtime.errors import InvalidArgument, PermissionDenied
from services.runtime.validation import require_id
from workflows import regulation, service_plan
from workflows.handover import HandoverInput, HandoverStatus, HandoverWorkflow, SignInput
from workflows.handover import may_read as may_read_handover
from workflows.handover import validate as validate_handover
from workflows.handover import workflow_id as handover_id
from workflows.service_plan import (
    PLANNER,
    ServicePlanInput,
    ServicePlanStatus,
    ServicePlanWorkflow,
    VisitInput,
)

G = gateway_pb2
# Who opens a handover: the region's managers and the department managers.
OPENS_HANDOVERS = frozenset(
    {"customer_service_manager", "technical_service_manager", "department_manager"}
)


def plan_message(status: ServicePlanStatus) -> G.ServicePlan:
    return G.ServicePlan(
        workflow_id=service_plan.workflow_id(status.kind, status.project_code, status.year),
        kind=status.kind,
        project_code=status.project_code,
        hospital=status.hospital,
        region_code=status.region_code,
        year=status.year,
        stage=status.stage,
        visits=[
            G.ServiceVisit(day=v.day, state=v.state, recorded_by=v.recorded_by, findings=v.findings)
            for v in status.visits
        ],
        sla_state=status.sla_state,
    )


def handover_message(status: HandoverStatus) -> G.Handover:
    return G.Handover(
        workflow_id=handover_id(status.reference),
        reference=status.reference,
        project_code=status.project_code,
        from_id=status.from_id,
        to_id=status.to_id,
        items=status.items,
        signed_sides=sorted(status.signed),
        due_by=status.due_by,
        stage=status.stage,
    )


def _same_plan(input: ServicePlanInput) -> tuple[object, ...]:
    return (tuple(sorted(input.visits)),)


def _same_handover(input: HandoverInput) -> tuple[object, ...]:
    return (input.project_code, input.from_id, input.to_id, tuple(input.items))


class ServiceWorkGateway(ProcessGateway):
    async def plan(self, request: G.PlanServiceVisitsRequest, caller: Caller) -> G.WorkflowRef:
        if caller.role != PLANNER:
            raise PermissionDenied(
                f"{caller.id} may not plan service visits: the region's customer service "
                "manager does (SV-1)"
            )
        if request.kind not in service_plan.KINDS:
            raise InvalidArgument(f"kind {request.kind!r}: use {', '.join(service_plan.KINDS)}")
        project = await self._project(request.project_code)
        if project.region_code != caller.region_code:
            raise PermissionDenied(
                f"{project.code} is in {project.region_code}: its own region's customer service "
                "manager plans it (SV-1)"
            )
        planned = ServicePlanInput(
            request.kind, project.code, project.hospital, project.region_code,
            project.engineer_id, caller.id, request.year, list(request.visits), request.notes,
            regulation.in_force(today()).version,
        )  # fmt: skip
        service_plan.validate(planned)
        wf_id = service_plan.workflow_id(request.kind, project.code, request.year)
        started = await start_once(
            self._client,
            ServicePlanWorkflow.run,
            planned,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"SV-1 {request.kind} plan {request.year} of {project.hospital}",
            details=request.notes,
            request_key=_same_plan,
            conflict=f"{project.code} already has another {request.kind} plan for {request.year}",
            give_up_after=self._timeout,
        )
        return G.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    def _plan(self, kind: str, code: str, year: int) -> WorkflowHandle[Any, ServicePlanStatus]:
        require_id(code, "project_code")
        return self._client.get_workflow_handle_for(
            ServicePlanWorkflow.run, service_plan.workflow_id(kind, code, year)
        )

    async def record_visit(
        self, request: G.RecordServiceVisitRequest, caller: Caller
    ) -> G.ServicePlan:
        handle = self._plan(request.kind, request.project_code, request.year)
        visit = VisitInput(caller.id, request.day, request.findings)
        status = await self._updated(
            handle, ServicePlanWorkflow.record_visit, visit, what=handle.id
        )
        return plan_message(status)

    async def get_plan(self, request: G.GetServicePlanRequest, caller: Caller) -> G.ServicePlan:
        status = await self._read(
            self._plan(request.kind, request.project_code, request.year),
            ServicePlanWorkflow.status,
            caller,
            what=f"the {request.kind} plan of {request.project_code}",
            may_read=service_plan.may_read,
            readers="a plan is read by its recorders, the region's managers and the department "
            "(SV-1)",
        )
        return plan_message(status)

    async def open_handover(self, request: G.OpenHandoverRequest, caller: Caller) -> G.WorkflowRef:
        if caller.role not in OPENS_HANDOVERS:
            raise PermissionDenied(
                f"{caller.id} may not open a handover: the region's managers and the "
                "department managers do (SV-1)"
            )
        reference = business_reference(request.reference)
        project = await self._project(request.project_code)
        handover = HandoverInput(
            reference, project.code, project.region_code, request.from_id, request.to_id,
            list(request.items), caller.id, regulation.in_force(today()).version,
        )  # fmt: skip
        validate_handover(handover)
        wf_id = handover_id(reference)
        started = await start_once(
            self._client,
            HandoverWorkflow.run,
            handover,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"SV-1 handover {reference} of {project.code}",
            details="; ".join(request.items),
            request_key=_same_handover,
            conflict=f"reference {reference} is already used for another handover",
            give_up_after=self._timeout,
        )
        return G.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    def _handover(self, reference: str) -> WorkflowHandle[Any, HandoverStatus]:
        return self._client.get_workflow_handle_for(HandoverWorkflow.run, handover_id(reference))

    async def sign_handover(self, request: G.SignHandoverRequest, caller: Caller) -> G.Handover:
        handle = self._handover(business_reference(request.reference))
        status = await self._updated(
            handle, HandoverWorkflow.sign, SignInput(caller.id, request.note), what=handle.id
        )
        return handover_message(status)

    async def get_handover(self, request: G.GetHandoverRequest, caller: Caller) -> G.Handover:
        reference = business_reference(request.reference)
        status = await self._read(
            self._handover(reference),
            HandoverWorkflow.status,
            caller,
            what=f"handover {reference}",
            may_read=may_read_handover,
            readers="a handover is read by its two sides and the managers (SV-1)",
        )
        return handover_message(status)
