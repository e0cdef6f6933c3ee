"""The communication logs as the processes use them (CL-1..CL-3, WR-2): a process's entry written
into a hospital project's log, and a region's entries of a week read as WR-2's bundle.

The entry goes onto the latest version: the activity reads the log, and if another writer moved
it on in between, the staff service refuses (FAILED_PRECONDITION) and the activity reads and
writes again. An entry already written by this case (a retried attempt whose reply was lost) is
found by its reference and not written twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.grpc_status import CALL_DEADLINE_SECONDS, as_application_error, call

# Writers racing this one: read and write again this many times before the attempt gives up
# (and Temporal retries it later).
RACES = 5


@dataclass
class LogAppendInput:
    reference: str  # the case writing: its entry is found by it
    project_code: str
    author_id: str
    contact_with: str
    channel: str
    summary: str
    contacted_on: str
    source: str = ""


@dataclass
class LogAppendResult:
    version: int


@dataclass
class RegionLogInput:
    region_code: str
    first: str  # YYYY-MM-DD
    last: str


@dataclass
class RegionLogBundle:
    entries: int
    csv: str  # every project's entries of the period, one header


class CommunicationLogActivities:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = staff_pb2_grpc.StaffServiceStub(channel)

    @activity.defn(name="staff.append_to_log")
    async def append_to_log(self, input: LogAppendInput) -> LogAppendResult:
        for _ in range(RACES):
            log = await call(
                self._stub.ListLogEntries(
                    staff_pb2.ListLogEntriesRequest(project_code=input.project_code),
                    timeout=CALL_DEADLINE_SECONDS,
                )
            )
            written = [e for e in log.entries if e.reference == input.reference]
            if written:
                return LogAppendResult(written[0].version)
            version = log.project.log_version
            try:
                entry = await self._stub.AppendLogEntry(
                    staff_pb2.AppendLogEntryRequest(
                        idempotency_key=f"{input.reference}:v{version}",
                        project_code=input.project_code,
                        expected_version=version,
                        entry=staff_pb2.LogEntry(
                            author_id=input.author_id,
                            contact_with=input.contact_with,
                            channel=input.channel,
                            summary=input.summary,
                            contacted_on=input.contacted_on,
                            source=input.source,
                            reference=input.reference,
                        ),
                    ),
                    timeout=CALL_DEADLINE_SECONDS,
                )
            except grpc.aio.AioRpcError as err:
                stale = err.code() == grpc.StatusCode.FAILED_PRECONDITION and "(CL-2)" in (
                    err.details() or ""
                )
                if stale:
                    continue  # another writer moved the log on: read it again
                raise as_application_error(err) from None
            return LogAppendResult(entry.version)
        # Retryable: the attempt lost every race, which says nothing against the entry.
        raise ApplicationError(f"the log of {input.project_code} kept moving; retrying later")

    @activity.defn(name="staff.region_log_bundle")
    async def region_log_bundle(self, input: RegionLogInput) -> RegionLogBundle:
        """WR-2's communication-log bundle: the period's entries of the region's projects."""
        projects = await call(
            self._stub.ListProjects(
                staff_pb2.ListProjectsRequest(region_code=input.region_code),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        header, rows = "", []
        for project in projects.projects:
            log = await call(
                self._stub.ListLogEntries(
                    staff_pb2.ListLogEntriesRequest(
                        project_code=project.code, from_date=input.first, to_date=input.last
                    ),
                    timeout=CALL_DEADLINE_SECONDS,
                )
            )
            lines = log.csv.splitlines()
            header = header or (lines[0] if lines else "")
            rows += lines[1:]
        return RegionLogBundle(len(rows), "\n".join([header, *rows]) + "\n" if header else "")
