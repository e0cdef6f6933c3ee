"""The parts of a reply every process shares: its SLA clocks, its history and the notifications
that could not be delivered, from the case file's status (workflows/case_file.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from csd.gateway.v1 import gateway_pb2

from workflows.case_file import CaseEvent, CaseRecord
from workflows.sla import SlaView


def sla_view(view: SlaView) -> gateway_pb2.SlaClockView:
    return gateway_pb2.SlaClockView(
        name=view.name,
        state=view.state,
        warn_at=view.warn_at,
        breach_at=view.breach_at,
        promise=view.promise,
        started_at=view.started_at,
        alerts=view.alerts,
    )


def case_events(history: Iterable[CaseEvent]) -> list[gateway_pb2.CaseEvent]:
    return [
        gateway_pb2.CaseEvent(at=e.at, actor_id=e.actor_id, kind=e.kind, note=e.note)
        for e in history
    ]


def case_fields(status: CaseRecord) -> dict[str, Any]:
    """sla_state, slas and notices of any process's status, as reply fields."""
    return {
        "sla_state": status.sla_state,
        "slas": [sla_view(v) for v in status.slas],
        "notices": list(status.notices),
    }
