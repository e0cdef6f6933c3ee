"""Sales' logs through the gateway (CL-3): sales sends its contact with a hospital project, the
assistant passes it on, the project's engineer completes it (workflows/sales_log.py)."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2
from csd.staff.v1 import staff_pb2
from temporalio.client import WorkflowHandle

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from services.runtime.errors import PermissionDenied
from workflows import regulation
from workflows.sales_log import (
    CompleteInput,
    PassOnInput,
    SalesLogInput,
    SalesLogStatus,
    SalesLogWorkflow,
    may_read,
    validate,
    workflow_id,
)

G, S = gateway_pb2, staff_pb2
SENDERS = frozenset({"sales"})


def _same(input: SalesLogInput) -> tuple[object, ...]:
    return (input.project_code, input.contact_with, input.summary, input.contacted_on)


def message(status: SalesLogStatus) -> G.SalesLog:
    return G.SalesLog(
        workflow_id=workflow_id(status.reference),
        reference=status.reference,
        project_code=status.project_code,
        engineer_id=status.engineer_id,
        sent_by=status.sent_by,
        stage=status.stage,
        passed_by=status.passed_by,
        addition=status.addition,
        log_version=status.log_version,
        complete_by=status.complete_by,
        sla_state=status.sla_state,
    )


class SalesLogGateway(ProcessGateway):
    async def send(self, request: G.SendSalesLogRequest, caller: Caller) -> G.WorkflowRef:
        if caller.role not in SENDERS:
            raise PermissionDenied(
                f"{caller.id} is not in sales: this is how sales sends its logs (CL-3); the "
                "department's people write the project's log themselves"
            )
        reference = business_reference(request.reference)
        project = await self._project(request.project_code)
        code = project.code
        log = SalesLogInput(
            reference, code, project.region_code, project.engineer_id, caller.id,
            request.contact_with, request.summary, request.contacted_on or today().isoformat(),
            regulation.in_force(today()).version,
        )  # fmt: skip
        validate(log)
        wf_id = workflow_id(reference)
        started = await start_once(
            self._client,
            SalesLogWorkflow.run,
            log,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"CL-3 {reference}: sales' log of {code}",
            details=request.summary,
            request_key=_same,
            conflict=f"reference {reference} is already used for another sales log",
            give_up_after=self._timeout,
        )
        return G.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    def _handle(self, reference: str) -> WorkflowHandle[SalesLogWorkflow, SalesLogStatus]:
        return self._client.get_workflow_handle_for(SalesLogWorkflow.run, workflow_id(reference))

    async def pass_on(self, request: G.PassOnSalesLogRequest, caller: Caller) -> G.SalesLog:
        reference = business_reference(request.reference)
        return message(
            await self._updated(
                self._handle(reference), SalesLogWorkflow.pass_on,
                PassOnInput(caller.id, request.note), what=f"sales log {reference}",
            )
        )  # fmt: skip

    async def complete(self, request: G.CompleteSalesLogRequest, caller: Caller) -> G.SalesLog:
        reference = business_reference(request.reference)
        return message(
            await self._updated(
                self._handle(reference), SalesLogWorkflow.complete,
                CompleteInput(caller.id, request.addition), what=f"sales log {reference}",
            )
        )  # fmt: skip

    async def get(self, request: G.GetSalesLogRequest, caller: Caller) -> G.SalesLog:
        reference = business_reference(request.reference)
        status = await self._read(
            self._handle(reference),
            SalesLogWorkflow.status,
            caller,
            what=f"sales log {reference}",
            may_read=may_read,
            readers="it is read by sales who sent it, the assistant, the project's engineer and "
            "the department managers (CL-3)",
        )
        return message(status)
