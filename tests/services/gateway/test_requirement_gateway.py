"""Requirements through the gateway: RQ-1 at the door, the tracking sheet (RQ-3) and its CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from typing import Any

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub

from tests.services.gateway.conftest import requirement_routed
from tests.stack import Stack

RQ1 = "a requirement without its purpose and business scenario is refused (RQ-1)"


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def submission(reference: str, **changes: object) -> G.SubmitRequirementRequest:
    fields: dict[str, object] = {
        "reference": reference,
        "hospital": "上海第一醫院",
        "product_module": "EMR nursing",
        "purpose": "Sort the ward report by bed",
        "business_scenario": "Morning handover",
        "description": "Add a bed-order option.",
    }
    fields.update(changes)
    return G.SubmitRequirementRequest(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        # The workflow's own words (workflows/requirement.py::validate), said before any start.
        ({"purpose": " "}, grpc.StatusCode.INVALID_ARGUMENT, f"purpose is required: {RQ1}"),
        (
            {"business_scenario": ""},
            grpc.StatusCode.INVALID_ARGUMENT,
            f"business_scenario is required: {RQ1}",
        ),
        ({"hospital": ""}, grpc.StatusCode.INVALID_ARGUMENT, "hospital"),
        ({"region_code": "mars"}, grpc.StatusCode.NOT_FOUND, "mars"),
        ({"requester_id": "liu.yang"}, grpc.StatusCode.PERMISSION_DENIED, "on behalf"),
    ],
)
async def test_bad_submissions_are_refused_with_the_reason(
    gateway: GatewayServiceStub, changes: dict[str, object], code: grpc.StatusCode, words: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.SubmitRequirement(
            submission("RQ-bad", **changes), metadata=as_user("zhao.lei")
        )
    assert err.value.code() == code
    assert words in (err.value.details() or "")


async def test_only_support_filters_and_the_record_reads_back(gateway: GatewayServiceStub) -> None:
    reference = f"RQ-{uuid.uuid4().hex[:8]}"
    await gateway.SubmitRequirement(submission(reference), metadata=as_user("zhao.lei"))
    await requirement_routed(gateway, reference)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.FilterRequirement(
            G.FilterRequirementRequest(reference=reference, accept=True),
            metadata=as_user("wang.qiang"),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    accepted = await gateway.FilterRequirement(
        G.FilterRequirementRequest(reference=reference, accept=True), metadata=as_user("gao.lei")
    )
    assert accepted.stage == "awaiting_sync"
    # The reply carries the sync the acceptance leads to, as the case does.
    assert accepted.next_sync.endswith("T10:00:00+08:00")
    read = await gateway.GetRequirement(
        G.GetRequirementRequest(reference=reference), metadata=as_user("gao.lei")
    )
    assert read.next_sync == accepted.next_sync
    assert read.submitted_at.endswith("+08:00") and all(
        e.at.endswith("+08:00") for e in read.history
    )
    assert list(accepted.missing_confirmations) == ["application", "solution", "verification"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.RecordSyncOutcome(
            G.RecordSyncOutcomeRequest(
                reference=reference, outcome=G.SYNC_OUTCOME_SOLUTION, text="x"
            ),
            metadata=as_user("gao.lei"),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # the sync has not come yet
    confirmed = await gateway.RegisterConfirmation(
        G.RegisterConfirmationRequest(
            reference=reference,
            kind=G.CONFIRMATION_KIND_APPLICATION,
            file_reference="file://signed/app.pdf",
            signer="Dr. 王",
            signed_on="2026-11-20",
        ),
        metadata=as_user("zhao.lei"),
    )
    assert list(confirmed.missing_confirmations) == ["solution", "verification"]


async def test_a_mail_refused_for_good_shows_in_the_reply_and_the_requirement_goes_on(
    gateway: GatewayServiceStub, stack: Stack
) -> None:
    stack.mail.refuse("gao.lei@csd.example")
    reference = f"RQ-{uuid.uuid4().hex[:8]}"
    await gateway.SubmitRequirement(submission(reference), metadata=as_user("zhao.lei"))
    for _ in range(200):
        read = await gateway.GetRequirement(
            G.GetRequirementRequest(reference=reference), metadata=as_user("zhao.lei")
        )
        if read.notices:
            break
        await asyncio.sleep(0.05)
    assert len(read.notices) == 1 and "高雷" in read.notices[0]
    assert read.history[-1].kind == "notice" and read.history[-1].note == read.notices[0]
    accepted = await gateway.FilterRequirement(
        G.FilterRequirementRequest(reference=reference, accept=True), metadata=as_user("gao.lei")
    )
    assert accepted.stage == "awaiting_sync" and list(accepted.notices) == list(read.notices)


BAD = [
    (
        "RecordSyncOutcome",
        G.RecordSyncOutcomeRequest(reference="RQ-x", outcome=G.SYNC_OUTCOME_UNSPECIFIED, text="t"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "RecordSyncOutcome",
        G.RecordSyncOutcomeRequest(reference="RQ-x", outcome=9, text="t"),  # type: ignore[arg-type]
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "RegisterConfirmation",
        G.RegisterConfirmationRequest(
            reference="RQ-x",
            kind=G.CONFIRMATION_KIND_SOLUTION,
            file_reference="f",
            signer="s",
            signed_on="yesterday",
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "RegisterConfirmation",
        G.RegisterConfirmationRequest(
            reference="RQ-x", file_reference="f", signer="s", signed_on="2026-01-01"
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ReleaseRequirement",
        G.ReleaseRequirementRequest(reference="RQ-x", version=""),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "CloseRequirement",
        G.CloseRequirementRequest(reference="RQ-missing"),
        grpc.StatusCode.NOT_FOUND,
    ),
    (
        "GetRequirement",
        G.GetRequirementRequest(reference="bad ref"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "RecordRevisit",
        G.RecordRevisitRequest(reference="RQ-missing", satisfied=True),
        grpc.StatusCode.NOT_FOUND,
    ),
    ("ListRequirements", G.ListRequirementsRequest(stage="lost"), grpc.StatusCode.INVALID_ARGUMENT),
    (
        "ListRequirements",
        G.ListRequirementsRequest(region_code="x' OR '1'='1"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ListRequirements",
        G.ListRequirementsRequest(sla_state="late"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ListRequirements",
        G.ListRequirementsRequest(min_age_days=5, max_age_days=2),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        # Issue 12: once INTERNAL (the date arithmetic overflowed).
        "ListRequirements",
        G.ListRequirementsRequest(min_age_days=2**31 - 1),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "ExportRequirements",
        G.ListRequirementsRequest(limit=100000),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
]


@pytest.mark.parametrize(("rpc", "message", "code"), BAD)
async def test_bad_requirement_requests_get_clear_statuses(
    gateway: GatewayServiceStub, rpc: str, message: object, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(gateway, rpc)(message, metadata=as_user("gao.lei"))
    assert err.value.code() == code
    assert err.value.details()


async def test_the_tracking_sheet_filters_and_exports(dev_gateway: GatewayServiceStub) -> None:
    tag = uuid.uuid4().hex[:6]
    await dev_gateway.SubmitRequirement(submission(f"RQ-{tag}-a"), metadata=as_user("zhao.lei"))
    await dev_gateway.SubmitRequirement(
        submission(f"RQ-{tag}-b", hospital="武漢協和醫院"), metadata=as_user("ma.chao")
    )
    await requirement_routed(dev_gateway, f"RQ-{tag}-a")
    await dev_gateway.FilterRequirement(
        G.FilterRequirementRequest(reference=f"RQ-{tag}-a", accept=True),
        metadata=as_user("gao.lei"),
    )

    async def sheet(**filters: Any) -> list[str]:
        listed = await dev_gateway.ListRequirements(
            G.ListRequirementsRequest(**filters), metadata=as_user("gao.lei")
        )
        return sorted(r.reference for r in listed.rows if tag in r.reference)

    for _ in range(100):  # the visibility store catches up within moments
        if await sheet(stage="awaiting_sync") == [f"RQ-{tag}-a"] and len(await sheet()) == 2:
            break
        await asyncio.sleep(0.1)
    assert await sheet() == [f"RQ-{tag}-a", f"RQ-{tag}-b"]
    assert await sheet(region_code="central") == [f"RQ-{tag}-b"]
    assert await sheet(hospital="武漢協和醫院") == [f"RQ-{tag}-b"]
    assert await sheet(stage="awaiting_sync") == [f"RQ-{tag}-a"]
    assert await sheet(sla_state="ok") == [f"RQ-{tag}-a", f"RQ-{tag}-b"]
    assert await sheet(min_age_days=1) == []

    exported = await dev_gateway.ExportRequirements(
        G.ListRequirementsRequest(region_code="east"), metadata=as_user("gao.lei")
    )
    rows = list(csv.DictReader(io.StringIO(exported.csv)))
    mine = [r for r in rows if r["reference"] == f"RQ-{tag}-a"]
    assert mine and mine[0]["hospital"] == "上海第一醫院" and mine[0]["stage"] == "awaiting_sync"
    assert mine[0]["missing_confirmations"] == "application solution verification"
    assert mine[0]["risk"] == "low"


async def test_the_tracking_sheet_agrees_with_the_case_after_each_step(
    dev_gateway: GatewayServiceStub,
) -> None:
    reference = f"RQ-sheet-{uuid.uuid4().hex[:6]}"

    async def agrees() -> G.RequirementRow:
        """The sheet's row says what GetRequirement says (once visibility has caught up)."""
        for _ in range(100):
            case = await dev_gateway.GetRequirement(
                G.GetRequirementRequest(reference=reference), metadata=as_user("gao.lei")
            )
            listed = await dev_gateway.ListRequirements(
                G.ListRequirementsRequest(region_code="east"), metadata=as_user("gao.lei")
            )
            rows = [r for r in listed.rows if r.reference == reference]
            expected = (
                case.stage,
                case.next_sync,
                case.syncs_deferred,
                case.feedback_sla.state,
                case.released_version,
                list(case.missing_confirmations),
                case.risk,
                case.submitted_at,
            )
            row: G.RequirementRow
            if len(rows) == 1 and expected == (
                rows[0].stage,
                rows[0].next_sync,
                rows[0].syncs_deferred,
                rows[0].feedback_sla,
                rows[0].released_version,
                list(rows[0].missing_confirmations),
                rows[0].risk,
                rows[0].submitted_at,
            ):
                row = rows[0]
                return row
            await asyncio.sleep(0.1)
        raise AssertionError(f"the sheet says {rows}, the case {expected}")

    await dev_gateway.SubmitRequirement(submission(reference), metadata=as_user("zhao.lei"))
    await requirement_routed(dev_gateway, reference)
    assert (await agrees()).stage == "submitted"
    await dev_gateway.FilterRequirement(
        G.FilterRequirementRequest(reference=reference, accept=True), metadata=as_user("gao.lei")
    )
    row = await agrees()
    assert row.stage == "awaiting_sync" and row.next_sync.endswith("+08:00")
    kinds = {
        "application": G.CONFIRMATION_KIND_APPLICATION,
        "solution": G.CONFIRMATION_KIND_SOLUTION,
        "verification": G.CONFIRMATION_KIND_VERIFICATION,
    }
    for n, (name, kind) in enumerate(kinds.items()):
        await dev_gateway.RegisterConfirmation(
            G.RegisterConfirmationRequest(
                reference=reference,
                kind=kind,
                file_reference=f"file://signed/{name}.pdf",
                signer="Dr. 王",
                signed_on="2026-11-20",
            ),
            metadata=as_user("zhao.lei"),
        )
        # A signed confirmation is filed in the sheet as soon as the case has it.
        row = await agrees()
        assert name not in row.missing_confirmations
        assert len(row.missing_confirmations) == 2 - n
    exported = await dev_gateway.ExportRequirements(
        G.ListRequirementsRequest(region_code="east"), metadata=as_user("gao.lei")
    )
    [mine] = [r for r in csv.DictReader(io.StringIO(exported.csv)) if r["reference"] == reference]
    assert mine["missing_confirmations"] == "" and mine["next_sync"] == row.next_sync
