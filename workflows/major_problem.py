"""Major-problem direct report (MI-1..MI-3, G-1).

A program crash, lost, duplicated or wrong data at a hospital is reported straight to its owner
by phone AND email at once (MI-2): a call to the problem owner, and the report form by email to
the owner, copied to the R&D leads, the quality office, the department managers, the assistant and
the region's managers (all found by role). Each channel is delivered and retried on its own, and
one refused for good is recorded on the case and alerted (the case file's policy); the report
goes on.

Unacknowledged within the rule set's acknowledgement budget, the owner is called again; after the
rule's number of calls the next level is called (the technical service team lead, then the
department managers), like an incident tool's escalation policy. Status updates reach the
reporter; the problem is resolved only with a root cause and a fix, and one left unresolved past
its working-hours budget is escalated even though it was acknowledged. A person called who does
not acknowledge within the budget has not returned an on-call call: beyond the rule, csd-ops
opens a candidate OC-1 miss for their manager to verify (workflows/on_call_miss.py), once per
person and problem; nobody is fined for it unless the manager verifies it. Both promises are SLA
clocks on the case file (workflows/sla.py): the acknowledgement one 24x7, the resolution one on
the company calendar, whose deadline the staff service computes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.staff import (
        CalendarActivities,
        Contact,
        ContactInput,
        RegionInput,
        StaffActivities,
        WorkingTimeInput,
    )
    from workflows import regulation, sla
    from workflows.case_file import CaseEvent, CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup, people_in_role
    from workflows.on_call_miss import MissInput, OnCallMissWorkflow
    from workflows.on_call_miss import workflow_id as on_call_miss_id
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, texts
    from workflows.regulation.readers import Reader

PROCESS = "major_problem"
REPORTED = "reported"
AWAITING_ACK = "awaiting_acknowledgement"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
# Recorded steps besides the stages.
CALLED, ESCALATED, UPDATE = "called", "escalated", "update"
CANDIDATE_MISS = "candidate_on_call_miss"
# Patch (README: patches and their retirement): an unacknowledged call opens a candidate OC-1
# miss for the called person's manager to verify.
CANDIDATE_MISSES = "mi-candidate-on-call-misses"

TEAM_LEAD = "technical_service_team_lead"
DEPARTMENT_MANAGER = "department_manager"

# Evidence is a list of file references; a report with more is a folder, not a list.
MAX_EVIDENCE = 20
# The hospital is in the subject of every email about the report, "[MI <reference>] <category>
# at <hospital> — <step>": with an 80-character reference this stays within the 300 characters
# the notify service takes.
MAX_HOSPITAL = 120


def workflow_id(reference: str) -> str:
    return f"major-problem-{reference}"


@dataclass
class MajorProblemInput:
    reference: str
    reporter_id: str
    region_code: str
    category: str  # one of the rule set's major_problem_categories
    hospital: str
    product: str
    description: str
    rule_version: str
    evidence: list[str] = field(default_factory=list)


def validate(input: MajorProblemInput, rules: regulation.RuleSet) -> None:
    """MI-1's report as the rule takes it; the gateway refuses early with the same words."""
    if input.category not in rules.major_problem_categories:
        raise InvalidInput(
            f"category {input.category!r} is not a major problem (MI-1): use one of "
            f"{', '.join(rules.major_problem_categories)}"
        )
    hospital = texts.required(input.hospital, "hospital", limit=MAX_HOSPITAL)
    if "\n" in hospital or "\r" in hospital:
        raise InvalidInput("hospital must be one line: it is in the subject of every email")
    texts.required(input.product, "product", limit=texts.LINE)
    texts.required(input.description, "description", why="say what happened, where and since when")
    if len(input.evidence) > MAX_EVIDENCE:
        raise InvalidInput(
            f"at most {MAX_EVIDENCE} evidence references ({len(input.evidence)} given)"
        )
    for reference in input.evidence:
        texts.required(reference, "evidence", limit=texts.LINE)


