"""Fuzzed input on the gateway's starting RPCs: never INTERNAL or UNKNOWN, and a refused request
starts nothing.

The generator is seeded, so a failure reproduces: the message names the seed and the request.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from google.protobuf.message import Message

pytestmark = pytest.mark.faults

SEED = 20261127
REFUSALS = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.ALREADY_EXISTS,
}
NASTY = [
    "", " ", "\t\n", "\x00", "'; DROP TABLE staff_people; --", "x" * 5000, "東" * 300, "😀" * 50,
    "..", "a b", "-leading", "RQ-1", "zhao.lei", "east", "mars", "2026-02-30", "2099-01-01",
    "program_crash", "annual", "\u202e", "%s%s%s", "{}", "null",
]  # fmt: skip


def text(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(NASTY)
    alphabet = "abcXYZ019._- \x01东€'\""
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))


def requests(rng: random.Random) -> list[tuple[str, Callable[[], Message]]]:
    return [
        ("StartAssistance", lambda: G.StartAssistanceRequest(
            reference=text(rng), requester_id=text(rng), region_code=text(rng),
            target_department=text(rng), subject=text(rng), description=text(rng))),
        ("RequestLeave", lambda: G.RequestLeaveRequest(
            leave_type=text(rng), start_date=text(rng), end_date=text(rng), reason=text(rng),
            start_half=rng.choice([0, 1, 2, 7]), end_half=rng.choice([0, 1, 2, -1]))),  # type: ignore[arg-type]
        ("ReportMajorProblem", lambda: G.ReportMajorProblemRequest(
            reference=text(rng), category=text(rng), hospital=text(rng), product=text(rng),
            description=text(rng), evidence=[text(rng) for _ in range(rng.randint(0, 25))])),
        ("SubmitRequirement", lambda: G.SubmitRequirementRequest(
            reference=text(rng), hospital=text(rng), product_module=text(rng), purpose=text(rng),
            business_scenario=text(rng), description=text(rng), region_code=text(rng))),
        ("ReportAssistanceBypass", lambda: G.ReportAssistanceBypassRequest(
            reference=text(rng), person_id=text(rng), occurred_on=text(rng),
            description=text(rng))),
        ("ListRequirements", lambda: G.ListRequirementsRequest(
            region_code=text(rng), hospital=text(rng), stage=text(rng), sla_state=text(rng),
            min_age_days=rng.randint(-5, 5), max_age_days=rng.randint(-5, 5),
            limit=rng.choice([0, 1, -1, 10**6]))),
    ]  # fmt: skip


async def test_fuzzed_requests_are_refused_cleanly(gateway: GatewayServiceStub) -> None:
    rng = random.Random(SEED)
    callers = ["zhao.lei", "chen.jing", "gao.lei", "nobody", ""]
    seen: dict[grpc.StatusCode, int] = {}
    for round_ in range(25):
        for rpc, build in requests(rng):
            message = build()
            user = rng.choice(callers)
            metadata = (("x-csd-user", user),) if user else ()
            try:
                await getattr(gateway, rpc)(message, metadata=metadata, timeout=20)
                seen[grpc.StatusCode.OK] = seen.get(grpc.StatusCode.OK, 0) + 1
            except grpc.aio.AioRpcError as err:
                assert err.code() in REFUSALS, (
                    f"seed {SEED}, round {round_}: {rpc}({message!r}) as {user!r} gave "
                    f"{err.code().name}: {err.details()}"
                )
                assert err.details() and "Traceback" not in err.details()
                seen[err.code()] = seen.get(err.code(), 0) + 1
    # The generator reached the validators, not just the identity check.
    assert seen.get(grpc.StatusCode.INVALID_ARGUMENT, 0) > 20
