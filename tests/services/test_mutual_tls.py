"""Mutual TLS between the parts (issue 12): every internal write is refused, and writes nothing,
to a caller without a certificate, with a certificate from another CA, or with the certificate
of a part not on the RPC's allow-list; the part on the list succeeds with the same request, so
the refusals are about the caller and nothing else. Clients check the server too."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from csd.finance.v1 import finance_pb2, finance_pb2_grpc
from csd.notify.v1 import notify_pb2, notify_pb2_grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.finance import callers as finance_callers
from services.finance import server as finance_server
from services.finance.regulation import publish_regulation_policy
from services.mailsink.sink import MailSink
from services.notify import callers as notify_callers
from services.notify import server as notify_server
from services.notify.email import SmtpMailer
from services.notify.phone import LogProvider
from services.runtime.dev_pki import DevPki, ensure_dev_pki
from services.runtime.server import RunningServer, listening_tls
from services.runtime.settings import Settings
from services.runtime.tls import (
    ADMIN,
    FINANCE,
    GATEWAY,
    NOTIFY,
    STAFF,
    WORKER,
    TlsFiles,
    open_channel,
)
from services.staff import callers as staff_callers
from services.staff import server as staff_server
from services.staff.demo import load_demo
from tests.services.finance.builders import entry, later_policy

S, F, N = staff_pb2, finance_pb2, notify_pb2
AM = S.HALF_OF_DAY_AM
PM = S.HALF_OF_DAY_PM


@dataclass
class Secured:
    pki: DevPki
    servers: dict[str, RunningServer]
    databases: dict[str, Path]
    mail: MailSink

    def address(self, service: str) -> str:
        return f"127.0.0.1:{self.servers[service].port}"


@pytest.fixture(scope="module")
async def secured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Secured]:
    root = tmp_path_factory.mktemp("mtls")
    pki = ensure_dev_pki(root)
    mail = MailSink(maildir=root / "mail")
    await mail.start(host="127.0.0.1", port=0)
    databases = {name: root / f"{name}.db" for name in (STAFF, FINANCE, NOTIFY)}

    def url(name: str) -> str:
        return f"sqlite+aiosqlite:///{databases[name]}"

    staff = await staff_server.start(
        address="127.0.0.1:0", database_url=url(STAFF), tls=pki.files(STAFF)
    )
    servers = {
        STAFF: staff,
        FINANCE: await finance_server.start(
            address="127.0.0.1:0",
            database_url=url(FINANCE),
            tls=pki.files(FINANCE),
            staff_address=f"127.0.0.1:{staff.port}",
        ),
        NOTIFY: await notify_server.start(
            address="127.0.0.1:0",
            database_url=url(NOTIFY),
            mailer=SmtpMailer(host="127.0.0.1", port=mail.port, mail_from="csd-ops@csd.example"),
            phone=LogProvider(root / "phone.log"),
            tls=pki.files(NOTIFY),
        ),
    }
    secured = Secured(pki, servers, databases, mail)
    admin = pki.files(ADMIN)
    async with (
        open_channel(secured.address(STAFF), to=STAFF, tls=admin) as staff,
        open_channel(secured.address(FINANCE), to=FINANCE, tls=admin) as finance,
    ):
        await load_demo(staff_pb2_grpc.StaffServiceStub(staff))
        await publish_regulation_policy(finance_pb2_grpc.FinanceServiceStub(finance))
    try:
        yield secured
    finally:
        for running in servers.values():
            await running.stop(grace=0)
        await mail.stop()


def _stamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _leave(reference: str) -> S.LeaveRecord:
    return S.LeaveRecord(
        reference=reference,
        person_id="zhao.lei",
        leave_type="annual",
        start=S.HalfDay(date="2027-03-02", half=AM),
        end=S.HalfDay(date="2027-03-03", half=PM),
        half_days=4,
        approved_by="wang.qiang",
        rule_id="LV-1",
    )


@dataclass(frozen=True)
class Write:
    """One internal write: its service, RPC, a valid request, and a part it is open to."""

    service: str
    rpc: str
    request: Callable[[str], Any]  # a fresh request from a key, so each try is new
    allowed: str
    refused: str = ""  # a part it is not open to; by default the first other of the three

    def __str__(self) -> str:
        return self.rpc


_START = datetime(2027, 6, 1, 1, 0, tzinfo=UTC)
WRITES = [
    Write(
        STAFF,
        "UpsertPerson",
        lambda k: S.UpsertPersonRequest(
            idempotency_key=k,
            person=S.Person(
                id=f"p{k}",
                name="Mallory",
                email=f"p{k}@csd.example",
                phone="+8613800000000",
                role=S.ROLE_DEPARTMENT_MANAGER,
                track=S.TRACK_CUSTOMER_RELATIONS,
                level=16,
                region_code="head-office",
            ),
        ),
        ADMIN,
    ),
    Write(
        STAFF,
        "UpsertRegion",
        lambda k: S.UpsertRegionRequest(
            idempotency_key=k,
            region=S.Region(code=f"r{k}", name="Nowhere", tier=S.REGION_TIER_2),
        ),
        ADMIN,
    ),
    Write(
        STAFF,
        "AssignOnCall",
        lambda k: S.AssignOnCallRequest(
            idempotency_key=k,
            region_code="east",
            person_id="zhao.lei",
            starts_at=_stamp(_START),
            ends_at=_stamp(_START + timedelta(hours=12)),
        ),
        ADMIN,
    ),
    Write(
        STAFF,
        "PublishCalendarYear",
        lambda k: S.PublishCalendarYearRequest(
            idempotency_key=k, year=2029, days_off=["2029-02-14"], source="test"
        ),
        ADMIN,
    ),
    Write(
        STAFF,
        "RecordLeave",
        lambda k: S.RecordLeaveRequest(idempotency_key=k, record=_leave(f"leave-{k}")),
        WORKER,
    ),
    Write(
        STAFF,
        "CancelLeaveRecord",
        lambda k: S.CancelLeaveRecordRequest(
            idempotency_key=k, reference="leave-to-cancel", reason="plans changed"
        ),
        WORKER,
    ),
    Write(
        STAFF,
        "ReportAttendance",
        lambda k: S.ReportAttendanceRequest(
            idempotency_key=k,
            day=S.AttendanceDay(
                person_id="zhao.lei", date="2026-11-02", status=S.ATTENDANCE_STATUS_OFFICE
            ),
        ),
        GATEWAY,
    ),
    Write(
        STAFF,
        "ImportAttendance",
        lambda k: S.ImportAttendanceRequest(
            idempotency_key=k,
            csv="person_id,date,status,hospital,city,place_region_code,note\n"
            "liu.yang,2026-11-03,office,,,,\n",
            imported_by="chen.jing",
        ),
        GATEWAY,
    ),
    Write(
        STAFF,
        "OpenMissingReports",
        # Nobody in the east reported a day of June: each of them becomes an occurrence.
        lambda k: S.OpenMissingReportsRequest(region_code="east", as_of="2027-07-01", more_than=8),
        WORKER,
    ),
    Write(
        STAFF,
        "RecordAbsence",
        lambda k: S.RecordAbsenceRequest(
            idempotency_key=k,
            person_id="zhao.lei",
            days=["2026-11-04"],
            reference=f"SC-{k}"[:60],
            recorded_by="chen.jing",
        ),
        WORKER,
    ),
    Write(
        FINANCE,
        "PublishPolicy",
        lambda k: F.PublishPolicyRequest(
            idempotency_key=k, policy=later_policy(version=f"v{k}", effective_from="2099-01-01")
        ),
        ADMIN,
    ),
    Write(
        FINANCE,
        "RecordEntry",
        lambda k: F.RecordEntryRequest(idempotency_key=k, entry=entry(reference=f"ref-{k}")),
        WORKER,
    ),
    Write(
        FINANCE,
        "RecordPreApproval",
        lambda k: F.RecordPreApprovalRequest(
            idempotency_key=k,
            pre_approval=F.PreApproval(
                reference=f"PA-{k}"[:100],
                person_id="zhao.lei",
                category="hospitality",
                approved_fen=100_00,
                approved_by="huang.aiping",
            ),
        ),
        WORKER,
    ),
    Write(
        FINANCE,
        "RecordClaimUsage",
        lambda k: F.RecordClaimUsageRequest(
            idempotency_key=k,
            claim=f"claim-{k}",
            person_id="zhao.lei",
            lodging=[F.ClaimLine(number=1, category="lodging", date="2026-11-02", city="Wuxi")],
        ),
        WORKER,
    ),
    Write(
        FINANCE,
        "RecordSalary",
        lambda k: F.RecordSalaryRequest(
            idempotency_key=k,
            person_id="zhao.lei",
            effective_from="2026-07-01",
            base_fen=9_000_00,
            reference="test",
            recorded_by="huang.aiping",
        ),
        WORKER,
    ),
    Write(
        FINANCE,
        "RecordPerformancePay",
        lambda k: F.RecordPerformancePayRequest(
            idempotency_key=k,
            person_id="zhao.lei",
            month="2026-06",
            amount_fen=500_00,
            recorded_by="huang.aiping",
        ),
        GATEWAY,
    ),
    Write(
        FINANCE,
        "SettleMonth",
        lambda k: F.SettleMonthRequest(
            idempotency_key=k,
            person_id="zhao.lei",
            month="2026-05",
            region_code="east",
            settled_by="chen.jing",
        ),
        WORKER,
    ),
    Write(
        FINANCE,
        "RecordRateAdjustment",
        lambda k: F.RecordRateAdjustmentRequest(
            idempotency_key=k,
            person_id="zhao.lei",
            month="2026-04",
            tier="1",
            daily_fen=60_00,
            reference=f"rate-{k}",
            approved_by="zheng.hua",
        ),
        WORKER,
    ),
    Write(
        STAFF,
        "UpsertProject",
        lambda k: S.UpsertProjectRequest(
            idempotency_key=k,
            project=S.Project(
                code=f"p-{k}"[:64],
                hospital="Mallory's clinic",
                region_code="east",
                engineer_id="zhao.lei",
                active=True,
            ),
        ),
        ADMIN,
    ),
    Write(
        STAFF,
        "AppendLogEntry",
        lambda k: S.AppendLogEntryRequest(
            idempotency_key=k,
            project_code="sh-first-hospital",
            expected_version=0,
            entry=S.LogEntry(
                author_id="zhao.lei",
                contact_with="the IT director",
                channel="phone",
                summary=f"forged {k}",
                contacted_on="2026-06-01",
            ),
        ),
        GATEWAY,
        refused=ADMIN,
    ),
    Write(
        NOTIFY,
        "SendEmail",
        lambda k: N.SendEmailRequest(
            idempotency_key=k, to=["outside@elsewhere.example"], subject="hi", body_text="x"
        ),
        WORKER,
    ),
    Write(
        NOTIFY,
        "PlaceCall",
        lambda k: N.PlaceCallRequest(idempotency_key=k, phone="+8613900000000", message="x"),
        WORKER,
    ),
    Write(
        NOTIFY,
        "SendSms",
        lambda k: N.SendSmsRequest(idempotency_key=k, phone="+8613900000000", text="x"),
        WORKER,
    ),
    Write(
        NOTIFY,
        "SendAlert",
        lambda k: N.SendAlertRequest(
            idempotency_key=k,
            to=["wang.qiang@csd.example"],
            subject="breach",
            body_text="x",
            severity=N.SEVERITY_BREACH,
        ),
        WORKER,
    ),
]

_STUBS: dict[str, Callable[[grpc.aio.Channel], Any]] = {
    STAFF: staff_pb2_grpc.StaffServiceStub,
    FINANCE: finance_pb2_grpc.FinanceServiceStub,
    NOTIFY: notify_pb2_grpc.NotifyServiceStub,
}


def _rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what "nothing written" is checked against."""
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


