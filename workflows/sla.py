"""The one SLA mechanism every process uses: a budget on a 24x7 or working-hours clock, a warning
threshold, alerts to managers found by role, and exactly one alert per warning and per breach.

A workflow holds one `SlaClock` per promise it keeps (acknowledge within 15 minutes, resolve
within 16 working hours...). The clock keeps the search attribute CsdSlaState current, so the
Web UI can filter on it: ok -> warning -> breached, or met once the promise is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.notify import AlertInput, NotifyActivities
    from activities.staff import CalendarActivities, Contact, WorkingTimeInput
    from workflows import retry_policies, search_attributes
    from workflows.directory import people_in_role
    from workflows.lookups import lookup

OK, WARNING, BREACHED, MET = "ok", "warning", "breached", "met"
TWENTY_FOUR_SEVEN = "24x7"
WORKING_HOURS = "working_hours"


@dataclass(frozen=True)
class SlaPolicy:
    """A promise: `budget` of `clock` time, a warning at `warning_fraction` of it."""

    name: str
    budget: timedelta
    clock: str = TWENTY_FOUR_SEVEN
    warning_fraction: float = 0.75
    # Who hears of a breach, by role (a warning goes to `warn_roles`).
    breach_roles: tuple[str, ...] = ("technical_service_team_lead", "department_manager")
    warn_roles: tuple[str, ...] = ()


@dataclass
class SlaView:
    """What a query shows of a clock."""

    name: str
    state: str = OK
    started_at: str = ""
    warn_at: str = ""
    breach_at: str = ""
    alerts: list[str] = field(default_factory=list)


class SlaClock:
    """One promise's clock inside a workflow. Deterministic: times come from workflow.now() and
    activities whose answers the history keeps."""

    def __init__(
        self,
        policy: SlaPolicy,
        *,
        reference: str,
        subject: str,
        on_change: Callable[[], None] | None = None,
        warn_to: list[Contact] | None = None,
    ) -> None:
        self.policy = policy
        # People warned besides the policy's roles, e.g. the approver a decision waits for.
        self._warn_to = list(warn_to or [])
        self.view = SlaView(name=policy.name)
        self._reference = reference
        self._subject = subject
        self._on_change = on_change or (lambda: show(self.view.state))
        self._warn_at: datetime | None = None
        self._breach_at: datetime | None = None

    async def start(self, started_at: datetime) -> None:
        """Fix the deadlines from `started_at` on the policy's clock."""
        budget = self.policy.budget
        warning = budget * self.policy.warning_fraction
        if self.policy.clock == WORKING_HOURS:
            self._warn_at = await _working_time_after(started_at, warning)
            self._breach_at = await _working_time_after(started_at, budget)
        else:
            self._warn_at = started_at + warning
            self._breach_at = started_at + budget
        self._fix(started_at)

    def start_between(self, started_at: datetime, warn_at: datetime, breach_at: datetime) -> None:
        """Fix deadlines the process computed itself (e.g. from the date a leave starts)."""
        self._warn_at, self._breach_at = min(warn_at, breach_at), breach_at
        self._fix(started_at)

    def _fix(self, started_at: datetime) -> None:
        assert self._warn_at is not None and self._breach_at is not None
        self.view.started_at = started_at.isoformat()
        self.view.warn_at = self._warn_at.isoformat()
        self.view.breach_at = self._breach_at.isoformat()
        self._on_change()

    @property
    def state(self) -> str:
        return self.view.state

    def met(self) -> None:
        """The promise was kept (or no longer applies): no alert will follow."""
        if self.view.state in (OK, WARNING):
            self._set(MET)

    async def wait(self, kept: Callable[[], bool]) -> None:
        """Wait until `kept()` says the promise is kept, alerting once at the warning and once
        at the breach; a promise kept in time is then met."""
        wake = kept
        while not wake():
            if self.view.state == OK:
                deadline = self._warn_at
            elif self.view.state == WARNING:
                deadline = self._breach_at
            else:
                await workflow.wait_condition(wake)
                return
            assert deadline is not None, "start() the clock first"
            remaining = deadline - workflow.now()
            if remaining > timedelta(0):
                try:
                    await workflow.wait_condition(wake, timeout=remaining)
                except TimeoutError:
                    pass
            elif self.view.state == OK:
                self._set(WARNING)
                await self._alert(breach=False)
            else:
                self._set(BREACHED)
                await self._alert(breach=True)
        self.met()

    def _set(self, state: str) -> None:
        self.view.state = state
        self._on_change()

    async def _alert(self, *, breach: bool) -> None:
        roles = self.policy.breach_roles if breach else self.policy.warn_roles
        recipients: list[Contact] = [] if breach else list(self._warn_to)
        for role in roles:
            recipients += await people_in_role(role)
        addresses = sorted({c.email for c in recipients})
        if not addresses:
            return
        kind = "breach" if breach else "warning"
        deadline = self._breach_at if breach else self._warn_at
        await workflow.execute_activity_method(
            NotifyActivities.send_alert,
            AlertInput(
                idempotency_key=f"{workflow.info().workflow_id}:sla:{self.policy.name}:{kind}",
                to=addresses,
                subject=f"{self._reference}: {self.policy.name} SLA {kind}",
                body=(
                    f"{self._subject}\n\nThe {self.policy.name} promise "
                    f"{'was broken' if breach else 'is at risk'}: its "
                    f"{'deadline' if breach else 'warning time'} "
                    f"{deadline.isoformat() if deadline else ''} has passed. "
                    f"({_describe(self.policy)})"
                ),
                breach=breach,
                reference=workflow.info().workflow_id,
            ),
            start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
            retry_policy=retry_policies.NOTIFICATION,
        )
        self.view.alerts.append(f"{kind} alert to {', '.join(addresses)}")


def _describe(policy: SlaPolicy) -> str:
    hours = policy.budget.total_seconds() / 3600
    unit = "working hours" if policy.clock == WORKING_HOURS else "hours"
    return f"budget {hours:g} {unit}, warning at {policy.warning_fraction:.0%}"


def show(state: str) -> None:
    """Put `state` in CsdSlaState, where the Web UI filters on it."""
    workflow.upsert_search_attributes([search_attributes.SLA_STATE.value_set(state)])


_SEVERITY = {MET: 0, OK: 1, WARNING: 2, BREACHED: 3}


def worst(*clocks: SlaClock) -> str:
    """The state a process with several promises shows: its most urgent one."""
    return max((c.state for c in clocks), key=_SEVERITY.__getitem__, default=OK)


async def _working_time_after(start: datetime, span: timedelta) -> datetime:
    result = await lookup(
        CalendarActivities.add_working_time,
        WorkingTimeInput(start=start.isoformat(), minutes=int(span.total_seconds() // 60)),
    )
    return datetime.fromisoformat(result.at)
