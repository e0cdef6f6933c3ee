"""Gateway authentication (issue 12): in jwt mode only a valid bearer token for an active staff
member gets in; everyone else is UNAUTHENTICATED and nothing is written. Dev mode, which trusts
the x-csd-user header, never listens beyond loopback."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from grpc_health.v1 import health_pb2, health_pb2_grpc
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from services.gateway import server as gateway_server
from services.gateway.bearer_tokens import JwtAuthenticator, key_source
from services.gateway.local_keys import LocalKeys, ensure_local_keys, local_token
from tests.services.gateway.conftest import gateway_for
from tests.stack import Stack


@pytest.fixture
def keys(tmp_path: Path) -> LocalKeys:
    return ensure_local_keys(tmp_path / "var")


@pytest.fixture
async def jwt_gateway(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str, keys: LocalKeys
) -> AsyncIterator[GatewayServiceStub]:
    source = key_source(str(keys.jwks))

    def authentication(staff: Any) -> JwtAuthenticator:
        return JwtAuthenticator(source, issuer=keys.issuer, audience=keys.audience, staff=staff)

    async with gateway_for(time_skipping_env.client, stack, task_queue, authentication) as stub:
        yield stub


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def claims(keys: LocalKeys, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "liu.yang",
        "iss": keys.issuer,
        "aud": keys.audience,
        "iat": now,
        "exp": now + 600,
    } | changes


def signed(keys: LocalKeys, **changes: Any) -> str:
    """A token like csd token's, with `changes` to its claims."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(keys.private_key.read_bytes(), password=None)
    payload = {k: v for k, v in claims(keys, **changes).items() if v is not None}
    return jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": keys.key_id})  # type: ignore[arg-type]


def start_request(reference: str) -> G.StartAssistanceRequest:
    return G.StartAssistanceRequest(
        reference=reference,
        target_department="testing",
        subject="Need a regression run",
        description="The hospital upgrades on Friday.",
    )


