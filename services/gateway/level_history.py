"""A person's level, track and role history through the gateway (ORG-3): read by the person,
the department managers and the clerk. The source defines no promotion rule, so the history is
only kept and shown."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2
from csd.staff.v1 import staff_pb2

from services.gateway.directory import LOOKUP_DEADLINE_SECONDS
from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.relay import relayed
from services.runtime.errors import PermissionDenied
from services.runtime.validation import require_id

G, S = gateway_pb2, staff_pb2
READS_EVERYONES = frozenset({"department_manager", "department_clerk"})


class LevelHistoryGateway(ProcessGateway):
    async def read(self, request: G.GetLevelHistoryRequest, caller: Caller) -> G.LevelHistory:
        person_id = require_id(request.person_id or caller.id, "person_id")
        if person_id != caller.id and caller.role not in READS_EVERYONES:
            raise PermissionDenied(
                f"{caller.id} may not read {person_id}'s level history: the person, the "
                "department managers and the clerk do (ORG-3)"
            )
        history = await relayed(
            self._staff.GetPersonHistory(
                S.GetPersonHistoryRequest(person_id=person_id), timeout=LOOKUP_DEADLINE_SECONDS
            ),
            service="staff",
            purpose="read the history",
        )
        return G.LevelHistory(
            person_id=person_id,
            changes=[
                G.LevelChange(
                    at=c.at,
                    field=c.field,
                    to=c.to,
                    changed_by=c.changed_by,
                    **{"from": getattr(c, "from")},
                )
                for c in history.changes
            ],
        )
