"""Expense claims through the gateway (RB-1, RB-2): each person submits their own month's claim;
the reviewers RB-2 names review it; the claimant, its reviewers and the department managers
read every line's outcome (workflows/claim.py::may_read)."""

from __future__ import annotations

from collections.abc import Awaitable

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from activities.finance import ClaimLineInput
from services.gateway.case_messages import case_fields
from services.gateway.identity import Caller
from services.gateway.process import FinanceProcessGateway
from services.gateway.workflow_errors import workflow_call
from services.gateway.workflow_starts import start_once
from services.runtime.dates import parse_month, today
from services.runtime.validation import require_id
from workflows import regulation
from workflows.claim import (
    ClaimInput,
    ClaimStatus,
    ClaimWorkflow,
    ReviewInput,
    may_read,
    validate,
    validate_review,
    workflow_id,
)

G = gateway_pb2


def _same_claim(input: ClaimInput) -> tuple[object, ...]:
    return tuple((line.number, line.category, line.date, line.amount_fen) for line in input.lines)


def claim_message(status: ClaimStatus) -> G.Claim:
    return G.Claim(
        workflow_id=workflow_id(status.person_id, status.month),
        person_id=status.person_id,
        month=status.month,
        stage=status.stage,
        claimed_fen=status.claimed_fen,
        sanctioned_fen=status.sanctioned_fen,
        approved_fen=status.approved_fen,
        lines=[
            G.ClaimLineOutcome(
                number=line.number,
                category=line.category,
                claimed_fen=line.claimed_fen,
                sanctioned_fen=line.sanctioned_fen,
                policy_version=line.policy_version,
                exceptions=[
                    G.ClaimLineException(
                        code=e.code, rule=e.rule, level=e.level, words=e.words, fen=e.fen
                    )
                    for e in line.exceptions
                ],
            )
            for line in status.lines
        ],
        reviewed_by=status.reviewed_by,
        rejection=status.rejection,
        entry_id=status.entry_id,
        **case_fields(status),
    )


class ClaimGateway(FinanceProcessGateway):
    async def submit(self, request: G.SubmitClaimRequest, caller: Caller) -> G.WorkflowRef:
        month = parse_month(request.month)
        rules = regulation.in_force(today())
        claim = ClaimInput(
            person_id=caller.id,
            role=caller.role,
            region_code=caller.region_code or await self._head_office(),
            month=month,
            lines=[
                ClaimLineInput(
                    number=line.number,
                    category=line.category,
                    date=line.date,
                    city=line.city,
                    amount_fen=line.amount_fen,
                    shared_with=list(line.shared_with),
                    reason=line.reason,
                    overtime_or_emergency=line.overtime_or_emergency,
                    pre_approval=line.pre_approval,
                )
                for line in request.lines
            ],
            rule_version=rules.version,
        )
        validate(claim)
        await self._refuse_if_settled(
            caller.id,
            month,
            why="a month's expenses are claimed before it is settled (PAY-2, RB-1)",
        )
        wf_id = workflow_id(caller.id, month)
        started = await start_once(
            self._client,
            ClaimWorkflow.run,
            claim,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"Expense claim: {caller.name} for {month}",
            details=f"{len(claim.lines)} line(s).",
            request_key=_same_claim,
            conflict=(
                f"your claim for {month} is already submitted with other lines: one claim per "
                "person and month (RB-1)"
            ),
            give_up_after=self._timeout,
        )
        return G.WorkflowRef(workflow_id=wf_id, run_id=started.run_id)

    def _handle(self, person_id: str, month: str) -> WorkflowHandle[ClaimWorkflow, ClaimStatus]:
        return self._client.get_workflow_handle_for(
            ClaimWorkflow.run, workflow_id(person_id, month)
        )

    async def review(self, request: G.ReviewClaimRequest, caller: Caller) -> G.Claim:
        require_id(request.person_id, "person_id")
        month = parse_month(request.month)
        review = ReviewInput(caller.id, request.approve, request.note)
        validate_review(review)
        handle = self._handle(request.person_id, month)
        return await self._answer(
            handle,
            handle.execute_update(ClaimWorkflow.review, review, rpc_timeout=self._timeout),
            f"the claim of {request.person_id} for {month}",
        )

    async def get(self, request: G.GetClaimRequest, caller: Caller) -> G.Claim:
        person = request.person_id or caller.id
        require_id(person, "person_id")
        month = parse_month(request.month)
        status = await self._read(
            self._handle(person, month),
            ClaimWorkflow.status,
            caller,
            what=f"the claim of {person} for {month}",
            may_read=may_read,
            readers="a claim is read by the claimant, its reviewers and the department managers",
        )
        return claim_message(status)

    async def _answer(
        self,
        handle: WorkflowHandle[ClaimWorkflow, ClaimStatus],
        call: Awaitable[ClaimStatus],
        what: str,
    ) -> G.Claim:
        status = await workflow_call(call, what=what, give_up_after=self._timeout, handle=handle)
        return claim_message(status)
