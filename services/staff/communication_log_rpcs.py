"""Hospital projects and their communication logs (CL-1, CL-2).

CL-1: every project under maintenance has one log, kept by its technical service engineer; the
region's customer service manager and technical service manager, and the department managers
("department heads"), append their contacts with the hospital too. Nobody else writes it.

CL-2: "write into the latest version". An append names the version it was written against; the
project's version moves from it to the next in one conditional UPDATE, so of two writers on the
same version exactly one wins, on SQLite and PostgreSQL alike, and the other is told the current
version and shown the entries since (FAILED_PRECONDITION, with a StaleLog in the status
details). Nothing is ever checked first and written after, and history is never rewritten.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import grpc
from csd.staff.v1 import staff_pb2
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.runtime.dates import parse_date, rfc3339, today
from services.runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.runtime.idempotency import run_once
from services.runtime.validation import limit_text, require_id, require_text
from services.staff import repository
from services.staff.convert import role_name
from services.staff.models import IdempotencyRecord, LogEntry, Project

S = staff_pb2
CHANNELS = ("phone", "visit", "email", "meeting", "message", "other")
SOURCES = ("", "sales")
# CL-1: who writes a project's log besides its engineer: the region's managers...
REGIONAL_WRITERS = ("customer_service_manager", "technical_service_manager")
# ... and the department heads, for every project.
DEPARTMENT_WRITERS = ("department_manager",)
SUMMARY_LIMIT = 2000
MAX_LISTED = 5000
# Entries a stale writer is shown in the refusal's words; all of them are in its details.
SHOWN_IN_WORDS = 3
CSV_COLUMNS = ("project_code", "version", "contacted_on", "channel", "author_id", "author_role",
               "contact_with", "summary")  # fmt: skip


def project_message(project: Project) -> staff_pb2.Project:
    return S.Project(
        code=project.code,
        hospital=project.hospital,
        region_code=project.region_code,
        engineer_id=project.engineer_id,
        active=project.active,
        log_version=project.log_version,
    )


def entry_message(entry: LogEntry) -> staff_pb2.LogEntry:
    return S.LogEntry(
        project_code=entry.project_code,
        version=entry.version,
        author_id=entry.author_id,
        author_role=entry.author_role,
        contact_with=entry.contact_with,
        channel=entry.channel,
        summary=entry.summary,
        contacted_on=entry.contacted_on.isoformat(),
        recorded_at=rfc3339(entry.recorded_at),
        source=entry.source,
        reference=entry.reference,
    )


async def _entries(
    session: AsyncSession,
    code: str,
    *,
    since: int = 0,
    first: date | None = None,
    last: date | None = None,
) -> list[LogEntry]:
    query = select(LogEntry).where(LogEntry.project_code == code, LogEntry.version > since)
    if first is not None:
        query = query.where(LogEntry.contacted_on >= first)
    if last is not None:
        query = query.where(LogEntry.contacted_on <= last)
    return list(await session.scalars(query.order_by(LogEntry.version).limit(MAX_LISTED)))


class CommunicationLogRpcs:
    """Mixed into StaffServicer."""

    _sessions: async_sessionmaker[AsyncSession]

    async def UpsertProject(
        self, request: staff_pb2.UpsertProjectRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.Project:
        p = request.project
        require_id(p.code, "project code")
        hospital = require_text(p.hospital, "hospital", limit=200)
        require_id(p.region_code, "region_code")
        require_id(p.engineer_id, "engineer_id")

        async def apply(session: AsyncSession) -> staff_pb2.Project:
            if await repository.get_region(p.region_code, session=session) is None:
                raise FailedPrecondition(f"region {p.region_code!r} does not exist")
            engineer = await repository.get_person(p.engineer_id, session=session)
            if engineer is None or role_name(S.ROLE_TECHNICAL_SERVICE_ENGINEER) != engineer.role:
                raise FailedPrecondition(
                    f"{p.engineer_id!r} is not a technical service engineer in the directory: "
                    "the engineer keeps the project's log (CL-1)"
                )
            project = await session.get(Project, p.code)
            if project is None:
                project = Project(code=p.code, log_version=0)
                session.add(project)
            # The log and its version stay as they are: a project's details may change, its
            # history never.
            project.hospital, project.region_code = hospital, p.region_code
            project.engineer_id, project.active = p.engineer_id, p.active
            await session.flush()
            return project_message(project)

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="UpsertProject",
            request=request,
            response_type=S.Project,
            apply=apply,
        )

    async def ListProjects(
        self, request: staff_pb2.ListProjectsRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.ListProjectsResponse:
        query = select(Project).order_by(Project.code)
        if request.region_code:
            require_id(request.region_code, "region_code")
            query = query.where(Project.region_code == request.region_code)
        async with self._sessions() as session:
            projects = await session.scalars(query)
            return S.ListProjectsResponse(projects=[project_message(p) for p in projects])

    async def AppendLogEntry(
        self, request: staff_pb2.AppendLogEntryRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.LogEntry:
        code = require_id(request.project_code, "project_code")
        e = request.entry
        require_id(e.author_id, "author_id")
        contact_with = require_text(e.contact_with, "contact_with", limit=200)
        summary = require_text(e.summary, "summary", limit=SUMMARY_LIMIT)
        if e.channel not in CHANNELS:
            raise InvalidArgument(f"channel {e.channel!r}: use {', '.join(CHANNELS)}")
        if e.source not in SOURCES:
            raise InvalidArgument("source is empty, or 'sales' for a log sent by sales (CL-3)")
        contacted_on = parse_date(e.contacted_on, "contacted_on")
        if contacted_on > today():
            raise InvalidArgument(f"contacted_on {e.contacted_on} is in the future")
        if request.expected_version < 0:
            raise InvalidArgument("expected_version is the version you read: 0 or more")
        limit_text(e.author_role, "author_role", limit=40)
        limit_text(e.reference, "reference", limit=200)

        async def apply(session: AsyncSession) -> staff_pb2.LogEntry:
            project = await session.get(Project, code)
            if project is None:
                raise NotFound(f"project {code!r} has no communication log: no such project")
            author = await repository.get_person(e.author_id, session=session)
            if author is None or not author.active:
                raise PermissionDenied(f"{e.author_id!r} is not active in the staff directory")
            writes = (
                author.id == project.engineer_id
                or author.role in DEPARTMENT_WRITERS
                or (author.role in REGIONAL_WRITERS and author.region_code == project.region_code)
            )
            if not writes:
                raise PermissionDenied(
                    f"{author.id} may not write the log of {code}: its engineer, the region's "
                    "customer service and technical service managers and the department "
                    "managers do (CL-1)"
                )
            moved = await session.execute(
                update(Project)
                .where(Project.code == code, Project.log_version == request.expected_version)
                .values(log_version=Project.log_version + 1)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                await self._stale(session, code, request.expected_version)
            entry = LogEntry(
                project_code=code,
                version=request.expected_version + 1,
                author_id=author.id,
                author_role=author.role,
                contact_with=contact_with,
                channel=e.channel,
                summary=summary,
                contacted_on=contacted_on,
                recorded_at=datetime.now(UTC),
                source=e.source,
                reference=e.reference,
            )
            session.add(entry)
            await session.flush()
            return entry_message(entry)

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="AppendLogEntry",
            request=request,
            response_type=S.LogEntry,
            apply=apply,
        )

    @staticmethod
    async def _stale(session: AsyncSession, code: str, expected: int) -> None:
        current = await session.scalar(select(Project.log_version).where(Project.code == code))
        since = await _entries(session, code, since=expected)
        shown = "; ".join(
            f"{s.version}: {s.contacted_on.isoformat()} {s.author_id}: {s.summary[:80]}"
            for s in since[-SHOWN_IN_WORDS:]
        )
        raise FailedPrecondition(
            f"the log of {code} is at version {current}, and you wrote against {expected}: "
            f"read the {len(since)} entr{'y' if len(since) == 1 else 'ies'} since and write "
            f"again on the latest (CL-2). Latest: {shown}",
            details=[
                S.StaleLog(
                    project_code=code,
                    current_version=current or 0,
                    entries_since=[entry_message(s) for s in since],
                )
            ],
        )

    async def ListLogEntries(
        self, request: staff_pb2.ListLogEntriesRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.ListLogEntriesResponse:
        code = require_id(request.project_code, "project_code")
        first = parse_date(request.from_date, "from_date") if request.from_date else None
        last = parse_date(request.to_date, "to_date") if request.to_date else None
        if first and last and first > last:
            raise InvalidArgument(f"from_date {first} is after to_date {last}")
        if request.since_version < 0:
            raise InvalidArgument("since_version is 0 or more")
        async with self._sessions() as session:
            project = await session.get(Project, code)
            if project is None:
                raise NotFound(f"project {code!r} has no communication log: no such project")
            entries = await _entries(
                session, code, since=request.since_version, first=first, last=last
            )
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(CSV_COLUMNS)
            for x in entries:
                writer.writerow(
                    [x.project_code, x.version, x.contacted_on.isoformat(), x.channel,
                     x.author_id, x.author_role, x.contact_with, x.summary]
                )  # fmt: skip
            return S.ListLogEntriesResponse(
                project=project_message(project),
                entries=[entry_message(x) for x in entries],
                csv=out.getvalue(),
            )
