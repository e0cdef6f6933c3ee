"""Gateway handling of major-problem direct reports (MI-1, MI-2)."""

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
from workflows.major_problem import (
    AcknowledgeInput,
    MajorProblemInput,
    MajorProblemStatus,
    MajorProblemWorkflow,
    ResolveInput,
    StatusUpdateInput,
    may_read,
    validate,
    validate_acknowledge,
    validate_resolve,
    validate_update,
    workflow_id,
)


def _same_report(input: MajorProblemInput) -> tuple[object, ...]:
    return (
        input.reporter_id,
        input.region_code,
        input.category,
        input.hospital,
        input.product,
        input.description,
        tuple(input.evidence),
    )


def problem_message(status: MajorProblemStatus) -> gateway_pb2.MajorProblem:
    return gateway_pb2.MajorProblem(
        reference=status.reference,
        workflow_id=workflow_id(status.reference),
        stage=status.stage,
        category=status.category,
        hospital=status.hospital,
        product=status.product,
        region_code=status.region_code,
        reporter_id=status.reporter_id,
        owner_id=status.owner_id,
        cc_ids=status.cc_ids,
        escalation_level=status.escalation_level,
        calls=status.calls,
        acknowledged_by=status.acknowledged_by,
        acknowledged_at=status.acknowledged_at,
        root_cause=status.root_cause,
        fix=status.fix,
        history=[
            gateway_pb2.MajorProblemEvent(at=e.at, actor_id=e.actor_id, kind=e.kind, note=e.note)
            for e in status.history
        ],
        rule_version=status.rule_version,
        **case_fields(status),
    )


class MajorProblemGateway(ProcessGateway):
    """Report, acknowledge, update, resolve and read major problems."""

    async def report(
        self, request: gateway_pb2.ReportMajorProblemRequest, caller: Caller
    ) -> gateway_pb2.MajorProblemRef:
        reference = business_reference(request.reference)
        reporter = caller.require_self(request.reporter_id, "major-problem report")
        try:
            rules = regulation.in_force(today())
        except regulation.NoRuleSetInForce as err:
            raise FailedPrecondition(f"{err}: MI-1 is not in force yet") from None
        report = MajorProblemInput(
            reference=reference,
            reporter_id=reporter,
            region_code=request.region_code,
            category=request.category.strip().lower(),
            hospital=request.hospital.strip(),
            product=request.product.strip(),
            description=request.description.strip(),
            rule_version=rules.version,
            evidence=[e.strip() for e in request.evidence if e.strip()],
        )
        # The workflow's own rule, so a bad report is refused here, with its words, before
        # anything starts.
        validate(report, rules)
        report.region_code = await self._region(request.region_code, caller)
        wf_id = workflow_id(reference)
        what = f"{report.category.replace('_', ' ')} at {report.hospital} ({report.product})"
        started = await start_once(
            self._client,
            MajorProblemWorkflow.run,
            report,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"MI {reference}: {what}",
            details=report.description,
            request_key=_same_report,
            conflict=(
                f"reference {reference} is already used for a different report; "
                "use a new reference for a new problem"
            ),
            give_up_after=self._timeout,
        )
        return gateway_pb2.MajorProblemRef(
            reference=reference, workflow_id=wf_id, run_id=started.run_id
        )

    def _handle(self, reference: str) -> WorkflowHandle[MajorProblemWorkflow, MajorProblemStatus]:
        return self._client.get_workflow_handle_for(
            MajorProblemWorkflow.run, workflow_id(business_reference(reference))
        )

    async def _answer(
        self, reference: str, call: Awaitable[MajorProblemStatus]
    ) -> gateway_pb2.MajorProblem:
        status = await workflow_call(
            call,
            what=f"major problem {reference}",
            give_up_after=self._timeout,
            handle=self._handle(reference),
        )
        return problem_message(status)

    async def acknowledge(
        self, request: gateway_pb2.AcknowledgeMajorProblemRequest, caller: Caller
    ) -> gateway_pb2.MajorProblem:
        handle = self._handle(request.reference)
        acknowledgement = AcknowledgeInput(actor_id=caller.id, note=request.note.strip())
        validate_acknowledge(acknowledgement)
        return await self._answer(
            request.reference,
            handle.execute_update(
                MajorProblemWorkflow.acknowledge, acknowledgement, rpc_timeout=self._timeout
            ),
        )

    async def update(
        self, request: gateway_pb2.UpdateMajorProblemRequest, caller: Caller
    ) -> gateway_pb2.MajorProblem:
        handle = self._handle(request.reference)
        update = StatusUpdateInput(actor_id=caller.id, note=request.note.strip())
        validate_update(update)
        return await self._answer(
            request.reference,
            handle.execute_update(
                MajorProblemWorkflow.post_update, update, rpc_timeout=self._timeout
            ),
        )

    async def resolve(
        self, request: gateway_pb2.ResolveMajorProblemRequest, caller: Caller
    ) -> gateway_pb2.MajorProblem:
        handle = self._handle(request.reference)
        resolution = ResolveInput(
            actor_id=caller.id, root_cause=request.root_cause.strip(), fix=request.fix.strip()
        )
        validate_resolve(resolution)
        return await self._answer(
            request.reference,
            handle.execute_update(
                MajorProblemWorkflow.resolve, resolution, rpc_timeout=self._timeout
            ),
        )

    async def get(
        self, request: gateway_pb2.GetMajorProblemRequest, caller: Caller
    ) -> gateway_pb2.MajorProblem:
        status = await self._read(
            self._handle(request.reference),
            MajorProblemWorkflow.status,
            caller,
            what=f"major problem {request.reference}",
            may_read=may_read,
            readers="a major problem is read by its reporter, its owner and those it was sent "
            "to or called (MI-2)",
        )
        return problem_message(status)
