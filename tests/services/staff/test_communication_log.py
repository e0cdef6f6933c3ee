"""The communication log per hospital project (CL-1, CL-2), on SQLite and PostgreSQL: written by
the people CL-1 names only, always on the latest version; of writers racing on one version
exactly one wins and no entry is ever lost; a stale writer is shown what it missed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc
import pytest
from csd.staff.v1 import staff_pb2 as S
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from google.rpc import status_pb2

from services.runtime.dates import today

PROJECT = "sh-first-hospital"  # east, kept by zhao.lei (services/staff/demo.py)


def append(
    author: str, version: int, summary: str = "called about the ward 5 printer", **changes: object
) -> S.AppendLogEntryRequest:
    entry: dict[str, object] = {
        "author_id": author, "contact_with": "the head of nursing", "channel": "phone",
        "summary": summary, "contacted_on": today().isoformat(),
    }  # fmt: skip
    entry.update(changes)
    return S.AppendLogEntryRequest(
        idempotency_key=f"{author}:{version}:{summary}",
        project_code=PROJECT,
        expected_version=version,
        entry=S.LogEntry(**entry),  # type: ignore[arg-type]
    )


async def _log(stub: StaffServiceStub, since: int = 0) -> S.ListLogEntriesResponse:
    return await stub.ListLogEntries(
        S.ListLogEntriesRequest(project_code=PROJECT, since_version=since)
    )


def _stale_details(err: grpc.aio.AioRpcError) -> S.StaleLog:
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            [detail] = status.details
            stale = S.StaleLog()
            assert detail.Unpack(stale)
            return stale
    raise AssertionError("no status details")


async def test_the_people_cl1_names_write_in_turn_and_the_log_reads_back(
    demo_staff_stub: StaffServiceStub,
) -> None:
    first = await demo_staff_stub.AppendLogEntry(append("zhao.lei", 0))  # the keeper
    assert (first.version, first.author_role) == (1, "technical_service_engineer")
    # A retry of the same write is answered as it was, not refused as stale.
    assert await demo_staff_stub.AppendLogEntry(append("zhao.lei", 0)) == first
    await demo_staff_stub.AppendLogEntry(append("li.na", 1, "visited the IT office"))  # CSM east
    await demo_staff_stub.AppendLogEntry(append("wang.qiang", 2, "planned the upgrade"))  # TSM
    await demo_staff_stub.AppendLogEntry(append("jiang.chengzhao", 3, "met the president"))  # DM
    log = await _log(demo_staff_stub)
    assert log.project.log_version == 4
    assert [(e.version, e.author_id) for e in log.entries] == [
        (1, "zhao.lei"), (2, "li.na"), (3, "wang.qiang"), (4, "jiang.chengzhao"),
    ]  # fmt: skip
    assert log.csv.splitlines()[0].startswith("project_code,version,contacted_on,channel")
    assert len(log.csv.splitlines()) == 5
    assert [e.version for e in (await _log(demo_staff_stub, since=2)).entries] == [3, 4]


async def test_a_write_on_an_old_version_is_refused_with_what_it_missed(
    demo_staff_stub: StaffServiceStub,
) -> None:
    await demo_staff_stub.AppendLogEntry(append("zhao.lei", 0, "first"))
    await demo_staff_stub.AppendLogEntry(append("li.na", 1, "second"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.AppendLogEntry(append("wang.qiang", 1, "written on a stale copy"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is at version 2, and you wrote against 1" in (err.value.details() or "")
    assert "(CL-2)" in (err.value.details() or "")
    stale = _stale_details(err.value)
    assert stale.current_version == 2
    assert [(e.version, e.summary) for e in stale.entries_since] == [(2, "second")]
    assert (await _log(demo_staff_stub)).project.log_version == 2


async def test_of_writers_racing_on_one_version_exactly_one_wins_and_none_is_lost(
    demo_staff_stub: StaffServiceStub,
) -> None:
    writers = ["zhao.lei", "li.na", "wang.qiang", "jiang.chengzhao", "huang.aiping"]
    answers = await asyncio.gather(
        *(demo_staff_stub.AppendLogEntry(append(w, 0, f"by {w}")) for w in writers),
        return_exceptions=True,
    )
    won = [a for a in answers if isinstance(a, S.LogEntry)]
    lost = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    assert len(won) == 1 and won[0].version == 1
    assert [e.code() for e in lost] == [grpc.StatusCode.FAILED_PRECONDITION] * 4
    # Each loser reads the latest and writes again: every entry is kept, in order.
    for writer, answer in zip(writers, answers, strict=True):
        while isinstance(answer, grpc.aio.AioRpcError):
            version = _stale_details(answer).current_version
            try:
                answer = await demo_staff_stub.AppendLogEntry(
                    append(writer, version, f"by {writer}")
                )
            except grpc.aio.AioRpcError as again:
                answer = again
    log = await _log(demo_staff_stub)
    assert [e.version for e in log.entries] == [1, 2, 3, 4, 5]
    assert sorted(e.author_id for e in log.entries) == sorted(writers)


@pytest.mark.parametrize(
    ("request_message", "code", "words"),
    [
        # Another region's engineer and technical service manager: not this project's people.
        (append("sun.hao", 0), grpc.StatusCode.PERMISSION_DENIED, "(CL-1)"),
        (append("zhang.wei", 0), grpc.StatusCode.PERMISSION_DENIED, "(CL-1)"),
        (append("chen.jing", 0), grpc.StatusCode.PERMISSION_DENIED, "(CL-1)"),
        (append("nobody.here", 0), grpc.StatusCode.PERMISSION_DENIED, "not active"),
        (append("zhao.lei", 0, channel="pigeon"), grpc.StatusCode.INVALID_ARGUMENT, "channel"),
        (append("zhao.lei", 0, summary=" "), grpc.StatusCode.INVALID_ARGUMENT, "summary"),
        (
            append("zhao.lei", 0, contacted_on=(today() + timedelta(days=1)).isoformat()),
            grpc.StatusCode.INVALID_ARGUMENT,
            "in the future",
        ),
        (append("zhao.lei", -1), grpc.StatusCode.INVALID_ARGUMENT, "expected_version"),
        (append("zhao.lei", 5), grpc.StatusCode.FAILED_PRECONDITION, "(CL-2)"),
    ],
)
async def test_a_write_that_may_not_be_is_refused_and_writes_nothing(
    demo_staff_stub: StaffServiceStub,
    request_message: S.AppendLogEntryRequest,
    code: grpc.StatusCode,
    words: str,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.AppendLogEntry(request_message)
    assert err.value.code() == code
    assert words in (err.value.details() or "")
    log = await _log(demo_staff_stub)
    assert (log.project.log_version, list(log.entries)) == (0, [])


async def test_an_unknown_project_has_no_log(demo_staff_stub: StaffServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.ListLogEntries(S.ListLogEntriesRequest(project_code="atlantis"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await demo_staff_stub.ListProjects(S.ListProjectsRequest(region_code="east"))
    assert [p.code for p in listed.projects] == ["sh-first-hospital", "sh-renji"]