async def _call(
    secured: Secured, write: Write, key: str, channel_for: Callable[[str], grpc.aio.Channel]
) -> Any:
    key = "".join(c if c.isalnum() else "-" for c in key.lower())
    async with channel_for(secured.address(write.service)) as channel:
        rpc = getattr(_STUBS[write.service](channel), write.rpc)
        return await rpc(write.request(key), timeout=10)


@pytest.fixture(scope="module")
async def leave_to_cancel(secured: Secured) -> None:
    tls = secured.pki.files(WORKER)
    async with open_channel(secured.address(STAFF), to=STAFF, tls=tls) as channel:
        await staff_pb2_grpc.StaffServiceStub(channel).RecordLeave(
            S.RecordLeaveRequest(idempotency_key="seed-cancel", record=_leave("leave-to-cancel"))
        )


@pytest.mark.usefixtures("leave_to_cancel")
@pytest.mark.parametrize("write", WRITES, ids=str)
async def test_each_internal_write_answers_only_its_parts(
    secured: Secured, write: Write, tmp_path: Path
) -> None:
    database = secured.databases[write.service]
    forged = ensure_dev_pki(tmp_path / "elsewhere").files(write.allowed)
    wrong = write.refused or next(p for p in (GATEWAY, WORKER, ADMIN) if p != write.allowed)
    before = _rows(database)

    refused: dict[str, grpc.StatusCode] = {}
    attempts: dict[str, Callable[[str], grpc.aio.Channel]] = {
        "plain text": lambda a: grpc.aio.insecure_channel(a),
        "no client certificate": lambda a: grpc.aio.secure_channel(
            a,
            grpc.ssl_channel_credentials(root_certificates=secured.pki.ca.read_bytes()),
            options=[("grpc.ssl_target_name_override", f"{write.service}.csd-ops")],
        ),
        # Trusting our CA, so the server checks out, but showing a certificate of another.
        "another CA's certificate": lambda a: open_channel(
            a,
            to=write.service,
            tls=TlsFiles(secured.pki.ca, forged.cert, forged.key),
        ),
        f"the {wrong} part": lambda a: open_channel(
            a, to=write.service, tls=secured.pki.files(wrong)
        ),
    }
    for name, channel_for in attempts.items():
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _call(secured, write, f"{write.rpc}-{name}", channel_for)
        refused[name] = err.value.code()
        assert _rows(database) == before, f"{write.rpc} by {name} wrote something"

    # Without a certificate the handshake itself fails; a certificate of the CA gets an answer
    # that names the rule.
    assert refused == {
        "plain text": grpc.StatusCode.UNAVAILABLE,
        "no client certificate": grpc.StatusCode.UNAVAILABLE,
        "another CA's certificate": grpc.StatusCode.UNAVAILABLE,
        f"the {wrong} part": grpc.StatusCode.PERMISSION_DENIED,
    }
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _call(
            secured,
            write,
            f"{write.rpc}-again",
            lambda a: open_channel(a, to=write.service, tls=secured.pki.files(wrong)),
        )
    assert f"not open to the {wrong} part" in (err.value.details() or "")
    assert write.allowed in (err.value.details() or "")

    await _call(
        secured,
        write,
        f"{write.rpc}-allowed",
        lambda a: open_channel(a, to=write.service, tls=secured.pki.files(write.allowed)),
    )
    assert _rows(database) != before


