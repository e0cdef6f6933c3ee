"""The one SLA clock for every timed promise a process makes: XA-1's acceptance, a leave
decision, a major problem's acknowledgement and resolution, RQ-2's feedback, meeting minutes,
weekly reports.

A clock is given exact deadlines (the staff calendar computes working-hours ones; a 24x7 budget
is a plain duration from an instant) and the promise in plain words, and it says only what is
true of those: an alert quotes the promise and the very instants it was timed by. Its state
feeds the case file, which shows the worst of a case's clocks in CsdSlaState.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import Contact
    from workflows.regulation import shown

if TYPE_CHECKING:
    from workflows.case_file import CaseFile

OK, WARNING, BREACHED, MET = "ok", "warning", "breached", "met"
_SEVERITY = MappingProxyType({MET: 0, OK: 1, WARNING: 2, BREACHED: 3})


@dataclass
class SlaView:
    """What a query shows of a clock; instants in Asia/Shanghai."""

    name: str
    promise: str = ""
    state: str = OK
    started_at: str = ""
    warn_at: str = ""
    breach_at: str = ""
    alerts: list[str] = field(default_factory=list)


def worst(states: Sequence[str]) -> str:
    """The state a case with several promises shows: its most urgent one."""
    return max(states, key=_SEVERITY.__getitem__, default=OK)


class SlaClock:
    """One promise's clock inside a workflow. Deterministic: times come from workflow.now() and
    from activities whose answers the history keeps."""

    def __init__(
        self,
        case: CaseFile[Any],
        name: str,
        *,
        promise: str,
        started_at: datetime,
        warn_at: datetime,
        breach_at: datetime | None,
        warn_to: Sequence[Contact] = (),
        breach_to: Sequence[Contact] = (),
    ) -> None:
        self._case = case
        self._warn_at = min(warn_at, breach_at) if breach_at else warn_at
        self._breach_at = breach_at
        self._warn_to = list(warn_to)
        self._breach_to = list(breach_to)
        self.view = SlaView(
            name=name,
            promise=promise,
            started_at=shown(started_at),
            warn_at=shown(self._warn_at),
            breach_at=shown(breach_at) if breach_at else "",
        )

    @property
    def state(self) -> str:
        return self.view.state

    def met(self) -> None:
        """The promise was kept (or no longer applies): no alert will follow."""
        if self.view.state in (OK, WARNING):
            self._set(MET)

    async def wait(self, kept: Callable[[], bool]) -> None:
        """Wait until `kept()`, alerting once at the warning and once at the breach; a promise
        kept in time is then met."""
        while not kept():
            if self.view.state == OK:
                deadline: datetime | None = self._warn_at
            elif self.view.state == WARNING:
                deadline = self._breach_at
            else:
                deadline = None
            if deadline is None:
                await workflow.wait_condition(kept)
                break
            remaining = deadline - workflow.now()
            if remaining > timedelta(0):
                try:
                    await workflow.wait_condition(kept, timeout=remaining)
                except TimeoutError:
                    pass
            elif self.view.state == OK:
                self._set(WARNING)
                await self._alert(breach=False)
            else:
                self._set(BREACHED)
                await self._alert(breach=True)
        self.met()

    def alert_text(self, *, breach: bool) -> str:
        """The alert's body: the promise and the instants it is timed by, nothing else."""
        v = self.view
        verdict = "was broken" if breach else "is at risk"
        lines = [
            f"{self._case.summary}",
            "",
            f"The {v.name} promise {verdict}: {v.promise}.",
            f"Started:  {v.started_at}",
            f"Warning:  {v.warn_at}",
        ]
        if v.breach_at:
            lines.append(f"Deadline: {v.breach_at}")
        return "\n".join(lines)

    def _set(self, state: str) -> None:
        self.view.state = state
        self._case.sla_changed()

    async def _alert(self, *, breach: bool) -> None:
        recipients = self._breach_to if breach else self._warn_to
        kind = "breach" if breach else "warning"
        sent = await self._case.alert(
            f"sla:{self.view.name}:{kind}",
            recipients,
            subject=f"{self._case.reference}: {self.view.name} SLA {kind}",
            body=self.alert_text(breach=breach),
            breach=breach,
        )
        if sent:
            self.view.alerts.append(f"{kind} alert to {', '.join(sorted(sent))}")
