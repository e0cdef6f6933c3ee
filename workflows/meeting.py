"""The routine meetings (MT-1..MT-3): everyone the meeting needs invited (the chair, the
required attendees and the minute-taker), the notified roles copied, the rule's agenda; the
minutes are a promise on the SLA clock (a reminder to the minute-taker half-way, an alert to the
chair's manager when they are missing at the deadline); the minutes and the attendance are sent
back to the company. Who chairs, attends, is told and takes the minutes is the rule set's
(`RuleSet.meeting`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import Contact, ContactInput, StaffActivities
    from workflows import regulation, sla
    from workflows.case_file import CaseEvent, CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.figures import region_figures
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, dates, texts
    from workflows.regulation.meetings import ASSISTANT, MANAGER, MeetingRule
    from workflows.regulation.readers import Reader

PROCESS = "meeting"
# Patch (README: patches and their retirement): the invitation carries the figures the agenda
# starts from, counted per region in Temporal's visibility store.
AGENDA_FIGURES = "meeting-agenda-figures"

INVITED = "invited"
HELD = "held"
MINUTES_MISSING = "minutes_missing"
MINUTES_RECORDED = "minutes_recorded"

# A meeting of the whole department has a few dozen people; this bounds the attendance list.
MAX_PRESENT = 200


def workflow_id(rule_id: str, region_code: str, day: str) -> str:
    """The business key of one occurrence: the rule, the region (none for MT-3), the day."""
    scope = f"-{region_code}" if region_code else ""
    return f"meeting-{rule_id}{scope}-{day}"


@dataclass
class MeetingInput:
    rule_id: str  # MT-1, MT-2, MT-3
    region_code: str  # empty for MT-3
    starts_at: str  # RFC 3339, the occurrence after the holiday rule
    rule_version: str


def validate(input: MeetingInput, rules: regulation.RuleSet) -> None:
    """A meeting occurrence as the rule set takes it."""
    meeting = rules.meeting(input.rule_id)
    region = texts.bounded(input.region_code, "region_code", limit=texts.LINE)
    if meeting.regional and not region:
        raise InvalidInput(f"{meeting.rule_id} is a regional meeting: region_code is required")
    if not meeting.regional and region:
        raise InvalidInput(
            f"{meeting.rule_id} is a department meeting: it has no region_code ({region!r})"
        )
    dates.instant(input.starts_at, "starts_at")


@dataclass
class MinutesInput:
    actor_id: str
    text: str
    present: list[str] = field(default_factory=list)


def validate_minutes(input: MinutesInput) -> None:
    """The minutes as the rule takes them; the gateway refuses early with the same words."""
    texts.required(
        input.text, "minutes", limit=texts.DOCUMENT, why="the minutes say what was decided"
    )
    if len(input.present) > MAX_PRESENT:
        raise InvalidInput(f"at most {MAX_PRESENT} attendees ({len(input.present)})")
    for person in input.present:
        texts.required(person, "present", limit=texts.LINE, why="each attendee is a person id")


@dataclass
class MeetingStatus(CaseRecord):
    rule_id: str
    title: str
    region_code: str
    starts_at: str  # Asia/Shanghai, like every instant here
    rule_version: str
    stage: str = INVITED
    chair_id: str = ""
    minutes_taker_id: str = ""
    required_ids: list[str] = field(default_factory=list)
    notified_ids: list[str] = field(default_factory=list)
    agenda: list[str] = field(default_factory=list)
    # Counted when invited (CS-1, CS-2, SV-1): where the agenda's discussion starts.
    figures: list[str] = field(default_factory=list)
    minutes_due_at: str = ""
    minutes: str = ""
    present_ids: list[str] = field(default_factory=list)
    absent_ids: list[str] = field(default_factory=list)


READERS_BY_ROLE = ("department_manager", "department_assistant")


def may_read(status: MeetingStatus, reader: Reader) -> bool:
    """Everyone the meeting invites or tells (MT-1..MT-3); the managers and the assistant."""
    named = {status.chair_id, status.minutes_taker_id, *status.required_ids, *status.notified_ids}
    return reader.id in named or reader.role in READERS_BY_ROLE


@dataclass
class _People:
    """Who the meeting needs, as the rule names them."""

    chair: Contact
    minutes_taker: Contact
    required: list[Contact]
    notified: list[Contact]
    # The department's managers and assistant: the minutes go back to them.
    company: list[Contact]
    # Who hears when the minutes are missing: the chair's manager, else the department managers.
    escalation: list[Contact]

    @property
    def invited(self) -> list[Contact]:
        """Everyone the meeting needs: the chair, the required attendees, the minute-taker."""
        return _unique([self.chair, *self.required, self.minutes_taker])


def _unique(people: Sequence[Contact]) -> list[Contact]:
    """`people` in order, each once (one person may hold two of the roles a meeting names)."""
    unique: dict[str, Contact] = {}
    for person in people:
        unique.setdefault(person.id, person)
    return list(unique.values())


@workflow.defn
class MeetingWorkflow:
    """One occurrence of a routine meeting."""

    def __init__(self) -> None:
        self._case: CaseFile[MeetingStatus] | None = None
        self._people: _People | None = None

    @workflow.run
    async def run(self, input: MeetingInput) -> MeetingStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input, rules)
            meeting = rules.meeting(input.rule_id)
        starts = datetime.fromisoformat(input.starts_at)
        due = starts + rules.meeting_minutes_due_after
        status = MeetingStatus(
            rule_id=meeting.rule_id,
            title=meeting.title,
            region_code=input.region_code,
            starts_at=regulation.shown(starts),
            rule_version=input.rule_version,
            agenda=list(meeting.agenda),
            minutes_due_at=regulation.shown(due),
        )
        scope = f" {input.region_code}" if input.region_code else ""
        # The meeting's day as the department names it (+08:00).
        reference = f"{meeting.rule_id}{scope} {status.starts_at[:10]}"
        case = CaseFile(
            status,
            process=PROCESS,
            reference=reference,
            summary=f"{reference}: {meeting.title}, {status.starts_at}",
            # Plain ASCII, so never encoded: with an em dash, Python's mail folder wrote an
            # empty encoded word (=?utf-8?q??=) where a subject as long as MT-3's folded just
            # before the dash (cpython#136052).
            subject=lambda what: f"[{reference}] {meeting.title}: {what}",
            words=self._words,
            announcements=self._announcements,
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)

        with rule_refusals():
            people = await self._find_people(meeting, input.region_code)
        self._people = people
        status.chair_id, status.minutes_taker_id = people.chair.id, people.minutes_taker.id
        status.required_ids = [p.id for p in people.required]
        status.notified_ids = [p.id for p in people.notified]
        minutes = case.clock(
            "minutes",
            promise=(
                f"{people.minutes_taker.name} records the minutes within "
                f"{_hours(rules.meeting_minutes_due_after)} hours of the meeting's start, "
                f"reminded half-way; missing then, "
                f"{', '.join(p.name for p in people.escalation)} hear "
                f"({meeting.rule_id})"
            ),
            started_at=starts,
            warn_at=starts + rules.meeting_minutes_due_after / 2,
            breach_at=due,
            warn_to=[people.minutes_taker],
            breach_to=people.escalation,
        )
        timed = asyncio.create_task(minutes.wait(self._recorded))
        if workflow.patched(AGENDA_FIGURES):
            status.figures = await self._figures(input.region_code, people)
        case.record("", INVITED, f"invited {', '.join(p.id for p in people.invited)}")
        case.say(self._words(INVITED))
        await case.send_queued()

        if starts > workflow.now():
            await workflow.sleep(starts - workflow.now())
        case.record("", HELD)
        case.move_to(HELD)
        await workflow.wait_condition(lambda: self._recorded() or minutes.state == sla.BREACHED)
        if not self._recorded():
            case.record("", MINUTES_MISSING, f"due from {people.minutes_taker.id}")
            case.move_to(MINUTES_MISSING)
            await workflow.wait_condition(self._recorded)
        await case.send_queued()
        await timed
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _figures(self, region: str, people: _People) -> list[str]:
        """The agenda's figures, per region the meeting covers."""
        regions = [region] if region else sorted({p.region_code for p in people.required
                                                  if p.region_code})  # fmt: skip
        return await region_figures(regions)

    async def _find_people(self, meeting: MeetingRule, region: str) -> _People:
        """Chair, minute-taker, required and notified attendees as the rule names them."""
        managers = await people_in_role(MANAGER)
        chair = await self._first_holder(meeting.chair_roles, region) or (
            managers[0] if managers else None
        )
        if chair is None:
            raise NotNow(
                f"nobody is {' or '.join(meeting.chair_roles)} or a department manager: "
                f"{meeting.rule_id} has no chair"
            )
        required = [
            p for p in await self._holders(meeting.required_roles, region) if p.id != chair.id
        ]
        notified = await self._holders(meeting.notified_roles, region)
        taker = (
            await self._first_holder((meeting.minutes_role,), region)
            if meeting.minutes_role
            else None
        )
        escalation = managers
        if chair.manager_id:
            escalation = [
                await lookup(StaffActivities.get_contact, ContactInput(person_id=chair.manager_id))
            ]
        return _People(
            chair=chair,
            minutes_taker=taker or chair,
            required=required,
            notified=notified,
            company=_unique([*managers, *await people_in_role(ASSISTANT)]),
            escalation=escalation,
        )

    @staticmethod
    async def _holders(roles: Sequence[str], region: str) -> list[Contact]:
        found: list[Contact] = []
        for role in roles:
            found.extend(await people_in_role(role, region))
        return _unique(found)

    @staticmethod
    async def _first_holder(roles: Sequence[str], region: str) -> Contact | None:
        for role in roles:
            holders = await people_in_role(role, region)
            if holders:
                return holders[0]
        return None

    def _recorded(self) -> bool:
        return self._cases()[1].stage == MINUTES_RECORDED

    def _cases(self) -> tuple[CaseFile[MeetingStatus], MeetingStatus]:
        case = opened(self._case, "the meeting")
        return case, case.status

    @workflow.query
    def status(self) -> MeetingStatus:
        return self._cases()[1]

    @workflow.update
    def record_minutes(self, input: MinutesInput) -> MeetingStatus:
        case, status = self._cases()
        status.minutes = input.text.strip()
        status.present_ids = sorted({p.strip() for p in input.present})
        status.absent_ids = [p for p in status.required_ids if p not in status.present_ids]
        case.record(input.actor_id, MINUTES_RECORDED, status.minutes)
        case.move_to(MINUTES_RECORDED)
        return status

    @record_minutes.validator
    def _validate_minutes(self, input: MinutesInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if self._people is None:
                raise NotNow("the meeting is still being set up; try again in a moment")
            taker = self._people.minutes_taker
            if input.actor_id != taker.id:
                raise NotAllowed(f"the minutes are {taker.id}'s to record ({status.rule_id})")
            if status.stage not in (HELD, MINUTES_MISSING):
                raise NotNow(
                    f"the meeting is {status.stage.replace('_', ' ')}; "
                    "minutes come after it is held"
                )
            validate_minutes(input)

    def _attendance(self) -> str:
        status = self._cases()[1]
        return (
            f"Present: {', '.join(status.present_ids) or '-'}\n"
            f"Required but absent: {', '.join(status.absent_ids) or 'none'}"
        )

    def _words(self, stage: str) -> str:
        """Each stage in plain words, for the Web UI."""
        status = self._case.status if self._case else None
        if not isinstance(status, MeetingStatus):
            return stage
        people = self._people
        taker = people.minutes_taker.name if people else "the minute-taker"
        return {
            INVITED: (
                f"{status.title} on {status.starts_at}; "
                + (
                    f"{len(people.invited)} invited, {len(people.notified)} copied."
                    if people
                    else "finding who it needs."
                )
            ),
            HELD: f"Held; minutes due from {taker} by {status.minutes_due_at}.",
            MINUTES_MISSING: (
                f"Minutes missing from {taker} since {status.minutes_due_at}; "
                f"{', '.join(p.name for p in people.escalation) if people else 'the managers'} "
                "alerted."
            ),
            MINUTES_RECORDED: f"Minutes recorded and sent.\n{self._attendance()}",
        }.get(stage, stage)

    def _announcements(self, event: CaseEvent) -> Sequence[Mail]:
        """Who hears of each step."""
        people = self._people
        status = self._cases()[1]
        if people is None:
            return ()
        if event.kind == INVITED:
            agenda = "\n".join(f"  {n}. {item}" for n, item in enumerate(status.agenda, start=1))
            copied = ", ".join(p.name for p in people.notified) or "nobody"
            return [
                Mail(
                    people.invited,
                    people.notified,
                    "invitation",
                    f"{status.title} ({status.rule_id}), online, {status.starts_at}.\n\n"
                    f"Chair: {people.chair.name}. Minutes: {people.minutes_taker.name}, due "
                    f"{status.minutes_due_at}.\n"
                    f"Invited: {', '.join(p.name for p in people.invited)}. Copied: {copied}.\n\n"
                    f"Agenda:\n{agenda}\n"
                    + (
                        "\nFigures to start from:\n"
                        + "\n".join(f"  {line}" for line in status.figures)
                        + "\n"
                        if status.figures
                        else ""
                    ),
                )
            ]
        if event.kind == MINUTES_RECORDED:
            return [
                Mail(
                    people.company,
                    [people.chair],
                    "minutes",
                    f"Minutes of {status.title} ({status.starts_at}):\n\n{status.minutes}\n\n"
                    f"{self._attendance()}",
                )
            ]
        return ()


def _hours(duration: timedelta) -> str:
    return f"{duration.total_seconds() / 3600:g}"
