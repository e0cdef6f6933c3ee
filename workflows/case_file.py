"""The case file every process is built on: its history, its stage with the search attributes
and the current details the Web UI shows, its SLA clocks, and one outbox.

A process composes one `CaseFile` and supplies only what is its own: its status dataclass (which
carries the fields of `CaseStatus`), the words for each stage, and who hears of which recorded
step. Everything else is here, once:

- every instant recorded is shown in Asia/Shanghai;
- every notification carries the idempotency key `<workflow id>:<case key>:<step>`, so a retried
  activity, a replayed task or a continued run never sends twice, and nobody who can guess the
  business key can send under the case's key first (the case key is random, fixed at open);
- a notification the notify service refuses for good (a bad address, a number it cannot call) is
  recorded on the case, shown in its details and alerted to the technical service team lead; it
  never fails the process. Outages are retried without limit by the named policy;
- CsdSlaState is always the worst of the case's clocks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import (
        AlertInput,
        CallInput,
        DeliveryResult,
        EmailInput,
        NotifyActivities,
    )
    from activities.staff import Contact
    from workflows import regulation, retry_policies, search_attributes
    from workflows.lookups import people_in_role
    from workflows.sla import OK, SlaClock, SlaView, worst

# Who hears of a notification refused for good.
REFUSALS_TO = "technical_service_team_lead"


@dataclass
class CaseEvent:
    """One step on the case: who did what, when (Asia/Shanghai)."""

    at: str
    actor_id: str
    kind: str
    note: str = ""


@dataclass
class Mail:
    """An email a process sends: to, copied, what it is about (the subject's tail), the body."""

    to: Sequence[Contact]
    cc: Sequence[Contact] = ()
    what: str = ""
    body: str = ""


@dataclass(kw_only=True)
class CaseRecord:
    """The part of every process's status the case file keeps: a base class, its fields
    keyword-only so each process puts its own positional fields first."""

    sla_state: str = OK
    # The unguessable part of every notification key, fixed when the case opens (carried by a
    # continued run): nobody can send under a key the case will use before it does.
    case_key: str = ""
    slas: list[SlaView] = field(default_factory=list)
    history: list[CaseEvent] = field(default_factory=list)
    # Notifications refused for good, in plain words.
    notices: list[str] = field(default_factory=list)


class CaseStatus(Protocol):
    """The fields every process's status carries for its case file."""

    stage: str
    sla_state: str
    case_key: str
    history: list[CaseEvent]
    notices: list[str]
    slas: list[SlaView]


StatusT = TypeVar("StatusT", bound=CaseStatus)


def not_started(what: str) -> ApplicationError:
    return ApplicationError(f"{what} has not started yet", type="FAILED_PRECONDITION")


def opened(case: CaseFile[StatusT] | None, what: str) -> CaseFile[StatusT]:
    """The case, once `run` has opened it; a query or update arriving before is refused."""
    if case is None:
        raise not_started(what)
    return case


def refusal_of(err: ActivityError) -> ApplicationError | None:
    """The refusal for good behind a failed activity (a service's INVALID_ARGUMENT,
    FAILED_PRECONDITION, ...), or None when it failed some other way (and should be raised)."""
    cause = err.cause
    return cause if isinstance(cause, ApplicationError) and cause.non_retryable else None


@contextlib.contextmanager
def rule_refusals() -> Iterator[None]:
    """Raise a regulation refusal as the non-retryable ApplicationError of its status, the
    form a validator's refusal and a failed start reach the caller in."""
    try:
        yield
    except regulation.Refusal as refusal:
        raise ApplicationError(refusal.message, type=refusal.code, non_retryable=True) from None


class CaseFile(Generic[StatusT]):
    """One case's file. Create it in the workflow's `run`, then `open()` it."""

    def __init__(
        self,
        status: StatusT,
        *,
        process: str,
        reference: str,
        summary: str,
        subject: Callable[[str], str],
        words: Callable[[str], str],
        announcements: Callable[[CaseEvent], Sequence[Mail]] = lambda event: (),
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        """`summary` is the case in one line (alerts open with it); `subject(what)` is a mail's
        subject; `words(stage)` the stage in plain words; `announcements(event)` the mails a
        recorded step sends; `changed()` runs after every change (e.g. to refresh a memo)."""
        self.status = status
        self.process = process
        self.reference = reference
        self.summary = summary
        self._subject = subject
        self._words = words
        self._announcements = announcements
        self._changed = changed
        self._situation = ""
        self._outbox: list[tuple[str, Mail]] = []

    # -- stage, history and what the Web UI shows ------------------------------------------

    def open(self, *, region: str, rule_version: str) -> None:
        """Put the case's search attributes in place and say where it stands."""
        if not self.status.case_key:
            # workflow.uuid4 is seeded by the history: the same on every replay.
            self.status.case_key = workflow.uuid4().hex[:16]
        workflow.upsert_search_attributes(
            [
                search_attributes.PROCESS.value_set(self.process),
                search_attributes.REGION.value_set(region or "department"),
                search_attributes.STAGE.value_set(self.status.stage),
                search_attributes.SLA_STATE.value_set(self.status.sla_state or OK),
                search_attributes.RULE_VERSION.value_set(rule_version),
            ]
        )
        self._situation = self._words(self.status.stage)
        self._show()

    def place(self, region: str) -> None:
        """The region, once routing has found it."""
        workflow.upsert_search_attributes([search_attributes.REGION.value_set(region)])

    def record(self, actor_id: str, kind: str, note: str = "") -> CaseEvent:
        """Add a step to the history and queue the mails the process sends for it."""
        index = len(self.status.history)
        event = CaseEvent(at=self.now(), actor_id=actor_id, kind=kind, note=note)
        self.status.history.append(event)
        for n, mail in enumerate(self._announcements(event)):
            self._outbox.append((f"{index}-{kind}" + (f"-{n}" if n else ""), mail))
        self._changed()
        return event

    def move_to(self, stage: str, details: str = "") -> None:
        """Change stage: the search attribute, and the details in the process's words."""
        self.status.stage = stage
        workflow.upsert_search_attributes([search_attributes.STAGE.value_set(stage)])
        self.say(details or self._words(stage))

    def say(self, details: str) -> None:
        """The current situation in plain words, for the Web UI."""
        self._situation = details
        self._show()
        self._changed()

    @staticmethod
    def now() -> str:
        return regulation.shown(workflow.now())

    def _show(self) -> None:
        notices = self.status.notices
        tail = f"\n\nNot delivered ({len(notices)}): {notices[-1]}" if notices else ""
        workflow.set_current_details(self._situation + tail)

    # -- SLA clocks ------------------------------------------------------------------------

    def clock(
        self,
        name: str,
        *,
        promise: str,
        started_at: datetime,
        warn_at: datetime,
        breach_at: datetime | None,
        warn_to: Sequence[Contact] = (),
        breach_to: Sequence[Contact] = (),
    ) -> SlaClock:
        """A new clock on this case, shown in its status and in CsdSlaState."""
        clock = SlaClock(
            self,
            name,
            promise=promise,
            started_at=started_at,
            warn_at=warn_at,
            breach_at=breach_at,
            warn_to=warn_to,
            breach_to=breach_to,
        )

        self.status.slas.append(clock.view)
        self.sla_changed()
        return clock

    def sla_changed(self) -> None:
        # Every view the status holds, a continued run's carried clocks included.
        state = worst([v.state for v in self.status.slas])
        if state != self.status.sla_state:
            self.status.sla_state = state
            workflow.upsert_search_attributes([search_attributes.SLA_STATE.value_set(state)])
        self._changed()

    # -- the outbox ------------------------------------------------------------------------

    def key(self, step: str) -> str:
        """The idempotency key of a step's notification: the business key, the case's own
        unguessable part, the step."""
        return f"{workflow.info().workflow_id}:{self.status.case_key}:{step}"

    def has_unsent(self) -> bool:
        return bool(self._outbox)

    async def send_queued(self) -> None:
        """Send every queued announcement, in the order the steps were recorded."""
        while self._outbox:
            step, mail = self._outbox[0]
            await self.email(step, mail)
            self._outbox.pop(0)

    async def email(self, step: str, mail: Mail) -> bool:
        """Send `mail` now; False when nobody is to receive it or it was refused for good."""
        to = sorted({c.email for c in mail.to})
        if not to:
            return False
        try:
            await workflow.execute_activity_method(
                NotifyActivities.send_email,
                EmailInput(
                    idempotency_key=self.key(step),
                    to=to,
                    cc=sorted({c.email for c in mail.cc} - set(to)),
                    subject=self._subject(mail.what),
                    body=mail.body,
                    reference=workflow.info().workflow_id,
                ),
                start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
                retry_policy=retry_policies.NOTIFICATION,
            )
        except ActivityError as err:
            await self._refused(step, f'the email "{mail.what}"', mail.to, err)
            return False
        return True

    async def call(self, step: str, person: Contact, message: str) -> DeliveryResult | None:
        """Phone `person`; None when the call was refused for good."""
        try:
            return await workflow.execute_activity_method(
                NotifyActivities.place_call,
                CallInput(
                    idempotency_key=self.key(step),
                    phone=person.phone,
                    message=message,
                    reference=workflow.info().workflow_id,
                ),
                start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
                retry_policy=retry_policies.NOTIFICATION,
            )
        except ActivityError as err:
            await self._refused(step, "the phone call", [person], err)
            return None

    async def alert(
        self, step: str, to: Sequence[Contact], *, subject: str, body: str, breach: bool
    ) -> list[str]:
        """A manager alert; the addresses it went to (none when nobody holds the role or it
        was refused for good)."""
        addresses = sorted({c.email for c in to})
        if not addresses:
            return []
        try:
            await self._send_alert(step, addresses, subject=subject, body=body, breach=breach)
        except ActivityError as err:
            await self._refused(step, f'the alert "{subject}"', to, err)
            return []
        return addresses

    async def _send_alert(
        self, step: str, to: list[str], *, subject: str, body: str, breach: bool
    ) -> None:
        await workflow.execute_activity_method(
            NotifyActivities.send_alert,
            AlertInput(
                idempotency_key=self.key(step),
                to=to,
                subject=subject,
                body=body,
                breach=breach,
                reference=workflow.info().workflow_id,
            ),
            start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
            retry_policy=retry_policies.NOTIFICATION,
        )

    async def _refused(
        self, step: str, what: str, to: Sequence[Contact], err: ActivityError
    ) -> None:
        """A notification refused for good: noted on the case, shown, and mailed to the team
        lead (as a plain email, not an SLA alert: nothing is late, something did not arrive)."""
        refusal = refusal_of(err)
        if refusal is None:
            raise err
        names = ", ".join(sorted({c.name or c.id for c in to})) or "nobody"
        notice = f"{what} to {names} was not sent: {refusal.message}"
        self.status.notices.append(notice)
        self.record("", "notice", notice)
        self._show()
        workflow.logger.warning("notification refused", extra={"step": step})
        if step.endswith(":refused"):
            return  # the team lead's own mail: noted, and nobody further to tell
        await self.email(
            f"{step}:refused",
            Mail(
                to=await people_in_role(REFUSALS_TO),
                what="a notification was refused",
                body=f"{self.summary}\n\nOn {self.reference}, {notice}.\n"
                "The case goes on; reach them another way.",
            ),
        )
