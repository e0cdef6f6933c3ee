"""XA-1 cross-department assistance.

Any help needed from another department goes to the department assistant as a request, copied to
the region's technical service and customer service managers; the assistant coordinates it:
accepts it, hands it to the other department and closes it. Only the coordinator may move it on,
and every step is announced by email. Unaccepted, the coordinator is reminded once per the rule
set's interval, at most its number of times; the acceptance promise is on the SLA clock (warning
from the first reminder, met on acceptance).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import AssistanceRouteInput, Contact, ContactInput, StaffActivities
    from workflows import regulation, sla
    from workflows.case_file import CaseEvent, CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, texts
    from workflows.regulation.readers import Reader

PROCESS = "assistance"

SUBMITTED = "submitted"
AWAITING_COORDINATOR = "awaiting_coordinator"
COORDINATING = "coordinating"
HANDED_OFF = "handed_off"
CLOSED = "closed"

MAX_HAND_OFFS = 20
# Every email about the request has the subject "[XA-1 <reference>] <subject> — <step>": with
# an 80-character reference this stays within the 300 characters the notify service takes.
MAX_SUBJECT = 190


def workflow_id(reference: str) -> str:
    """The business key of a request as its workflow id."""
    return f"assistance-{reference}"


@dataclass
class AssistanceInput:
    reference: str
    requester_id: str
    region_code: str
    target_department: str
    subject: str
    description: str
    rule_version: str


def validate(input: AssistanceInput, rules: regulation.RuleSet) -> None:
    """XA-1's request as the rule takes it; the gateway refuses early with the same words."""
    texts.required(input.target_department, "target_department", limit=80)
    subject = texts.required(input.subject, "subject", limit=MAX_SUBJECT)
    if "\n" in subject or "\r" in subject:
        raise InvalidInput("subject must be one line: it is the subject of every email")
    texts.required(input.description, "description", limit=texts.DOCUMENT)


@dataclass
class AcceptInput:
    actor_id: str
    note: str = ""


@dataclass
class HandOffInput:
    actor_id: str
    handed_to: str
    note: str = ""


def validate_hand_off(input: HandOffInput) -> None:
    texts.required(
        input.handed_to,
        "handed_to",
        limit=texts.LINE,
        why="say who in the other department took it over",
    )
    texts.bounded(input.note, "note")


@dataclass
class CloseInput:
    actor_id: str
    resolution: str


def validate_close(input: CloseInput) -> None:
    texts.required(input.resolution, "resolution", why="a request closes with its resolution")


@dataclass
class AssistanceStatus(CaseRecord):
    reference: str
    stage: str
    requester_id: str
    region_code: str
    target_department: str
    subject: str
    rule_version: str
    coordinator_id: str = ""
    cc_ids: list[str] = field(default_factory=list)
    handed_to: str = ""
    resolution: str = ""
    reminders: int = 0


# Who reads any case of its kind, beside the people it names.
READERS_BY_ROLE = ("department_manager",)


def may_read(status: AssistanceStatus, reader: Reader) -> bool:
    """The people the request concerns: requester, coordinator, those copied; the managers."""
    named = {status.requester_id, status.coordinator_id, *status.cc_ids}
    return reader.id in named or reader.role in READERS_BY_ROLE


