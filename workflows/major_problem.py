"""Major-problem direct report (MI-1..MI-3, G-1).

A program crash, lost, duplicated or wrong data at a hospital is reported straight to its owner
by phone AND email at once (MI-2): a call to the problem owner, and the report form by email to
the owner, copied to the R&D leads, the quality office, the department managers, the assistant and
the region's managers (all found by role). Each channel is delivered and retried on its own.

Unacknowledged after the acknowledgement budget, the owner is called again; after the rule's
number of calls the next level is called (the technical service team lead, then the department
managers), like an incident tool's escalation policy. Status updates reach the reporter; the
problem is resolved only with a root cause and a fix, and one left unresolved past its working-
hours budget is escalated even though it was acknowledged. Both promises run on the shared SLA
clock (workflows/sla.py), so breach alerts and CsdSlaState behave as in every other process.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import CallInput, NotifyActivities
    from activities.staff import (
        Contact,
        ContactInput,
        RegionInput,
        StaffActivities,
    )
    from workflows import retry_policies, rulebook, search_attributes, sla
    from workflows.directory import people_in_role
    from workflows.lookups import lookup
    from workflows.mail import send_email

PROCESS = "major_problem"
REPORTED = "reported"
AWAITING_ACK = "awaiting_acknowledgement"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
MAX_TEXT = 4000
TEAM_LEAD = "technical_service_team_lead"
DEPARTMENT_MANAGER = "department_manager"


def workflow_id(reference: str) -> str:
    return f"major-problem-{reference}"


@dataclass
class MajorProblemInput:
    reference: str
    reporter_id: str
    region_code: str
    category: str  # program_crash, data_loss, data_duplication, wrong_data
    hospital: str
    product: str
    description: str
    rule_version: str
    evidence: list[str] = field(default_factory=list)


@dataclass
class AcknowledgeInput:
    actor_id: str
    note: str = ""


@dataclass
class StatusUpdateInput:
    actor_id: str
    note: str


@dataclass
class ResolveInput:
    actor_id: str
    root_cause: str
    fix: str


@dataclass
class MajorProblemEvent:
    at: str
    actor_id: str
    kind: str  # reported, called, escalated, acknowledged, update, resolved
    note: str = ""


@dataclass
class MajorProblemStatus:
    reference: str
    stage: str
    category: str
    hospital: str
    product: str
    region_code: str
    reporter_id: str
    rule_version: str
    owner_id: str = ""
    cc_ids: list[str] = field(default_factory=list)
    escalation_level: int = 0
    calls: list[str] = field(default_factory=list)  # "person#n", in the order placed
    called_ids: list[str] = field(default_factory=list)
    acknowledged_by: str = ""
    acknowledged_at: str = ""
    root_cause: str = ""
    fix: str = ""
    resolved_by: str = ""
    slas: list[sla.SlaView] = field(default_factory=list)
    history: list[MajorProblemEvent] = field(default_factory=list)


@workflow.defn
class MajorProblemWorkflow:
    """One directly reported major problem, from the report to its root cause and fix."""

    def __init__(self) -> None:
        self._status: MajorProblemStatus | None = None
        self._reporter: Contact | None = None
        self._owner: Contact | None = None
        self._cc: list[Contact] = []
        self._relayed = 0
        self._clocks: list[sla.SlaClock] = []
        self._form = ""

    @workflow.run
    async def run(self, input: MajorProblemInput) -> MajorProblemStatus:
        rules = rulebook.by_version(input.rule_version)
        status = MajorProblemStatus(
            reference=input.reference,
            stage=REPORTED,
            category=input.category,
            hospital=input.hospital,
            product=input.product,
            region_code=input.region_code,
            reporter_id=input.reporter_id,
            rule_version=input.rule_version,
        )
        self._status = status
        workflow.upsert_search_attributes(
            [
                search_attributes.PROCESS.value_set(PROCESS),
                search_attributes.REGION.value_set(input.region_code),
                search_attributes.STAGE.value_set(REPORTED),
                search_attributes.RULE_VERSION.value_set(input.rule_version),
            ]
        )
        self._record(input.reporter_id, REPORTED, input.description)
        reported_at = workflow.now()

        recipients = await lookup(
            StaffActivities.resolve_major_problem_recipients,
            RegionInput(region_code=input.region_code),
        )
        self._owner, self._cc = recipients.owner, recipients.cc
        self._reporter = await lookup(
            StaffActivities.get_contact,
            ContactInput(person_id=input.reporter_id),
        )
        status.owner_id = recipients.owner.id
        status.cc_ids = [c.id for c in recipients.cc]
        levels = await self._escalation_levels(recipients.owner)

        subject = f"{input.category.replace('_', ' ')} at {input.hospital} ({input.product})"
        ack_clock = sla.SlaClock(
            sla.SlaPolicy("acknowledgement", rules.major_problem_ack_budget),
            reference=input.reference, subject=subject, on_change=self._show_sla,
        )  # fmt: skip
        resolution_clock = sla.SlaClock(
            sla.SlaPolicy(
                "resolution", rules.major_problem_resolution_budget, clock=sla.WORKING_HOURS
            ),
            reference=input.reference, subject=subject, on_change=self._show_sla,
        )  # fmt: skip
        self._clocks = [ack_clock, resolution_clock]
        await ack_clock.start(reported_at)
        await resolution_clock.start(reported_at)
        status.slas = [ack_clock.view, resolution_clock.view]
        self._move_to(AWAITING_ACK, f"Calling {recipients.owner.name} and mailing the report form.")

        # MI-2: the call and the report form go out at once, each retried on its own.
        self._form = self._report_form(input)
        form = asyncio.create_task(
            self._email("report-form", [recipients.owner], recipients.cc, "report", self._form)
        )
        relay = asyncio.create_task(self._relay_updates())
        acked = asyncio.create_task(ack_clock.wait(self._acknowledged))
        resolved = asyncio.create_task(resolution_clock.wait(self._resolved))
        await self._escalate_until_acknowledged(levels, rules)
        await workflow.wait_condition(self._resolved)
        await asyncio.gather(form, acked, resolved, relay)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _escalation_levels(self, owner: Contact) -> list[list[Contact]]:
        """The owner, then the team lead (if not the owner), then the department managers."""
        levels: list[list[Contact]] = [[owner]]
        for role in (TEAM_LEAD, DEPARTMENT_MANAGER):
            people = await people_in_role(role)
            seen = {p.id for level in levels for p in level}
            people = [p for p in people if p.id not in seen]
            if people:
                levels.append(people)
        return levels

    async def _escalate_until_acknowledged(
        self, levels: list[list[Contact]], rules: rulebook.RuleSet
    ) -> None:
        status = self.status()
        for level_index, level in enumerate(levels):
            for attempt in range(1, rules.major_problem_calls_per_level + 1):
                if self._acknowledged() or self._resolved():
                    return
                status.escalation_level = level_index
                if level_index > 0 and attempt == 1:
                    names = ", ".join(p.name for p in level)
                    self._record("", "escalated", f"level {level_index}: {names}")
                    self._move_to(AWAITING_ACK, f"Unacknowledged: escalated to {names}.")
                    for person in level:
                        if person.id not in status.called_ids:
                            status.called_ids.append(person.id)
                    escalation = self._email(
                        f"escalation-{level_index}", level, [], "escalated: acknowledge now",
                        f"Nobody acknowledged this major problem; it is escalated to you.\n\n"
                        f"{self._form}",
                    )  # fmt: skip
                    await asyncio.gather(
                        escalation, *(self._call(person, attempt) for person in level)
                    )
                else:
                    await asyncio.gather(*(self._call(person, attempt) for person in level))
                try:
                    await workflow.wait_condition(
                        lambda: self._acknowledged() or self._resolved(),
                        timeout=rules.major_problem_ack_budget,
                    )
                except TimeoutError:
                    continue
                return
        if not (self._acknowledged() or self._resolved()):
            self._move_to(AWAITING_ACK, "Nobody acknowledged after the whole escalation chain.")
            await workflow.wait_condition(lambda: self._acknowledged() or self._resolved())

    async def _call(self, person: Contact, attempt: int) -> None:
        status = self.status()
        status.calls.append(f"{person.id}#{attempt}")
        if person.id not in status.called_ids:
            status.called_ids.append(person.id)
        self._record("", "called", f"{person.id} (call {attempt})")
        await workflow.execute_activity_method(
            NotifyActivities.place_call,
            CallInput(
                idempotency_key=f"{status.reference}:call:{person.id}:{attempt}",
                phone=person.phone,
                message=(
                    f"Major problem {status.reference}: {status.category.replace('_', ' ')} at "
                    f"{status.hospital}. Acknowledge it through csd-ops."
                ),
                reference=workflow.info().workflow_id,
            ),
            start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
            retry_policy=retry_policies.NOTIFICATION,
        )

    def _report_form(self, input: MajorProblemInput) -> str:
        assert self._owner is not None and self._reporter is not None
        evidence = "\n".join(f"  - {e}" for e in input.evidence) or "  (none)"
        form = (
            "MAJOR PROBLEM DIRECT REPORT (MI-2)\n\n"
            f"Reference:   {input.reference}\n"
            f"Category:    {input.category.replace('_', ' ')}\n"
            f"Hospital:    {input.hospital}\n"
            f"Product:     {input.product}\n"
            f"Region:      {input.region_code}\n"
            f"Reported by: {self._reporter.name} ({self._reporter.phone})\n"
            f"Reported at: {workflow.now().isoformat()}\n"
            f"Owner:       {self._owner.name}\n\n"
            f"Description:\n{input.description}\n\nEvidence:\n{evidence}\n"
        )
        return form

    async def _relay_updates(self) -> None:
        """Tell the reporter of every acknowledgement, update and the resolution, in order."""
        status = self.status()
        while True:
            await workflow.wait_condition(
                lambda: self._relayed < len(status.history) or self._resolved()
            )
            while self._relayed < len(status.history):
                index = self._relayed
                event = status.history[index]
                self._relayed += 1
                if event.kind not in (ACKNOWLEDGED, "update", RESOLVED):
                    continue
                assert self._reporter is not None and self._owner is not None
                cc = [*self._cc, self._owner] if event.kind == RESOLVED else []
                await self._email(
                    f"{index}-{event.kind}",
                    [self._reporter],
                    cc,
                    event.kind,
                    f"{event.kind.capitalize()} by {event.actor_id}:\n\n{event.note}",
                )
            if self._resolved() and self._relayed >= len(status.history):
                return

    async def _email(
        self, step: str, to: list[Contact], cc: list[Contact], what: str, body: str
    ) -> None:
        status = self.status()
        await send_email(
            key=f"{status.reference}:{step}",
            to=to,
            cc=cc,
            subject=(
                f"[MI {status.reference}] {status.category.replace('_', ' ')} at "
                f"{status.hospital} — {what}"
            ),
            body=body,
        )

    @workflow.query
    def status(self) -> MajorProblemStatus:
        if self._status is None:
            raise ApplicationError("the report has not started yet", type="FAILED_PRECONDITION")
        return self._status

    @workflow.update
    def acknowledge(self, input: AcknowledgeInput) -> MajorProblemStatus:
        status = self.status()
        status.acknowledged_by = input.actor_id
        status.acknowledged_at = workflow.now().isoformat()
        self._record(input.actor_id, ACKNOWLEDGED, input.note.strip())
        self._move_to(ACKNOWLEDGED, f"Acknowledged by {input.actor_id}; working on it.")
        self._keep("acknowledgement")
        return status

    @acknowledge.validator
    def _validate_acknowledge(self, input: AcknowledgeInput) -> None:
        status = self.status()
        self._require_responder(input.actor_id)
        if status.acknowledged_by:
            raise ApplicationError(
                f"already acknowledged by {status.acknowledged_by}", type="FAILED_PRECONDITION"
            )
        _bounded(input.note, "note")

    @workflow.update
    def post_update(self, input: StatusUpdateInput) -> MajorProblemStatus:
        self._record(input.actor_id, "update", input.note.strip())
        return self.status()

    @post_update.validator
    def _validate_post_update(self, input: StatusUpdateInput) -> None:
        self._require_responder(input.actor_id)
        self._require_open()
        if not input.note.strip():
            raise ApplicationError("an update needs a note", type="INVALID_ARGUMENT")
        _bounded(input.note, "note")

    @workflow.update
    def resolve(self, input: ResolveInput) -> MajorProblemStatus:
        status = self.status()
        status.root_cause, status.fix = input.root_cause.strip(), input.fix.strip()
        status.resolved_by = input.actor_id
        if not status.acknowledged_by:
            status.acknowledged_by = input.actor_id
            status.acknowledged_at = workflow.now().isoformat()
        self._record(
            input.actor_id, RESOLVED, f"Root cause: {status.root_cause}\nFix: {status.fix}"
        )
        self._move_to(RESOLVED, f"Resolved by {input.actor_id}: {status.fix}")
        self._keep("acknowledgement", "resolution")
        return status

    @resolve.validator
    def _validate_resolve(self, input: ResolveInput) -> None:
        self._require_responder(input.actor_id)
        self._require_open()
        if not input.root_cause.strip() or not input.fix.strip():
            raise ApplicationError(
                "a major problem is resolved only with its root cause and its fix (G-1)",
                type="INVALID_ARGUMENT",
            )
        _bounded(input.root_cause, "root_cause")
        _bounded(input.fix, "fix")

    def _require_responder(self, actor_id: str) -> None:
        status = self.status()
        if not status.owner_id:
            raise ApplicationError(
                "the report is still being routed; try again in a moment",
                type="FAILED_PRECONDITION",
            )
        if actor_id != status.owner_id and actor_id not in status.called_ids:
            raise ApplicationError(
                f"only the problem owner ({status.owner_id}) or someone the escalation has "
                "called may act on this report",
                type="PERMISSION_DENIED",
            )

    def _require_open(self) -> None:
        if self.status().stage == RESOLVED:
            raise ApplicationError("the problem is already resolved", type="FAILED_PRECONDITION")

    def _acknowledged(self) -> bool:
        return bool(self._status and self._status.acknowledged_by)

    def _resolved(self) -> bool:
        return bool(self._status and self._status.stage == RESOLVED)

    def _record(self, actor_id: str, kind: str, note: str) -> None:
        self.status().history.append(
            MajorProblemEvent(
                at=workflow.now().isoformat(), actor_id=actor_id, kind=kind, note=note
            )
        )

    def _move_to(self, stage: str, details: str) -> None:
        self.status().stage = stage
        workflow.upsert_search_attributes([search_attributes.STAGE.value_set(stage)])
        workflow.set_current_details(details)

    def _keep(self, *names: str) -> None:
        for clock in self._clocks:
            if clock.policy.name in names:
                clock.met()

    def _show_sla(self) -> None:
        sla.show(sla.worst(*self._clocks) if self._clocks else sla.OK)


def _bounded(text: str, what: str) -> None:
    if len(text) > MAX_TEXT:
        raise ApplicationError(f"{what} is longer than {MAX_TEXT}", type="INVALID_ARGUMENT")
