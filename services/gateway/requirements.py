"""Gateway handling of customer requirements (RQ-1..RQ-4, RQ-7) and their tracking sheet (RQ-3)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.case_messages import case_fields, sla_view
from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_errors import workflow_call
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from services.runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from services.runtime.validation import require_known
from workflows import regulation, sla
from workflows.regulation import texts
from workflows.requirement import (
    REGION_READERS,
    SHEET_KEEPERS,
    STAGES,
    TRACKING_MEMO,
    TRACKING_QUERY,
    CloseInput,
    ConfirmationInput,
    FilterInput,
    ReceiptInput,
    ReleaseInput,
    RequirementInput,
    RequirementStatus,
    RequirementWorkflow,
    RevisitInput,
    SyncOutcomeInput,
    completion_risk,
    may_read,
    validate,
    validate_confirmation,
    validate_filter,
    validate_release,
    validate_revisit,
    validate_sync_outcome,
    workflow_id,
)

SLA_STATES = (sla.OK, sla.WARNING, sla.BREACHED, sla.MET)
DEFAULT_LIMIT, MAX_LIMIT = 500, 5000
_REGION = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
_OUTCOMES = {
    gateway_pb2.SYNC_OUTCOME_SOLUTION: "solution",
    gateway_pb2.SYNC_OUTCOME_DEFERRED: "deferred",
    gateway_pb2.SYNC_OUTCOME_DECLINED: "declined",
}
_KINDS = {
    gateway_pb2.CONFIRMATION_KIND_APPLICATION: "application",
    gateway_pb2.CONFIRMATION_KIND_SOLUTION: "solution",
    gateway_pb2.CONFIRMATION_KIND_VERIFICATION: "verification",
}
CSV_COLUMNS = (
    "reference", "hospital", "product_module", "region_code", "requester_id", "stage",
    "submitted_at", "age_days", "next_sync", "syncs_deferred", "feedback_sla",
    "released_version", "missing_confirmations", "risk",
)  # fmt: skip


# No requirement is older than the system; a larger age would overflow the date arithmetic.
MAX_AGE_DAYS = 3660


def _same_requirement(input: RequirementInput) -> tuple[str, ...]:
    return (
        input.requester_id, input.region_code, input.hospital, input.product_module,
        input.purpose, input.business_scenario, input.description,
    )  # fmt: skip


def requirement_message(status: RequirementStatus) -> gateway_pb2.Requirement:
    feedback = status.feedback_sla
    return gateway_pb2.Requirement(
        reference=status.reference,
        workflow_id=workflow_id(status.reference),
        stage=status.stage,
        requester_id=status.requester_id,
        region_code=status.region_code,
        hospital=status.hospital,
        product_module=status.product_module,
        purpose=status.purpose,
        business_scenario=status.business_scenario,
        submitted_at=status.submitted_at,
        next_sync=status.next_sync,
        syncs_deferred=status.syncs_deferred,
        solution=status.solution,
        decision_reason=status.decision_reason,
        released_version=status.released_version,
        revisit_due_at=status.revisit_due_at,
        confirmations=[
            gateway_pb2.SignedConfirmation(
                kind=c.kind,
                file_reference=c.file_reference,
                signer=c.signer,
                signed_on=c.signed_on,
                registered_by=c.registered_by,
            )
            for c in status.confirmations
        ],
        missing_confirmations=status.missing_confirmations,
        feedback_sla=sla_view(feedback) if feedback else None,
        risk=completion_risk(status),
        history=[
            gateway_pb2.RequirementEvent(at=e.at, actor_id=e.actor_id, kind=e.kind, note=e.note)
            for e in status.history
        ],
        rule_version=status.rule_version,
        awaiting_receipt=status.awaiting_receipt,
        receipt_confirmed_by=status.receipt_confirmed_by,
        **case_fields(status),
    )


def _row(memo: dict[str, Any], now: datetime) -> gateway_pb2.RequirementRow:
    submitted = memo.get("submitted_at", "")
    age = (now - datetime.fromisoformat(submitted)).days if submitted else 0
    return gateway_pb2.RequirementRow(
        reference=memo.get("reference", ""),
        hospital=memo.get("hospital", ""),
        product_module=memo.get("product_module", ""),
        region_code=memo.get("region", ""),
        requester_id=memo.get("requester", ""),
        stage=memo.get("stage", ""),
        submitted_at=submitted,
        age_days=age,
        next_sync=memo.get("next_sync", ""),
        syncs_deferred=int(memo.get("syncs_deferred", 0)),
        feedback_sla=memo.get("feedback_sla", ""),
        released_version=memo.get("released_version", ""),
        missing_confirmations=list(memo.get("missing_confirmations", [])),
        risk=memo.get("risk", ""),
    )


class RequirementGateway(ProcessGateway):
    """Submit, move on, read and list customer requirements."""

    async def submit(
        self, request: gateway_pb2.SubmitRequirementRequest, caller: Caller
    ) -> gateway_pb2.RequirementRef:
        reference = business_reference(request.reference)
        requester = caller.require_self(request.requester_id, "requirement")
        try:
            rules = regulation.in_force(today())
        except regulation.NoRuleSetInForce as err:
            raise FailedPrecondition(f"{err}: RQ-1 is not in force yet") from None
        submission = RequirementInput(
            reference=reference,
            requester_id=requester,
            region_code=request.region_code,
            hospital=request.hospital.strip(),
            product_module=request.product_module.strip(),
            purpose=request.purpose.strip(),
            business_scenario=request.business_scenario.strip(),
            description=request.description.strip(),
            rule_version=rules.version,
        )
        # The workflow's own rule (RQ-1), so a bad submission is refused here, with its words,
        # before anything starts.
        validate(submission, rules)
        submission.region_code = await self._region(request.region_code, caller)
        wf_id = workflow_id(reference)
        started = await start_once(
            self._client,
            RequirementWorkflow.run,
            submission,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"RQ {reference}: {submission.hospital}, {submission.product_module}",
            details=(
                f"Purpose: {submission.purpose}\nScenario: {submission.business_scenario}\n\n"
                f"{submission.description}"
            ),
            request_key=_same_requirement,
            conflict=(
                f"reference {reference} is already used for a different requirement; "
                "use a new reference"
            ),
            give_up_after=self._timeout,
        )
        return gateway_pb2.RequirementRef(
            reference=reference, workflow_id=wf_id, run_id=started.run_id
        )

    def _handle(self, reference: str) -> WorkflowHandle[RequirementWorkflow, RequirementStatus]:
        return self._client.get_workflow_handle_for(
            RequirementWorkflow.run, workflow_id(business_reference(reference))
        )

    async def _answer(
        self, reference: str, call: Awaitable[RequirementStatus]
    ) -> gateway_pb2.Requirement:
        status = await workflow_call(
            call,
            what=f"requirement {reference}",
            give_up_after=self._timeout,
            handle=self._handle(reference),
        )
        return requirement_message(status)

    async def filter(
        self, request: gateway_pb2.FilterRequirementRequest, caller: Caller
    ) -> gateway_pb2.Requirement:
        handle = self._handle(request.reference)
        update = FilterInput(actor_id=caller.id, accept=request.accept, reason=request.reason)
        validate_filter(update)
        return await self._answer(
            request.reference,
            handle.execute_update(RequirementWorkflow.filter, update, rpc_timeout=self._timeout),
        )

    async def record_sync(
        self, request: gateway_pb2.RecordSyncOutcomeRequest, caller: Caller
    ) -> gateway_pb2.Requirement:
        handle = self._handle(request.reference)
        require_known(request.outcome, gateway_pb2.SyncOutcome.values(), "outcome")
        if request.outcome not in _OUTCOMES:
            raise InvalidArgument("outcome is required: solution, deferred or declined")
        update = SyncOutcomeInput(
            actor_id=caller.id, outcome=_OUTCOMES[request.outcome], text=request.text
        )
        validate_sync_outcome(update)
        return await self._answer(
            request.reference,
            handle.execute_update(
                RequirementWorkflow.record_sync, update, rpc_timeout=self._timeout
            ),
        )

    async def register_confirmation(
        self, request: gateway_pb2.RegisterConfirmationRequest, caller: Caller
    ) -> gateway_pb2.Requirement:
        handle = self._handle(request.reference)
        require_known(request.kind, gateway_pb2.ConfirmationKind.values(), "kind")
        if request.kind not in _KINDS:
            raise InvalidArgument("kind is required: application, solution or verification (RQ-4)")
        update = ConfirmationInput(
            actor_id=caller.id,
            kind=_KINDS[request.kind],
            file_reference=request.file_reference,
            signer=request.signer,
            signed_on=request.signed_on,
        )
        validate_confirmation(update)
        return await self._answer(
            request.reference,
            handle.execute_update(
                RequirementWorkflow.register_confirmation, update, rpc_timeout=self._timeout
            ),
        )

    async def release(
        self, request: gateway_pb2.ReleaseRequirementRequest, caller: Caller
    ) -> gateway_pb2.Requirement:
        handle = self._handle(request.reference)
        update = ReleaseInput(actor_id=caller.id, version=request.version)
        validate_release(update)
        return await self._answer(
            request.reference,
            handle.execute_update(RequirementWorkflow.release, update, rpc_timeout=self._timeout),
        )

    async def record_revisit(
        self, request: gateway_pb2.RecordRevisitRequest, caller: Caller
    ) -> gateway_pb2.Requirement:
        handle = self._handle(request.reference)
        update = RevisitInput(actor_id=caller.id, satisfied=request.satisfied, note=request.note)
        validate_revisit(update)
        return await self._answer(
            request.reference,
            handle.execute_update(
                RequirementWorkflow.record_revisit, update, rpc_timeout=self._timeout
            ),
        )

    async def close(
        self, request: gateway_pb2.CloseRequirementRequest, caller: Caller
    ) -> gateway_pb2.Requirement:
        handle = self._handle(request.reference)
        return await self._answer(
            request.reference,
            handle.execute_update(
                RequirementWorkflow.close, CloseInput(actor_id=caller.id), rpc_timeout=self._timeout
            ),
        )

    async def confirm_receipt(
        self, request: gateway_pb2.ConfirmFeedbackReceiptRequest, caller: Caller
    ) -> gateway_pb2.Requirement:
        handle = self._handle(request.reference)
        return await self._answer(
            request.reference,
            handle.execute_update(
                RequirementWorkflow.confirm_receipt,
                ReceiptInput(actor_id=caller.id),
                rpc_timeout=self._timeout,
            ),
        )

    async def get(
        self, request: gateway_pb2.GetRequirementRequest, caller: Caller
    ) -> gateway_pb2.Requirement:
        status = await self._read(
            self._handle(request.reference),
            RequirementWorkflow.status,
            caller,
            what=f"requirement {request.reference}",
            may_read=may_read,
            readers="a requirement is read by the field that asked, the tracking sheet's keepers "
            "and its region's managers (RQ-3)",
        )
        return requirement_message(status)

    async def list(
        self, request: gateway_pb2.ListRequirementsRequest, caller: Caller
    ) -> gateway_pb2.ListRequirementsResponse:
        if caller.role not in SHEET_KEEPERS:
            if caller.role not in REGION_READERS:
                raise PermissionDenied(
                    "the tracking sheet is kept by senior support, the assistant, the team lead "
                    "and the department managers; a region's managers read their region (RQ-3)"
                )
            if request.region_code and request.region_code != caller.region_code:
                raise PermissionDenied(
                    f"{caller.id} reads the tracking sheet of region {caller.region_code} only"
                )
            mine = gateway_pb2.ListRequirementsRequest()
            mine.CopyFrom(request)
            mine.region_code = caller.region_code
            request = mine
        query, limit = _visibility_query(request)
        hospital = request.hospital.strip()
        now = datetime.now(UTC)
        rows: list[gateway_pb2.RequirementRow] = []

        async def collect() -> None:
            async for execution in self._client.list_workflows(query, page_size=min(limit, 1000)):
                memo = await execution.memo_value(TRACKING_MEMO, default=None)
                if not isinstance(memo, dict) or (hospital and memo.get("hospital") != hospital):
                    continue
                rows.append(_row(memo, now))
                if len(rows) >= limit:
                    return

        await workflow_call(collect(), what="the tracking sheet", give_up_after=self._timeout * 3)
        return gateway_pb2.ListRequirementsResponse(rows=rows)

    async def export(
        self, request: gateway_pb2.ListRequirementsRequest, caller: Caller
    ) -> gateway_pb2.ExportRequirementsResponse:
        listed = await self.list(request, caller)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in listed.rows:
            values = [getattr(row, column) for column in CSV_COLUMNS]
            values[CSV_COLUMNS.index("missing_confirmations")] = " ".join(row.missing_confirmations)
            writer.writerow(values)
        return gateway_pb2.ExportRequirementsResponse(csv=out.getvalue())


def _visibility_query(request: gateway_pb2.ListRequirementsRequest) -> tuple[str, int]:
    """The visibility query for the sheet's filters; every value is checked before it is quoted."""
    clauses = [TRACKING_QUERY]
    if request.region_code:
        if not _REGION.match(request.region_code):
            raise InvalidArgument(f"region_code {request.region_code!r} is not a region code")
        clauses.append(f"CsdRegion = '{request.region_code}'")
    if request.stage:
        if request.stage not in STAGES:
            raise InvalidArgument(f"stage is one of {', '.join(STAGES)}")
        clauses.append(f"CsdStage = '{request.stage}'")
    if request.sla_state:
        if request.sla_state not in SLA_STATES:
            raise InvalidArgument(f"sla_state is one of {', '.join(SLA_STATES)}")
        clauses.append(f"CsdSlaState = '{request.sla_state}'")
    if not (
        0 <= request.min_age_days <= MAX_AGE_DAYS and 0 <= request.max_age_days <= MAX_AGE_DAYS
    ):
        raise InvalidArgument(f"ages are whole days from 0 to {MAX_AGE_DAYS} (ten years)")
    if request.max_age_days and request.max_age_days < request.min_age_days:
        raise InvalidArgument("max_age_days is below min_age_days")
    now = datetime.now(UTC)
    if request.min_age_days:
        older = now - timedelta(days=request.min_age_days)
        clauses.append(f"StartTime <= '{older.strftime('%Y-%m-%dT%H:%M:%SZ')}'")
    if request.max_age_days:
        newer = now - timedelta(days=request.max_age_days)
        clauses.append(f"StartTime >= '{newer.strftime('%Y-%m-%dT%H:%M:%SZ')}'")
    texts.bounded(request.hospital, "hospital", limit=texts.LINE)
    limit = request.limit or DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument(f"limit is 1..{MAX_LIMIT}")
    return " AND ".join(clauses), limit
