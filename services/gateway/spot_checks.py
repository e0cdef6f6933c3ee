"""Spot checks and the cases for dismissal through the gateway (AT-3, AT-4): the department
clerk or a department manager (head office) records a finding; a department manager decides a
case for dismissal; its reads follow the case's own rule (workflows/dismissal.py::may_read)."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2
from csd.staff.v1 import staff_pb2
from temporalio.client import WorkflowHandle

from services.gateway.case_messages import case_fields
from services.gateway.directory import LOOKUP_DEADLINE_SECONDS, ask_staff
from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_errors import workflow_call
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from services.runtime.errors import NotFound, PermissionDenied
from services.runtime.validation import require_id
from workflows import regulation
from workflows.dismissal import (
    DecisionInput,
    DismissalStatus,
    DismissalWorkflow,
    may_read,
    validate_decision,
)
from workflows.dismissal import workflow_id as dismissal_id
from workflows.spot_check import SpotCheckInput, SpotCheckWorkflow, validate, workflow_id

# AT-3: "found in a spot check" by the clerk, who keeps attendance, or by head office.
MAY_RECORD = frozenset({"department_clerk", "department_manager"})


def _same_finding(input: SpotCheckInput) -> tuple[str, tuple[str, ...]]:
    return (input.person_id, tuple(sorted(input.days)))


def dismissal_message(status: DismissalStatus) -> gateway_pb2.Dismissal:
    return gateway_pb2.Dismissal(
        workflow_id=dismissal_id(status.person_id),
        person_id=status.person_id,
        region_code=status.region_code,
        stage=status.stage,
        absent_days=status.absent_days,
        findings=status.findings,
        decide_by=status.decide_by,
        decided_by=status.decided_by,
        reason=status.reason,
        **case_fields(status),
    )


class SpotCheckGateway(ProcessGateway):
    async def record(
        self, request: gateway_pb2.RecordSpotCheckRequest, caller: Caller
    ) -> gateway_pb2.SpotCheck:
        if caller.role not in MAY_RECORD:
            raise PermissionDenied(
                f"{caller.id} may not record a spot check: the department clerk or head office "
                "does (AT-3)"
            )
        reference = business_reference(request.reference)
        require_id(request.person_id, "person_id")
        person: staff_pb2.Person = await ask_staff(
            self._staff.GetPerson(
                staff_pb2.GetPersonRequest(id=request.person_id),
                timeout=LOOKUP_DEADLINE_SECONDS,
            ),
            purpose="look up the person checked",
            missing=NotFound(f"{request.person_id!r} is not in the staff directory"),
        )
        rules = regulation.in_force(today())
        finding = SpotCheckInput(
            reference=reference,
            person_id=person.id,
            region_code=person.region_code,
            days=list(request.days),
            place_claimed=request.place_claimed,
            place_found=request.place_found,
            recorded_by=caller.id,
            rule_version=rules.version,
        )
        # A refusal is the rule's own (workflows/regulation), mapped by the interceptor.
        validate(finding, rules)
        wf_id = workflow_id(reference)
        started = await start_once(
            self._client,
            SpotCheckWorkflow.run,
            finding,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"AT-3 spot check: {person.name} ({reference})",
            details=f"Not at post on {', '.join(sorted(finding.days))}.",
            request_key=_same_finding,
            conflict=(
                f"reference {reference} is already used for another finding; use a new "
                "reference for a new spot check"
            ),
            give_up_after=self._timeout,
        )
        first = started.input
        return gateway_pb2.SpotCheck(
            workflow_id=wf_id,
            reference=reference,
            person_id=first.person_id,
            days=sorted(first.days),
            amount_fen=regulation.by_version(first.rule_version).fine_fen("AT-3"),
            rule_version=first.rule_version,
        )

    def _handle(self, person_id: str) -> WorkflowHandle[DismissalWorkflow, DismissalStatus]:
        return self._client.get_workflow_handle_for(DismissalWorkflow.run, dismissal_id(person_id))

    async def decide(
        self, request: gateway_pb2.DecideDismissalRequest, caller: Caller
    ) -> gateway_pb2.Dismissal:
        require_id(request.person_id, "person_id")
        decision = DecisionInput(caller.id, request.outcome, request.reason.strip())
        validate_decision(decision)
        handle = self._handle(request.person_id)
        status = await workflow_call(
            handle.execute_update(DismissalWorkflow.decide, decision, rpc_timeout=self._timeout),
            what=f"the case for dismissal of {request.person_id}",
            give_up_after=self._timeout,
            handle=handle,
        )
        return dismissal_message(status)

    async def get(
        self, request: gateway_pb2.GetDismissalRequest, caller: Caller
    ) -> gateway_pb2.Dismissal:
        require_id(request.person_id, "person_id")
        status = await self._read(
            self._handle(request.person_id),
            DismissalWorkflow.status,
            caller,
            what=f"the case for dismissal of {request.person_id}",
            may_read=may_read,
            readers="it is read by the person, the department managers, the clerk and the "
            "region's technical service manager (AT-4)",
        )
        return dismissal_message(status)