@workflow.defn
class AssistanceWorkflow:
    """One cross-department assistance request, from submission to closure."""

    def __init__(self) -> None:
        self._case: CaseFile[AssistanceStatus] | None = None
        self._coordinator: Contact | None = None
        self._cc: list[Contact] = []
        self._requester: Contact | None = None
        self._acceptance: sla.SlaClock | None = None

    @workflow.run
    async def run(self, input: AssistanceInput) -> AssistanceStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input, rules)
        status = AssistanceStatus(
            reference=input.reference,
            stage=SUBMITTED,
            requester_id=input.requester_id,
            region_code=input.region_code,
            target_department=input.target_department,
            subject=input.subject,
            rule_version=input.rule_version,
        )
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"XA-1 {input.reference}: {input.subject}",
            subject=lambda what: f"[XA-1 {input.reference}] {input.subject} — {what}",
            words=self._words,
            announcements=self._announcements,
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        submitted_at = workflow.now()
        route = await lookup(
            StaffActivities.resolve_assistance_route,
            AssistanceRouteInput(region_code=input.region_code),
        )
        self._requester = await lookup(
            StaffActivities.get_contact, ContactInput(person_id=input.requester_id)
        )
        self._coordinator, self._cc = route.coordinator, route.cc
        status.coordinator_id = route.coordinator.id
        status.cc_ids = [c.id for c in route.cc]
        case.record(input.requester_id, SUBMITTED, input.description)
        case.move_to(AWAITING_COORDINATOR)

        every = rules.assistance_reminder_after
        self._acceptance = acceptance = case.clock(
            "acceptance",
            promise=(
                f"the assistant accepts a request within {every.total_seconds() / 3600:g} hours, "
                f"reminded every {every.total_seconds() / 3600:g} hours, "
                f"{rules.assistance_max_reminders} times at most (XA-1)"
            ),
            started_at=submitted_at,
            warn_at=submitted_at + every,
            breach_at=None,
        )
        # The reminders are the warning's message, so the clock itself alerts nobody.
        timed = asyncio.create_task(acceptance.wait(lambda: status.stage != AWAITING_COORDINATOR))
        await self._run_until_closed(rules, submitted_at)
        await timed
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _run_until_closed(self, rules: regulation.RuleSet, submitted_at: datetime) -> None:
        case, status = self._cases()
        while True:
            await case.send_queued()
            if status.stage == CLOSED:
                return
            due = submitted_at + rules.assistance_reminder_after * (status.reminders + 1)
            waiting = (
                status.stage == AWAITING_COORDINATOR
                and status.reminders < rules.assistance_max_reminders
            )
            try:
                await workflow.wait_condition(
                    case.has_unsent,
                    timeout=max(due - workflow.now(), timedelta(0)) if waiting else None,
                )
            except TimeoutError:
                status.reminders += 1
                await self._remind(status.reminders)

    async def _remind(self, count: int) -> None:
        case, status = self._cases()
        assert self._coordinator is not None
        await case.email(
            f"reminder-{count}",
            Mail(
                to=[self._coordinator],
                what="reminder",
                body=(
                    f"Reminder {count}: the assistance request {status.reference} "
                    f"({status.subject}) is still waiting for you to accept it."
                ),
            ),
        )

    def _cases(self) -> tuple[CaseFile[AssistanceStatus], AssistanceStatus]:
        case = opened(self._case, "the request")
        return case, case.status

    @workflow.query
    def status(self) -> AssistanceStatus:
        return self._cases()[1]

    @workflow.update
    def accept(self, input: AcceptInput) -> AssistanceStatus:
        case, status = self._cases()
        case.record(input.actor_id, COORDINATING, input.note.strip())
        case.move_to(COORDINATING)
        if self._acceptance:
            # Kept now: the reply shows it, not only the next look at the case.
            self._acceptance.met()
        return status

    @accept.validator
    def _validate_accept(self, input: AcceptInput) -> None:
        with rule_refusals():
            self._require_coordinator(input.actor_id, allowed=(AWAITING_COORDINATOR,))
            texts.bounded(input.note, "note")

    @workflow.update
    def hand_off(self, input: HandOffInput) -> AssistanceStatus:
        case, status = self._cases()
        status.handed_to = input.handed_to.strip()
        note = f"handed to {status.handed_to}" + (
            f": {input.note.strip()}" if input.note.strip() else ""
        )
        case.record(input.actor_id, HANDED_OFF, note)
        case.move_to(HANDED_OFF)
        return status

    @hand_off.validator
    def _validate_hand_off(self, input: HandOffInput) -> None:
        with rule_refusals():
            self._require_coordinator(input.actor_id, allowed=(COORDINATING, HANDED_OFF))
            validate_hand_off(input)
            handed = sum(e.kind == HANDED_OFF for e in self._cases()[1].history)
            if handed >= MAX_HAND_OFFS:
                raise NotNow(
                    f"the request was handed on {MAX_HAND_OFFS} times; close it and file a new one"
                )

    @workflow.update
    def close(self, input: CloseInput) -> AssistanceStatus:
        case, status = self._cases()
        status.resolution = input.resolution.strip()
        case.record(input.actor_id, CLOSED, status.resolution)
        case.move_to(CLOSED)
        return status

    @close.validator
    def _validate_close(self, input: CloseInput) -> None:
        with rule_refusals():
            self._require_coordinator(input.actor_id, allowed=(COORDINATING, HANDED_OFF))
            validate_close(input)

    def _require_coordinator(self, actor_id: str, *, allowed: tuple[str, ...]) -> None:
        status = self._cases()[1]
        if self._coordinator is None:
            raise NotNow(
                "the request is still being routed to its coordinator; try again in a moment"
            )
        if actor_id != self._coordinator.id:
            raise NotAllowed(
                f"only the coordinator ({self._coordinator.id}) may move this request on (XA-1)"
            )
        if status.stage not in allowed:
            raise NotNow(
                f"the request is {status.stage}; this step needs it to be {' or '.join(allowed)}"
            )

    def _words(self, stage: str) -> str:
        """Each stage in plain words, for the Web UI."""
        status = self._cases()[1]
        coordinator = self._coordinator.name if self._coordinator else "the assistant"
        return {
            SUBMITTED: "Routing the request to the assistant.",
            AWAITING_COORDINATOR: f"Waiting for {coordinator} to accept.",
            COORDINATING: f"{coordinator} is coordinating with {status.target_department}.",
            HANDED_OFF: f"Handed to {status.handed_to} ({status.target_department}).",
            CLOSED: f"Closed: {status.resolution}",
        }.get(stage, stage)

    def _announcements(self, event: CaseEvent) -> Sequence[Mail]:
        """Who hears of each step."""
        coordinator, requester, cc = self._coordinator, self._requester, self._cc
        status = self._cases()[1]
        if coordinator is None or requester is None:
            return ()
        if event.kind == SUBMITTED:
            return [
                Mail(
                    [coordinator],
                    [*cc, requester],
                    "submitted",
                    f"New cross-department assistance request from {requester.name} "
                    f"({status.region_code}) for {status.target_department}:\n\n{event.note}\n\n"
                    f"Coordinator: {coordinator.name}. Accept it through the gateway.",
                )
            ]
        if event.kind == COORDINATING:
            return [
                Mail(
                    [requester],
                    cc,
                    "coordinating",
                    f"{coordinator.name} accepted the request and is coordinating with "
                    f"{status.target_department}." + (f"\n\n{event.note}" if event.note else ""),
                )
            ]
        if event.kind == HANDED_OFF:
            return [Mail([requester], cc, "handed off", f"The request was {event.note}.")]
        if event.kind == CLOSED:
            return [Mail([requester], [coordinator, *cc], "closed", f"Closed: {event.note}")]
        return ()
