"""A customer complaint (CS-1, G-4): registered, assigned, tracked to closure on the SLA clock of
its severity; a serious complaint is analysed (root cause and action) before it closes. The
source's own procedure is not included; this is the department's until it is.

One complaint per reference (workflow id `cs1-<reference>`). Registered by anyone who hears it,
it goes to the region's customer service manager (who aims for zero complaints), a serious one to
the department managers too. The customer service manager or a department manager assigns it;
the assignee (or they) closes it with the resolution. The clock is in working time on the
company calendar, per severity (rule data), warned at three quarters; a breach alerts the
region's customer service manager and the department managers once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import (
        Contact,
        ContactInput,
        StaffActivities,
    )
    from workflows import regulation
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import after_working_time, lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, texts
    from workflows.regulation.readers import Reader

PROCESS = "complaint"
SEVERITIES = ("minor", "major", "serious")
SERIOUS = "serious"
REGISTERED, ASSIGNED, CLOSED = "registered", "assigned", "closed"
OWNER_ROLE, MANAGERS = "customer_service_manager", "department_manager"


def workflow_id(reference: str) -> str:
    return f"cs1-{reference}"


@dataclass
class ComplaintInput:
    reference: str
    hospital: str
    region_code: str
    severity: str
    what_happened: str
    registered_by: str
    rule_version: str


def validate(input: ComplaintInput, rules: regulation.RuleSet) -> None:
    texts.reference(input.reference)
    texts.required(input.hospital, "hospital", limit=texts.LINE)
    if input.severity not in rules.complaint_close_within:
        raise InvalidInput(
            f"severity {input.severity!r}: use {', '.join(rules.complaint_close_within)}"
        )
    texts.required(input.what_happened, "what_happened", why="say what the customer reports")


@dataclass
class AssignInput:
    actor_id: str
    assignee_id: str
    note: str = ""


@dataclass
class CloseInput:
    actor_id: str
    resolution: str
    root_cause: str = ""  # required for a serious complaint (CS-1: analysed)
    action: str = ""


@dataclass
class ComplaintStatus(CaseRecord):
    reference: str
    hospital: str
    region_code: str
    severity: str
    registered_by: str
    rule_version: str
    owners: list[str] = field(default_factory=list)  # who assigns: the CSM, the DMs
    assignee_id: str = ""
    assignments: list[str] = field(default_factory=list)  # everyone it was given to, in order
    close_by: str = ""
    closed_by: str = ""
    resolution: str = ""
    root_cause: str = ""
    action: str = ""
    stage: str = REGISTERED


def may_read(status: ComplaintStatus, reader: Reader) -> bool:
    return (
        reader.id in (status.registered_by, status.assignee_id)
        or reader.id in status.owners
        or reader.role in (MANAGERS, "department_assistant")
    )


@workflow.defn
class ComplaintWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[ComplaintStatus] | None = None

    @workflow.run
    async def run(self, input: ComplaintInput) -> ComplaintStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input, rules)
        status = ComplaintStatus(
            input.reference,
            input.hospital.strip(),
            input.region_code,
            input.severity,
            input.registered_by,
            input.rule_version,
        )
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"CS-1 {input.reference}: {input.severity} complaint from {status.hospital}",
            subject=lambda what: f"[CS-1 {input.reference}] {what}",
            words=lambda stage: {
                REGISTERED: f"A {input.severity} complaint; to be assigned, closed by "
                f"{status.close_by}.",
                ASSIGNED: f"With {status.assignee_id}; to close by {status.close_by}.",
                CLOSED: f"Closed by {status.closed_by}: {status.resolution}",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        registered_at = workflow.now()
        budget = rules.complaint_close_within[input.severity]
        close_by = await after_working_time(registered_at, budget)
        warn_at = await after_working_time(registered_at, budget * 3 / 4)
        status.close_by = regulation.shown(close_by)
        csms = await people_in_role(OWNER_ROLE, input.region_code)
        managers = await people_in_role(MANAGERS)
        status.owners = [p.id for p in [*csms, *managers]]
        registrant = await lookup(StaffActivities.get_contact, ContactInput(input.registered_by))
        case.record(input.registered_by, REGISTERED, input.what_happened.strip())
        await case.email(
            "registered",
            Mail(
                to=[*csms, *(managers if input.severity == SERIOUS else [])],
                cc=[registrant],
                what=f"A {input.severity} complaint to assign",
                body=(
                    f"{registrant.name} registers a {input.severity} complaint from "
                    f"{status.hospital}:\n\n{input.what_happened.strip()}\n\nIt is to be closed "
                    f"by {status.close_by} (CS-1)"
                    + (", analysed first: root cause and action." if input.severity == SERIOUS
                       else ".")
                ),
            ),
        )  # fmt: skip
        clock = case.clock(
            "closure",
            promise=(
                f"a {input.severity} complaint is closed within "
                f"{budget.total_seconds() / 3600:g} working hours of its registration (CS-1)"
            ),
            started_at=registered_at,
            warn_at=warn_at,
            breach_at=close_by,
            warn_to=csms,
            breach_to=[*csms, *managers],
        )
        await asyncio.gather(
            clock.wait(lambda: status.stage == CLOSED),
            self._tell_assignees(case, csms, input.what_happened.strip()),
        )
        await case.email(
            "closed",
            Mail(
                to=[registrant],
                cc=[*csms, *(managers if input.severity == SERIOUS else [])],
                what="Complaint closed",
                body=f"{status.hospital}: {status.resolution}"
                + (f"\n\nRoot cause: {status.root_cause}\nAction: {status.action}"
                   if status.root_cause else ""),
            ),
        )  # fmt: skip
        return status

    async def _tell_assignees(
        self, case: CaseFile[ComplaintStatus], csms: list[Contact], what_happened: str
    ) -> None:
        """Each assignee hears of the complaint when it is given to them (it may be passed on)."""
        status = case.status
        told = 0

        def news() -> bool:
            return status.stage == CLOSED or len(status.assignments) > told

        while True:
            await workflow.wait_condition(news)
            if status.stage == CLOSED:
                return
            told = len(status.assignments)
            assignee = await lookup(
                StaffActivities.get_contact, ContactInput(status.assignments[-1])
            )
            await case.email(
                f"assigned-{len(status.assignments)}",
                Mail(
                    to=[assignee],
                    cc=csms,
                    what="A complaint assigned to you",
                    body=f"{status.hospital}: {what_happened}\n\nClose it by {status.close_by} "
                    "with the resolution (CS-1).",
                ),
            )

    @workflow.update
    def assign(self, input: AssignInput) -> ComplaintStatus:
        case, status = self._cases()
        status.assignee_id = input.assignee_id
        status.assignments.append(input.assignee_id)
        case.record(input.actor_id, ASSIGNED, f"to {input.assignee_id}. {input.note}".strip())
        case.move_to(ASSIGNED)
        return status

    @assign.validator
    def _validate_assign(self, input: AssignInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if not status.owners:
                raise NotNow("the complaint is still being registered; try again in a moment")
            if input.actor_id not in status.owners:
                raise NotAllowed(
                    f"{input.actor_id} may not assign this complaint: the region's customer "
                    "service manager or a department manager does (CS-1)"
                )
            if status.stage == CLOSED:
                raise NotNow("the complaint is closed")
            texts.required(input.assignee_id, "assignee_id", why="name who handles it")
            texts.bounded(input.note, "note")

    @workflow.update
    def close(self, input: CloseInput) -> ComplaintStatus:
        case, status = self._cases()
        status.closed_by = input.actor_id
        status.resolution = input.resolution.strip()
        status.root_cause, status.action = input.root_cause.strip(), input.action.strip()
        case.record(input.actor_id, CLOSED, status.resolution)
        case.move_to(CLOSED)
        return status

    @close.validator
    def _validate_close(self, input: CloseInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if status.stage == CLOSED:
                raise NotNow(f"already closed by {status.closed_by}")
            if status.stage != ASSIGNED:
                raise NotNow("the complaint is not assigned yet: assign it first (CS-1)")
            if input.actor_id not in (status.assignee_id, *status.owners):
                raise NotAllowed(
                    f"{input.actor_id} may not close this complaint: its assignee, the region's "
                    "customer service manager or a department manager does (CS-1)"
                )
            texts.required(input.resolution, "resolution", why="say how it was resolved")
            if status.severity == SERIOUS:
                analysed = "a serious complaint is analysed before it closes (CS-1)"
                texts.required(input.root_cause, "root_cause", why=analysed)
                texts.required(input.action, "action", why=analysed)

    @workflow.query
    def status(self) -> ComplaintStatus:
        return opened(self._case, "the complaint").status

    def _cases(self) -> tuple[CaseFile[ComplaintStatus], ComplaintStatus]:
        case = opened(self._case, "the complaint")
        return case, case.status