# The internal RPCs that write nothing; every other one must be among WRITES above.
READS = frozenset({"AddWorkingTime", "ShiftWorkingDays", "AuditClaim"})


def test_every_internal_write_is_tried_by_every_wrong_caller() -> None:
    """A new write RPC must join WRITES, so that its allow-list is proven, not only declared."""
    tried = {w.rpc for w in WRITES}
    for callers in (staff_callers.CALLERS, finance_callers.CALLERS, notify_callers.CALLERS):
        for rpc in callers:
            if rpc in READS or rpc.startswith(
                ("Get", "List", "Count", "Resolve", "Lookup", "Summarize", "Export")
            ):
                continue
            assert rpc in tried, f"{rpc} writes: add it to WRITES"


def test_every_rpc_says_who_may_call_it() -> None:
    """A new RPC without an entry would be shut to everyone; an entry without an RPC is stale."""
    for descriptor, callers in (
        (S.DESCRIPTOR.services_by_name["StaffService"], staff_callers.CALLERS),
        (F.DESCRIPTOR.services_by_name["FinanceService"], finance_callers.CALLERS),
        (N.DESCRIPTOR.services_by_name["NotifyService"], notify_callers.CALLERS),
    ):
        assert set(callers) == {m.name for m in descriptor.methods}, descriptor.full_name
        assert all(callers.values()), descriptor.full_name


