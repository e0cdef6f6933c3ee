"""Gateway handling of fines imposed under a rule (XA-1 bypass, and later WR-4, AT-2, MI-3)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from csd.gateway.v1 import gateway_pb2
from csd.staff.v1 import staff_pb2

from services.gateway.directory import LOOKUP_DEADLINE_SECONDS, ask_staff
from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.references import business_reference
from services.gateway.workflow_starts import start_once
from services.runtime.dates import parse_date, today
from services.runtime.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from workflows import regulation
from workflows.penalty import PenaltyInput, PenaltyWorkflow, validate, workflow_id

# ORG-2: the clerk keeps penalties; a department manager may impose one too.
MAY_RECORD_FINES = frozenset({"department_clerk", "department_manager"})


def _same_case(input: PenaltyInput) -> tuple[str, str, str]:
    # Who is fined, for which month, under which rule. Reported again in other words or by
    # someone else, it is still the same case and the same single fine.
    return (input.rule_id, input.person_id, input.month)


class FineReport(Protocol):
    """What every report of a finable act says (the request messages share these fields)."""

    reference: str
    person_id: str
    occurred_on: str
    description: str


class PenaltyGateway(ProcessGateway):
    """Start the workflow that records and announces a fine."""

    async def report_assistance_bypass(
        self, request: gateway_pb2.ReportAssistanceBypassRequest, caller: Caller
    ) -> gateway_pb2.Penalty:
        return await self._fine("XA-1", request, caller)

    async def report_unreported_major_problem(
        self, request: gateway_pb2.ReportUnreportedMajorProblemRequest, caller: Caller
    ) -> gateway_pb2.Penalty:
        return await self._fine("MI-3", request, caller)

    async def _fine(self, rule_id: str, request: FineReport, caller: Caller) -> gateway_pb2.Penalty:
        if caller.role not in MAY_RECORD_FINES:
            raise PermissionDenied(
                f"fines are recorded by the department clerk or a department manager, "
                f"not by a {caller.role.replace('_', ' ')}"
            )
        business_reference(request.reference)
        description = request.description.strip()
        occurred = _occurred_on(request.occurred_on)
        try:
            rules = regulation.in_force(occurred)
            rules.fine_fen(rule_id)
        except regulation.NoRuleSetInForce as err:
            raise FailedPrecondition(f"{err}: the regulation was not yet in force") from None
        except regulation.UnknownRule as err:
            raise FailedPrecondition(f"{err}: no fine can be recorded under it") from None
        fine = PenaltyInput(
            reference=request.reference,
            rule_id=rule_id,
            person_id=request.person_id,
            region_code="",
            month=occurred.strftime("%Y-%m"),
            reason=description,
            recorded_by=caller.id,
            rule_version=rules.version,
        )
        validate(fine, rules)
        person = await self._person(request.person_id)
        fine.person_id = person.id
        fine.region_code = person.region_code or await self._head_office()
        wf_id = workflow_id(rule_id, request.reference)
        started = await start_once(
            self._client,
            PenaltyWorkflow.run,
            fine,
            id=wf_id,
            task_queue=self._task_queue,
            summary=f"{rule_id} fine: {person.name} ({request.reference})",
            details=description,
            request_key=_same_case,
            conflict=(
                f"reference {request.reference} is already used for a different request: "
                f"a {rule_id} fine for someone else or another month; "
                "use a new reference for a new case"
            ),
            give_up_after=self._timeout,
        )
        # The fine as first recorded, even when this report is a retry of it.
        first = started.input
        return gateway_pb2.Penalty(
            workflow_id=wf_id,
            rule_id=rule_id,
            person_id=first.person_id,
            region_code=first.region_code,
            month=first.month,
            amount_fen=regulation.by_version(first.rule_version).fine_fen(rule_id),
            rule_version=first.rule_version,
        )

    async def _person(self, person_id: str) -> staff_pb2.Person:
        if not person_id:
            raise InvalidArgument("person_id is required: whom is the fine for?")
        person: staff_pb2.Person = await ask_staff(
            self._staff.GetPerson(
                staff_pb2.GetPersonRequest(id=person_id), timeout=LOOKUP_DEADLINE_SECONDS
            ),
            purpose="look up the person to fine",
            missing=NotFound(f"{person_id!r} is not in the staff directory"),
        )
        return person


def _occurred_on(value: str) -> date:
    if not value:
        return today()
    occurred = parse_date(value, "occurred_on")
    if occurred > today():
        raise InvalidArgument(f"occurred_on {value} is in the future")
    return occurred