@dataclass
class AcknowledgeInput:
    actor_id: str
    note: str = ""


def validate_acknowledge(input: AcknowledgeInput) -> None:
    texts.bounded(input.note, "note")


@dataclass
class StatusUpdateInput:
    actor_id: str
    note: str


def validate_update(input: StatusUpdateInput) -> None:
    texts.required(input.note, "note", why="an update says what changed")


@dataclass
class ResolveInput:
    actor_id: str
    root_cause: str
    fix: str


def validate_resolve(input: ResolveInput) -> None:
    if not input.root_cause.strip() or not input.fix.strip():
        raise InvalidInput("a major problem is resolved only with its root cause and its fix (G-1)")
    texts.bounded(input.root_cause, "root_cause")
    texts.bounded(input.fix, "fix")


@dataclass
class MajorProblemStatus(CaseRecord):
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
    # The people whose unacknowledged calls became candidate OC-1 misses.
    candidate_misses: list[str] = field(default_factory=list)
    acknowledged_by: str = ""
    acknowledged_at: str = ""
    root_cause: str = ""
    fix: str = ""
    resolved_by: str = ""


READERS_BY_ROLE = ("department_manager", "technical_service_team_lead")


def may_read(status: MajorProblemStatus, reader: Reader) -> bool:
    """The reporter, the owner, everyone copied or called (MI-2); the managers, the team lead."""
    named = {status.reporter_id, status.owner_id, *status.cc_ids, *status.called_ids}
    return reader.id in named or reader.role in READERS_BY_ROLE


def _category(category: str) -> str:
    return category.replace("_", " ")


