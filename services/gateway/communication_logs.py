"""Hospital projects' communication logs through the gateway (CL-1, CL-2). The caller is the
author; the staff service decides who may write (CL-1) and refuses a write on a stale version
(CL-2), whose refusal reaches the caller with its details. The log is read by those who write it,
the department assistant (who passes sales' logs on, CL-3) and the clerk."""

from __future__ import annotations

import hashlib

from csd.gateway.v1 import gateway_pb2
from csd.staff.v1 import staff_pb2

from services.gateway.directory import LOOKUP_DEADLINE_SECONDS
from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.relay import relayed
from services.runtime import errors
from services.runtime.dates import today

G, S = gateway_pb2, staff_pb2
READ_BY_ROLE = frozenset({"department_manager", "department_assistant", "department_clerk"})
READ_IN_REGION = frozenset({"customer_service_manager", "technical_service_manager"})


def entry_message(entry: staff_pb2.LogEntry) -> G.CommunicationLogEntry:
    return G.CommunicationLogEntry(
        version=entry.version,
        author_id=entry.author_id,
        author_role=entry.author_role,
        contact_with=entry.contact_with,
        channel=entry.channel,
        summary=entry.summary,
        contacted_on=entry.contacted_on,
        recorded_at=entry.recorded_at,
        source=entry.source,
    )


class CommunicationLogGateway(ProcessGateway):
    async def append(
        self, request: G.AppendCommunicationLogRequest, caller: Caller
    ) -> G.CommunicationLogEntry:
        entry = S.LogEntry(
            author_id=caller.id,
            contact_with=request.contact_with,
            channel=request.channel,
            summary=request.summary,
            contacted_on=request.contacted_on or today().isoformat(),
        )
        # A retry of the same write is the same write; another write is another key.
        content = f"{request.project_code}\x1f{request.expected_version}\x1f"
        content += entry.SerializeToString(deterministic=True).hex()
        key = "log:" + hashlib.sha256(content.encode()).hexdigest()[:32]
        written = await relayed(
            self._staff.AppendLogEntry(
                S.AppendLogEntryRequest(
                    idempotency_key=key,
                    project_code=request.project_code,
                    expected_version=request.expected_version,
                    entry=entry,
                ),
                timeout=LOOKUP_DEADLINE_SECONDS,
            ),
            service="staff",
            purpose="write the log",
            judges_the_caller=True,  # the staff service applies CL-1 to the author
        )
        return entry_message(written)

    async def read(
        self, request: G.GetCommunicationLogRequest, caller: Caller
    ) -> G.CommunicationLog:
        log = await relayed(
            self._staff.ListLogEntries(
                S.ListLogEntriesRequest(
                    project_code=request.project_code,
                    since_version=request.since_version,
                    from_date=request.from_date,
                    to_date=request.to_date,
                ),
                timeout=LOOKUP_DEADLINE_SECONDS,
            ),
            service="staff",
            purpose="read the log",
        )
        project = log.project
        reads = (
            caller.id == project.engineer_id
            or caller.role in READ_BY_ROLE
            or (caller.role in READ_IN_REGION and caller.region_code == project.region_code)
        )
        if not reads:
            raise errors.PermissionDenied(
                f"{caller.id} may not read the log of {project.code}: its engineer, the "
                "region's managers, the department managers, the assistant and the clerk do"
            )
        return G.CommunicationLog(
            project_code=project.code,
            hospital=project.hospital,
            region_code=project.region_code,
            engineer_id=project.engineer_id,
            version=project.log_version,
            entries=[entry_message(e) for e in log.entries],
            csv=log.csv,
        )