async def test_health_answers_any_part_of_the_ca(secured: Secured) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with open_channel(
        secured.address(NOTIFY), to=NOTIFY, tls=secured.pki.files(GATEWAY)
    ) as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_client_refuses_a_server_that_is_not_the_part_it_meant(secured: Secured) -> None:
    """The worker dialling finance's address but reaching staff (a wrong address, a hijacked
    name) does not hand staff its fines."""
    async with open_channel(
        secured.address(STAFF), to=FINANCE, tls=secured.pki.files(WORKER)
    ) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await finance_pb2_grpc.FinanceServiceStub(channel).RecordEntry(
                F.RecordEntryRequest(idempotency_key="misrouted", entry=entry()), timeout=10
            )
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_reads_of_personal_data_are_limited_too(secured: Secured) -> None:
    """The gateway part may look a person up, not list everyone's phones or the delivery log."""
    tls = secured.pki.files(GATEWAY)
    async with (
        open_channel(secured.address(STAFF), to=STAFF, tls=tls) as staff,
        open_channel(secured.address(NOTIFY), to=NOTIFY, tls=tls) as notify,
    ):
        person = await staff_pb2_grpc.StaffServiceStub(staff).GetPerson(
            S.GetPersonRequest(id="zhao.lei")
        )
        assert person.id == "zhao.lei"
        for call in (
            staff_pb2_grpc.StaffServiceStub(staff).ListPeople(S.ListPeopleRequest()),
            notify_pb2_grpc.NotifyServiceStub(notify).ListDeliveries(N.ListDeliveriesRequest()),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def _settings(**changes: str) -> Settings:
    return dataclasses.replace(
        Settings.from_env(), **{"tls_ca": "", "tls_cert": "", "tls_key": "", **changes}
    )


def test_a_part_serves_plain_text_only_in_dev_mode_on_loopback(tmp_path: Path) -> None:
    assert listening_tls(_settings(auth_mode="dev"), "127.0.0.1:50052") is None
    for settings, address in (
        (_settings(auth_mode="jwt"), "127.0.0.1:50052"),
        (_settings(auth_mode="dev"), "0.0.0.0:50052"),
    ):
        with pytest.raises(SystemExit, match="would answer anyone in plain text"):
            listening_tls(settings, address)
    files = ensure_dev_pki(tmp_path).files(STAFF)
    with pytest.raises(SystemExit, match="CSD_TLS_KEY is not set"):
        listening_tls(_settings(tls_ca=str(files.ca), tls_cert=str(files.cert)), "0.0.0.0:1")
    with pytest.raises(SystemExit, match="not a readable file"):
        listening_tls(
            _settings(tls_ca=str(files.ca), tls_cert=str(files.cert), tls_key="/nonexistent"),
            "0.0.0.0:1",
        )
    given = _settings(tls_ca=str(files.ca), tls_cert=str(files.cert), tls_key=str(files.key))
    assert listening_tls(given, "0.0.0.0:1") == files


def test_the_dev_ca_is_made_once_and_renewed_near_expiry(tmp_path: Path) -> None:
    first = ensure_dev_pki(tmp_path)
    cert = first.files(WORKER).cert.read_bytes()
    assert ensure_dev_pki(tmp_path).files(WORKER).cert.read_bytes() == cert
    assert (first.folder / "ca-key.pem").stat().st_mode & 0o777 == 0o600
    later = datetime.now(UTC) + timedelta(days=340)
    assert ensure_dev_pki(tmp_path, now=later).files(WORKER).cert.read_bytes() != cert
