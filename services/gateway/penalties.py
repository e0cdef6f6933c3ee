"""Gateway handling of fines imposed under a rule (XA-1 bypass, and later WR-4, AT-2, MI-3)."""

from __future__ import annotations

import re
from datetime import date

import grpc
from csd.gateway.v1 import gateway_pb2
from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.gateway.identity import Caller
from services.runtime.dates import parse_date, today
from services.runtime.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from workflows import rulebook, task_queues
from workflows.penalty import PenaltyInput, PenaltyWorkflow, workflow_id

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
# ORG-2: the clerk keeps penalties; a department manager may impose one too.
MAY_RECORD_FINES = frozenset({"department_clerk", "department_manager"})


class PenaltyGateway:
    """Start the workflow that records and announces a fine."""

    def __init__(
        self,
        client: Client,
        staff: staff_pb2_grpc.StaffServiceStub,
        *,
        task_queue: str = task_queues.MAIN,
    ) -> None:
        self._client = client
        self._staff = staff
        self._task_queue = task_queue

    async def report_assistance_bypass(
        self, request: gateway_pb2.ReportAssistanceBypassRequest, caller: Caller
    ) -> gateway_pb2.Penalty:
        return await self._fine("XA-1", request, caller)

    async def _fine(
        self, rule_id: str, request: gateway_pb2.ReportAssistanceBypassRequest, caller: Caller
    ) -> gateway_pb2.Penalty:
        if caller.role not in MAY_RECORD_FINES:
            raise PermissionDenied(
                f"fines are recorded by the department clerk or a department manager, "
                f"not by a {caller.role.replace('_', ' ')}"
            )
        if not _REFERENCE.match(request.reference):
            raise InvalidArgument("reference must be 1-80 letters, digits, '.', '_' or '-'")
        description = request.description.strip()
        if not description:
            raise InvalidArgument("description is required: say how the process was bypassed")
        if len(description) > 2000:
            raise InvalidArgument("description is longer than 2000 characters")
        occurred = _occurred_on(request.occurred_on)
        try:
            rules = rulebook.in_force(occurred)
        except rulebook.NoRuleSetInForce as err:
            raise FailedPrecondition(f"{err}: the regulation was not yet in force") from None
        person = await self._person(request.person_id)
        region = person.region_code or await self._head_office()
        penalty = gateway_pb2.Penalty(
            workflow_id=workflow_id(rule_id, request.reference),
            rule_id=rule_id,
            person_id=person.id,
            region_code=region,
            month=occurred.strftime("%Y-%m"),
            amount_fen=rules.fine_fen(rule_id),
            rule_version=rules.version,
        )
        try:
            await self._client.start_workflow(
                PenaltyWorkflow.run,
                PenaltyInput(
                    reference=request.reference,
                    rule_id=rule_id,
                    person_id=person.id,
                    region_code=region,
                    month=penalty.month,
                    reason=description,
                    recorded_by=caller.id,
                    rule_version=rules.version,
                ),
                id=penalty.workflow_id,
                task_queue=self._task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"{rule_id} fine: {person.name} ({request.reference})",
                static_details=description,
            )
        except WorkflowAlreadyStartedError:
            # Already fined and finished: the same case reported again is the same fine.
            pass
        return penalty

    async def _person(self, person_id: str) -> staff_pb2.Person:
        if not person_id:
            raise InvalidArgument("person_id is required: who went around the process?")
        try:
            person: staff_pb2.Person = await self._staff.GetPerson(
                staff_pb2.GetPersonRequest(id=person_id), timeout=3.0
            )
            return person
        except grpc.aio.AioRpcError as err:
            if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise NotFound(f"{person_id!r} is not in the staff directory") from None
            raise Unavailable(f"the staff service is unavailable: {err.details()}") from None

    async def _head_office(self) -> str:
        """Department-wide staff are booked to the head office region: ACC-1 keeps every fine
        in some region's ledger."""
        regions = await self._staff.ListRegions(staff_pb2.ListRegionsRequest(), timeout=3.0)
        for region in regions.regions:
            if region.tier == staff_pb2.REGION_TIER_HEAD_OFFICE:
                return str(region.code)
        raise FailedPrecondition("no head office region exists to book the fine to")


def _occurred_on(value: str) -> date:
    if not value:
        return today()
    occurred = parse_date(value, "occurred_on")
    if occurred > today():
        raise InvalidArgument(f"occurred_on {value} is in the future")
    return occurred