@workflow.defn
class MajorProblemWorkflow:
    """One directly reported major problem, from the report to its root cause and fix."""

    def __init__(self) -> None:
        self._case: CaseFile[MajorProblemStatus] | None = None
        self._reporter: Contact | None = None
        self._owner: Contact | None = None
        self._cc: list[Contact] = []
        self._clocks: dict[str, sla.SlaClock] = {}
        self._routed = False
        self._form = ""

    @workflow.run
    async def run(self, input: MajorProblemInput) -> MajorProblemStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input, rules)
        status = MajorProblemStatus(
            reference=input.reference,
            stage=REPORTED,
            category=input.category,
            hospital=input.hospital.strip(),
            product=input.product.strip(),
            region_code=input.region_code,
            reporter_id=input.reporter_id,
            rule_version=input.rule_version,
        )
        what = f"{_category(input.category)} at {status.hospital}"
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"MI {input.reference}: {what} ({status.product})",
            subject=lambda step: f"[MI {input.reference}] {what} — {step}",
            words=self._words,
            announcements=self._announcements,
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        reported_at = workflow.now()

        recipients = await lookup(
            StaffActivities.resolve_major_problem_recipients,
            RegionInput(region_code=input.region_code),
        )
        self._reporter = await lookup(
            StaffActivities.get_contact, ContactInput(person_id=input.reporter_id)
        )
        leads = await people_in_role(TEAM_LEAD)
        managers = await people_in_role(DEPARTMENT_MANAGER)
        self._owner, self._cc = recipients.owner, recipients.cc
        status.owner_id = recipients.owner.id
        status.cc_ids = [c.id for c in recipients.cc]
        case.record(input.reporter_id, REPORTED, input.description.strip())
        await self._start_clocks(rules, reported_at, breach_to=[*leads, *managers])
        self._routed = True
        case.move_to(AWAITING_ACK)

        # MI-2: the call and the report form go out at once, each retried on its own.
        self._form = self._report_form(input)
        form = asyncio.create_task(
            case.email(
                "report-form",
                Mail(to=[recipients.owner], cc=recipients.cc, what="report", body=self._form),
            )
        )
        relay = asyncio.create_task(self._relay_updates())
        timed = [
            asyncio.create_task(self._clocks["acknowledgement"].wait(self._acknowledged)),
            asyncio.create_task(self._clocks["resolution"].wait(self._resolved)),
        ]
        await self._escalate_until_acknowledged(_levels(recipients.owner, leads, managers), rules)
        await workflow.wait_condition(self._resolved)
        await asyncio.gather(form, relay, *timed)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _start_clocks(
        self, rules: regulation.RuleSet, reported_at: datetime, *, breach_to: Sequence[Contact]
    ) -> None:
        """Both promises, with the instants they are timed by: acknowledgement 24x7 from the
        report, resolution in working time on the company calendar."""
        case, _ = self._cases()
        ack = rules.major_problem_ack_budget
        ack_deadline = reported_at + ack
        # The repeated call is the owner's warning (MI-2), so the clock alerts only the breach.
        self._clocks["acknowledgement"] = case.clock(
            "acknowledgement",
            promise=(
                f"the owner acknowledges a major problem within {_duration(ack)}, 24x7; "
                f"unacknowledged, the owner is called again every {_duration(ack)}, and after "
                f"{rules.major_problem_calls_per_level} calls the next level is called (MI-2)"
            ),
            started_at=reported_at,
            warn_at=ack_deadline,
            breach_at=ack_deadline,
            breach_to=breach_to,
        )
        budget = rules.major_problem_resolution_budget
        deadline = await lookup(
            CalendarActivities.add_working_time,
            WorkingTimeInput(
                start=regulation.shown(reported_at), minutes=int(budget.total_seconds() // 60)
            ),
        )
        resolve_by = datetime.fromisoformat(deadline.at)
        calendar = (
            "on the company calendar"
            if deadline.official
            else "on statutory holidays only (the company has published no schedule for that year)"
        )
        self._clocks["resolution"] = case.clock(
            "resolution",
            promise=(
                f"a major problem is resolved, with its root cause and fix, within "
                f"{_duration(budget, working=True)} of its report, {calendar} (G-1)"
            ),
            started_at=reported_at,
            warn_at=resolve_by,
            breach_at=resolve_by,
            breach_to=breach_to,
        )

    async def _escalate_until_acknowledged(
        self, levels: list[list[Contact]], rules: regulation.RuleSet
    ) -> None:
        case, status = self._cases()
        for level_index, level in enumerate(levels):
            for attempt in range(1, rules.major_problem_calls_per_level + 1):
                if self._acknowledged():
                    return
                status.escalation_level = level_index
                sends: list[Coroutine[Any, Any, object]] = [
                    self._call(person, attempt) for person in level
                ]
                if level_index > 0 and attempt == 1:
                    names = ", ".join(p.name for p in level)
                    for person in level:
                        if person.id not in status.called_ids:
                            status.called_ids.append(person.id)
                    case.record("", ESCALATED, f"level {level_index}: {names}")
                    case.say(f"Unacknowledged: escalated to {names}.")
                    sends.append(
                        case.email(
                            f"escalation-{level_index}",
                            Mail(
                                to=level,
                                what="escalated: acknowledge now",
                                body=(
                                    "Nobody acknowledged this major problem; it is escalated "
                                    f"to you.\n\n{self._form}"
                                ),
                            ),
                        )
                    )
                called_at = workflow.now()
                await asyncio.gather(*sends)
                try:
                    await workflow.wait_condition(
                        self._acknowledged, timeout=rules.major_problem_ack_budget
                    )
                except TimeoutError:
                    if workflow.patched(CANDIDATE_MISSES):
                        await self._candidate_misses(level, called_at, rules)
                    continue
                return
        if not self._acknowledged():
            case.say("Nobody acknowledged after the whole escalation chain.")
            await workflow.wait_condition(self._acknowledged)

    async def _candidate_misses(
        self, level: list[Contact], called_at: datetime, rules: regulation.RuleSet
    ) -> None:
        """OC-1, beyond the rule: each person called and silent for the whole acknowledgement
        budget has a candidate miss, once, for their manager to verify. The reporter (who may
        be the owner) and anyone without a manager to verify are left out."""
        case, status = self._cases()
        for person in level:
            if person.id in status.candidate_misses or person.id == status.reporter_id:
                continue
            if not person.manager_id:
                continue
            reference = f"{status.reference}-{person.id}"
            budget = _duration(rules.major_problem_ack_budget)
            miss = MissInput(
                reference=reference,
                person_id=person.id,
                called_by=status.reporter_id,
                called_at=regulation.shown(called_at),
                what=(
                    f"major problem {status.reference}: csd-ops called on the reporter's behalf "
                    f"and it was not acknowledged within {budget} (a candidate miss: verify it "
                    "only if the call was really missed)"
                ),
                rule_version=status.rule_version,
            )
            try:
                await workflow.start_child_workflow(
                    OnCallMissWorkflow.run,
                    miss,
                    id=on_call_miss_id(reference),
                    # The manager's verification outlives the problem.
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
            except WorkflowAlreadyStartedError:
                pass
            status.candidate_misses.append(person.id)
            case.record("", CANDIDATE_MISS, f"{person.id}: {on_call_miss_id(reference)}")

    async def _call(self, person: Contact, attempt: int) -> None:
        case, status = self._cases()
        status.calls.append(f"{person.id}#{attempt}")
        if person.id not in status.called_ids:
            status.called_ids.append(person.id)
        case.record("", CALLED, f"{person.id} (call {attempt})")
        await case.call(
            f"call:{person.id}:{attempt}",
            person,
            f"Major problem {status.reference}: {_category(status.category)} at "
            f"{status.hospital}. Acknowledge it through csd-ops.",
        )

    def _report_form(self, input: MajorProblemInput) -> str:
        status = self._cases()[1]
        assert self._owner is not None and self._reporter is not None
        evidence = "\n".join(f"  - {e.strip()}" for e in input.evidence) or "  (none)"
        return (
            "MAJOR PROBLEM DIRECT REPORT (MI-2)\n\n"
            f"Reference:   {input.reference}\n"
            f"Category:    {_category(input.category)}\n"
            f"Hospital:    {status.hospital}\n"
            f"Product:     {status.product}\n"
            f"Region:      {input.region_code}\n"
            f"Reported by: {self._reporter.name} ({self._reporter.phone})\n"
            f"Reported at: {status.history[0].at}\n"
            f"Owner:       {self._owner.name}\n\n"
            f"Description:\n{input.description.strip()}\n\nEvidence:\n{evidence}\n"
        )

    async def _relay_updates(self) -> None:
        """Tell the reporter of every acknowledgement, update and the resolution, in order
        (the announcements of those steps)."""
        case, _ = self._cases()
        while True:
            await workflow.wait_condition(lambda: case.has_unsent() or self._resolved())
            await case.send_queued()
            if self._resolved() and not case.has_unsent():
                return

    def _cases(self) -> tuple[CaseFile[MajorProblemStatus], MajorProblemStatus]:
        case = opened(self._case, "the report")
        return case, case.status

    @workflow.query
    def status(self) -> MajorProblemStatus:
        return self._cases()[1]

    @workflow.update
    def acknowledge(self, input: AcknowledgeInput) -> MajorProblemStatus:
        case, status = self._cases()
        status.acknowledged_by = input.actor_id
        status.acknowledged_at = case.now()
        case.record(input.actor_id, ACKNOWLEDGED, input.note.strip())
        case.move_to(ACKNOWLEDGED)
        self._clocks["acknowledgement"].met()
        return status

    @acknowledge.validator
    def _validate_acknowledge(self, input: AcknowledgeInput) -> None:
        with rule_refusals():
            self._require_responder(input.actor_id)
            status = self._cases()[1]
            if status.acknowledged_by:
                raise NotNow(f"already acknowledged by {status.acknowledged_by}")
            validate_acknowledge(input)

    @workflow.update
    def post_update(self, input: StatusUpdateInput) -> MajorProblemStatus:
        case, status = self._cases()
        case.record(input.actor_id, UPDATE, input.note.strip())
        return status

    @post_update.validator
    def _validate_post_update(self, input: StatusUpdateInput) -> None:
        with rule_refusals():
            self._require_responder(input.actor_id)
            self._require_open()
            validate_update(input)

    @workflow.update
    def resolve(self, input: ResolveInput) -> MajorProblemStatus:
        case, status = self._cases()
        status.root_cause, status.fix = input.root_cause.strip(), input.fix.strip()
        status.resolved_by = input.actor_id
        if not status.acknowledged_by:
            status.acknowledged_by = input.actor_id
            status.acknowledged_at = case.now()
        case.record(input.actor_id, RESOLVED, f"Root cause: {status.root_cause}\nFix: {status.fix}")
        case.move_to(RESOLVED)
        for clock in self._clocks.values():
            clock.met()
        return status

    @resolve.validator
    def _validate_resolve(self, input: ResolveInput) -> None:
        with rule_refusals():
            self._require_responder(input.actor_id)
            self._require_open()
            validate_resolve(input)

    def _require_responder(self, actor_id: str) -> None:
        status = self._cases()[1]
        if not self._routed:
            raise NotNow("the report is still being routed; try again in a moment")
        if actor_id != status.owner_id and actor_id not in status.called_ids:
            raise NotAllowed(
                f"only the problem owner ({status.owner_id}) or someone the escalation has "
                "called may act on this report"
            )

    def _require_open(self) -> None:
        if self._cases()[1].stage == RESOLVED:
            raise NotNow("the problem is already resolved")

    def _acknowledged(self) -> bool:
        return bool(self._case and self._cases()[1].acknowledged_by)

    def _resolved(self) -> bool:
        return bool(self._case and self._cases()[1].stage == RESOLVED)

    def _words(self, stage: str) -> str:
        """Each stage in plain words, for the Web UI."""
        status = self._cases()[1]
        owner = self._owner.name if self._owner else "the owner"
        return {
            REPORTED: "Routing the report to its owner.",
            AWAITING_ACK: f"Calling {owner} and mailing the report form.",
            ACKNOWLEDGED: (
                f"Acknowledged by {status.acknowledged_by}; working on the root cause and fix."
            ),
            RESOLVED: f"Resolved by {status.resolved_by}: {status.fix}",
        }.get(stage, stage)

    def _announcements(self, event: CaseEvent) -> Sequence[Mail]:
        """The reporter hears of each acknowledgement, update and the resolution; everyone the
        report form went to hears of the resolution too."""
        reporter, owner = self._reporter, self._owner
        if reporter is None or owner is None:
            return ()
        by = f"{event.kind.capitalize()} by {event.actor_id}"
        if event.kind in (ACKNOWLEDGED, UPDATE):
            return [Mail([reporter], (), event.kind, f"{by}:\n\n{event.note}")]
        if event.kind == RESOLVED:
            return [Mail([reporter], [*self._cc, owner], event.kind, f"{by}:\n\n{event.note}")]
        return ()


def _levels(owner: Contact, leads: list[Contact], managers: list[Contact]) -> list[list[Contact]]:
    """The owner, then the team lead (if not the owner), then the department managers."""
    levels: list[list[Contact]] = [[owner]]
    for people in (leads, managers):
        seen = {p.id for level in levels for p in level}
        level = [p for p in people if p.id not in seen]
        if level:
            levels.append(level)
    return levels


def _duration(span: timedelta, *, working: bool = False) -> str:
    minutes = int(span.total_seconds() // 60)
    unit = "working " if working else ""
    if minutes % 60:
        return f"{minutes} {unit}minutes"
    return f"{minutes // 60:g} {unit}hour" + ("s" if minutes != 60 else "")
