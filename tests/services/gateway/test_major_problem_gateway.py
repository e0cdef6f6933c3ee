"""Major problems through the gateway: report, acknowledge, relay, resolve; MI-3 penalties."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub

from tests.stack import Stack


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def report(reference: str, **changes: object) -> G.ReportMajorProblemRequest:
    fields: dict[str, object] = {
        "reference": reference,
        "category": "program_crash",
        "hospital": "武漢協和醫院",
        "product": "EMR core 5.2",
        "description": "The order entry screen crashes on save for every ward.",
        "evidence": ["crash-dump-0932.txt"],
    }
    fields.update(changes)
    return G.ReportMajorProblemRequest(**fields)  # type: ignore[arg-type]


async def routed(gateway: GatewayServiceStub, reference: str) -> G.MajorProblem:
    for _ in range(200):
        problem: G.MajorProblem = await gateway.GetMajorProblem(
            G.GetMajorProblemRequest(reference=reference), metadata=as_user("ma.chao")
        )
        if problem.calls:
            return problem
        await asyncio.sleep(0.05)
    raise AssertionError("the report was never routed")


async def test_a_major_problem_through_the_gateway(
    own_gateway: GatewayServiceStub, stack: Stack
) -> None:
    ref = await own_gateway.ReportMajorProblem(report("MI-2026-001"), metadata=as_user("ma.chao"))
    assert ref.workflow_id == "major-problem-MI-2026-001"
    again = await own_gateway.ReportMajorProblem(report("MI-2026-001"), metadata=as_user("ma.chao"))
    assert again.run_id == ref.run_id
    problem = await routed(own_gateway, "MI-2026-001")
    assert (problem.region_code, problem.owner_id, problem.stage) == (
        "central",
        "zhou.xiaoming",
        "awaiting_acknowledgement",
    )
    assert [s.name for s in problem.slas] == ["acknowledgement", "resolution"]
    assert all(s.promise and s.started_at.endswith("+08:00") for s in problem.slas)
    assert (problem.sla_state, list(problem.notices)) == ("ok", [])

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await own_gateway.AcknowledgeMajorProblem(
            G.AcknowledgeMajorProblemRequest(reference="MI-2026-001"), metadata=as_user("he.jun")
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    acked = await own_gateway.AcknowledgeMajorProblem(
        G.AcknowledgeMajorProblemRequest(reference="MI-2026-001", note="looking"),
        metadata=as_user("zhou.xiaoming"),
    )
    assert acked.acknowledged_by == "zhou.xiaoming" and acked.slas[0].state == "met"
    # Every instant in a reply is in Asia/Shanghai.
    instants = [acked.acknowledged_at, *(e.at for e in acked.history)]
    instants += [t for v in acked.slas for t in (v.warn_at, v.breach_at)]
    assert instants and all(t.endswith("+08:00") for t in instants), instants
    await own_gateway.UpdateMajorProblem(
        G.UpdateMajorProblemRequest(reference="MI-2026-001", note="hotfix building"),
        metadata=as_user("zhou.xiaoming"),
    )
    resolved = await own_gateway.ResolveMajorProblem(
        G.ResolveMajorProblemRequest(
            reference="MI-2026-001", root_cause="null ward id", fix="5.2.4 hotfix"
        ),
        metadata=as_user("zhou.xiaoming"),
    )
    assert resolved.stage == "resolved"
    update = await stack.mail.wait_for(lambda m: "— update" in str(m["Subject"]), 10)
    assert update["To"] == "ma.chao@csd.example" and "hotfix building" in update.get_content()


@pytest.mark.parametrize(
    ("message", "user", "code", "words"),
    [
        (
            report("MI-x1", category="slow_screen"),
            "ma.chao",
            grpc.StatusCode.INVALID_ARGUMENT,
            "'slow_screen' is not a major problem (MI-1)",
        ),
        (
            report("MI-x2", description="  "),
            "ma.chao",
            grpc.StatusCode.INVALID_ARGUMENT,
            "description is required",
        ),
        (
            report("MI-x3", hospital=""),
            "ma.chao",
            grpc.StatusCode.INVALID_ARGUMENT,
            "hospital is required",
        ),
        (report("MI x4"), "ma.chao", grpc.StatusCode.INVALID_ARGUMENT, "reference"),
        (report("MI-x5", region_code="mars"), "ma.chao", grpc.StatusCode.NOT_FOUND, "mars"),
        (
            report("MI-x6", reporter_id="zhao.lei"),
            "ma.chao",
            grpc.StatusCode.PERMISSION_DENIED,
            "",
        ),
        (
            report("MI-x7", evidence=["e"] * 21),
            "ma.chao",
            grpc.StatusCode.INVALID_ARGUMENT,
            "at most 20 evidence references",
        ),
        (report("MI-x8"), "nobody", grpc.StatusCode.UNAUTHENTICATED, ""),
    ],
)
async def test_bad_reports_are_refused_and_start_nothing(
    gateway: GatewayServiceStub,
    message: G.ReportMajorProblemRequest,
    user: str,
    code: grpc.StatusCode,
    words: str,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.ReportMajorProblem(message, metadata=as_user(user))
    assert err.value.code() == code
    # The workflow's own words (workflows/major_problem.py::validate), said before any start.
    assert err.value.details() and words in (err.value.details() or "")
    if code != grpc.StatusCode.INVALID_ARGUMENT or message.reference != "MI x4":
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await gateway.GetMajorProblem(
                G.GetMajorProblemRequest(reference=message.reference), metadata=as_user("ma.chao")
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("rpc", "message", "words"),
    [
        (
            "ResolveMajorProblem",
            G.ResolveMajorProblemRequest(reference="MI-none", root_cause="", fix="restored"),
            "root cause and its fix (G-1)",
        ),
        (
            "UpdateMajorProblem",
            G.UpdateMajorProblemRequest(reference="MI-none", note=" "),
            "note is required",
        ),
        (
            "AcknowledgeMajorProblem",
            G.AcknowledgeMajorProblemRequest(reference="MI-none", note="x" * 4001),
            "note is longer than 4000",
        ),
    ],
)
async def test_bad_changes_are_refused_in_the_workflows_words_before_reaching_it(
    gateway: GatewayServiceStub, rpc: str, message: object, words: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(gateway, rpc)(message, metadata=as_user("zhou.xiaoming"))
    # INVALID_ARGUMENT, not NOT_FOUND: refused before the (missing) report is asked.
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in (err.value.details() or "")


async def test_a_reference_names_one_report(gateway: GatewayServiceStub) -> None:
    await gateway.ReportMajorProblem(report("MI-dup"), metadata=as_user("ma.chao"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.ReportMajorProblem(
            report("MI-dup", category="data_loss"), metadata=as_user("ma.chao")
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_handling_a_major_problem_without_reporting_it_is_fined(
    gateway: GatewayServiceStub, stack: Stack
) -> None:
    request = G.ReportUnreportedMajorProblemRequest(
        reference="MI3-2026-07",
        person_id="luo.jie",
        description="Fixed a data loss quietly, no direct report",
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.ReportUnreportedMajorProblem(request, metadata=as_user("yang.fan"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    penalty = await gateway.ReportUnreportedMajorProblem(request, metadata=as_user("chen.jing"))
    assert (penalty.rule_id, penalty.amount_fen, penalty.region_code) == (
        "MI-3",
        100_00,
        "southwest",
    )
    for _ in range(200):
        entries = await FinanceServiceStub(stack.finance).ListEntries(
            finance_pb2.ListEntriesRequest(person_id="luo.jie")
        )
        if entries.entries:
            break
        await asyncio.sleep(0.05)
    assert [(e.rule_id, e.amount_fen) for e in entries.entries] == [("MI-3", 100_00)]
