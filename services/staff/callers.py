"""Who may call each StaffService RPC (services/runtime/peers.py enforces it under mutual TLS).

The directory and the calendar are written only by the operators' admin identity (the csd admin
commands: seed, calendar, schedules); leave records only by the worker, for the leave process.
Reads go to the parts whose code makes them, and to admin.
"""

from __future__ import annotations

from services.runtime.tls import ADMIN, FINANCE, GATEWAY, WORKER

_READERS = frozenset({WORKER, GATEWAY, ADMIN})
_WORKER_AND_ADMIN = frozenset({WORKER, ADMIN})
_ADMIN = frozenset({ADMIN})
_WORKER = frozenset({WORKER})

CALLERS: dict[str, frozenset[str]] = {
    # The directory. The gateway looks up callers and regions; phones and mail in bulk only
    # for the worker (routing) and the operators.
    # Finance confirms that the people and regions of a ledger entry exist.
    "GetPerson": _READERS | {FINANCE},
    "ListPeople": _WORKER_AND_ADMIN,
    "UpsertPerson": _ADMIN,
    "GetRegion": _READERS | {FINANCE},
    "ListRegions": _READERS,
    "UpsertRegion": _ADMIN,
    "GetRegionManager": _READERS,
    "AssignOnCall": _ADMIN,
    "GetOnCall": _WORKER_AND_ADMIN,
    # Who approves and who is told: the processes' routing, in the worker.
    "ResolveLeaveApprover": _WORKER_AND_ADMIN,
    "ResolveMajorProblemRecipients": _WORKER_AND_ADMIN,
    "ResolveAssistanceRoute": _WORKER_AND_ADMIN,
    # The company calendar: read by the processes and the gateway's early checks.
    "GetCalendarDay": _READERS,
    "CountWorkingTime": _READERS,
    "AddWorkingTime": _READERS,
    "ShiftWorkingDays": _READERS,
    "GetLeaveDeadlines": _READERS,
    "GetNextOccurrence": _READERS,
    "GetCalendarYear": _READERS,
    "PublishCalendarYear": _ADMIN,
    # Leave records: written by the leave process; read by the operators and the processes.
    "RecordLeave": _WORKER,
    "CancelLeaveRecord": _WORKER,
    "ListLeaveRecords": _WORKER_AND_ADMIN,
    # Attendance (AT-1): reported through the gateway (the person, or the clerk's import);
    # read by the gateway's sheets, the processes and finance's audit (RB-3).
    "ReportAttendance": frozenset({GATEWAY}),
    "ImportAttendance": frozenset({GATEWAY, ADMIN}),
    "ListAttendance": _READERS | {FINANCE},
    "GetAttendanceSheet": _READERS | {FINANCE},
    # AT-2: occurrences are found and followed by the worker's check and cases.
    "OpenMissingReports": _WORKER,
    "GetMissingReportOccurrence": _WORKER_AND_ADMIN,
    # AT-3, AT-4: absence is recorded by the spot-check process and counted for dismissal.
    "RecordAbsence": _WORKER,
    "CountAbsence": _WORKER_AND_ADMIN,
    # CL-1..CL-3: projects are the operators' to register; a log is written through the gateway
    # (by the people CL-1 names) and by the worker (CL-3's completed sales logs).
    "UpsertProject": _ADMIN,
    # ORG-3: the level history, read through the gateway and by the operators.
    "GetPersonHistory": _READERS,
    "ListProjects": _READERS,
    "AppendLogEntry": frozenset({GATEWAY, WORKER}),
    "ListLogEntries": _READERS,
}