BAD_TOKENS: dict[str, Any] = {
    "no token": lambda keys: (),
    "not a bearer": lambda keys: (("authorization", "Basic bGl1LnlhbmcK"),),
    "not a JWT": lambda keys: bearer("not.a.token"),
    "expired": lambda keys: bearer(signed(keys, exp=int(time.time()) - 120)),
    "no expiry": lambda keys: bearer(signed(keys, exp=None)),
    "other audience": lambda keys: bearer(signed(keys, aud="someone-else")),
    "other issuer": lambda keys: bearer(signed(keys, iss="https://evil.example")),
    "unknown person": lambda keys: bearer(signed(keys, sub="nobody.here")),
    "another key, unknown id": lambda keys: bearer(
        jwt.encode(claims(keys), ec.generate_private_key(ec.SECP256R1()), "ES256", {"kid": "other"})
    ),
    "another key under our key id": lambda keys: bearer(
        jwt.encode(claims(keys), Ed25519PrivateKey.generate(), "EdDSA", {"kid": keys.key_id})
    ),
    "the dev header": lambda keys: (("x-csd-user", "liu.yang"),),
    "a good token beside the dev header": lambda keys: (
        *bearer(local_token(keys, "liu.yang")),
        ("x-csd-user", "huang.aiping"),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_a_caller_without_a_valid_token_is_unauthenticated_and_writes_nothing(
    jwt_gateway: GatewayServiceStub,
    stack: Stack,
    time_skipping_env: WorkflowEnvironment,
    keys: LocalKeys,
    case: str,
) -> None:
    reference = f"XA-AUTH-{uuid.uuid4().hex[:8]}"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await jwt_gateway.StartAssistance(start_request(reference), metadata=BAD_TOKENS[case](keys))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED, err.value.details()
    assert "Traceback" not in (err.value.details() or "")
    # Nothing started, nothing sent.
    with pytest.raises(RPCError):
        await time_skipping_env.client.get_workflow_handle(f"assistance-{reference}").describe()
    assert not [m for m in stack.mail.messages if reference in str(m["Subject"])]


async def test_a_valid_token_gets_in_and_its_person_acts_only_as_themself(
    jwt_gateway: GatewayServiceStub, keys: LocalKeys
) -> None:
    reference = f"XA-AUTH-{uuid.uuid4().hex[:8]}"
    ref = await jwt_gateway.StartAssistance(
        start_request(reference), metadata=bearer(local_token(keys, "liu.yang"))
    )
    assert ref.workflow_id == f"assistance-{reference}"
    for _ in range(100):
        status = await jwt_gateway.GetAssistance(
            G.GetAssistanceRequest(reference=reference),
            metadata=bearer(local_token(keys, "liu.yang")),
        )
        if status.stage == "awaiting_coordinator":
            break
    # Authenticated, but not the coordinator: refused, and the request stays where it was.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await jwt_gateway.AcceptAssistance(
            G.AcceptAssistanceRequest(reference=reference),
            metadata=bearer(local_token(keys, "wang.qiang")),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Nor may one person file for another.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await jwt_gateway.StartAssistance(
            G.StartAssistanceRequest(
                reference=f"{reference}-x",
                requester_id="zhao.lei",
                target_department="testing",
                subject="s",
                description="d",
            ),
            metadata=bearer(local_token(keys, "liu.yang")),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    accepted = await jwt_gateway.AcceptAssistance(
        G.AcceptAssistanceRequest(reference=reference),
        metadata=bearer(local_token(keys, "shi.wenjun")),
    )
    assert accepted.stage == "coordinating"


async def test_a_rotated_key_set_is_read_without_a_restart(
    jwt_gateway: GatewayServiceStub, keys: LocalKeys
) -> None:
    """A new key added to the JWKS file is trusted at once; the old one stays valid."""
    new_key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(new_key.public_key()))
    key_set = json.loads(keys.jwks.read_text())
    key_set["keys"].append({**public, "kid": "rotated-2027", "alg": "ES256", "use": "sig"})
    keys.jwks.write_text(json.dumps(key_set))
    token = jwt.encode(claims(keys), new_key, "ES256", {"kid": "rotated-2027"})
    for token_of_either in (token, local_token(keys, "liu.yang")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await jwt_gateway.GetAssistance(
                G.GetAssistanceRequest(reference="XA-none"), metadata=bearer(token_of_either)
            )
        assert err.value.code() == grpc.StatusCode.NOT_FOUND  # in, and told there is no such case


async def test_health_answers_without_a_token(
    time_skipping_env: WorkflowEnvironment, stack: Stack, keys: LocalKeys
) -> None:
    """Probes and grpcurl's reflection need no token; only GatewayService RPCs do."""
    source = key_source(str(keys.jwks))
    running = await gateway_server.start(
        address="127.0.0.1:0",
        client=time_skipping_env.client,
        staff_address=stack.staff_address,
        finance_address=stack.finance_address,
        authentication=lambda staff: JwtAuthenticator(
            source, issuer=keys.issuer, audience=keys.audience, staff=staff
        ),
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="csd.gateway.v1.GatewayService")
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await GatewayServiceStub(channel).GetAssistance(
                    G.GetAssistanceRequest(reference="XA-none")
                )
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await running.stop(grace=0)


async def test_dev_mode_refuses_to_listen_beyond_loopback(
    time_skipping_env: WorkflowEnvironment, stack: Stack
) -> None:
    with pytest.raises(ValueError, match="listens only on loopback"):
        await gateway_server.start(
            address="0.0.0.0:0",
            client=time_skipping_env.client,
            staff_address=stack.staff_address,
            finance_address=stack.finance_address,
            authentication=gateway_server.dev_authentication,
        )
    assert gateway_server.is_loopback("127.0.0.1:50051")
    assert gateway_server.is_loopback("[::1]:50051") and gateway_server.is_loopback("localhost:1")
    assert not gateway_server.is_loopback("10.0.0.5:50051")
