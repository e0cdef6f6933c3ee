"""The Web UI's codec endpoint decides per case (issue 12): in jwt mode the gateway serves it, a
payload names its case (authenticated by the encryption), and it is decoded only for a person
the case's read rule admits; anyone else gets 403 and no clear text, no token 401, and a payload
relabelled as another case's fails to decrypt."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.gateway import server as gateway_server
from services.gateway.bearer_tokens import JwtAuthenticator, key_source
from services.gateway.local_keys import LocalKeys, ensure_local_keys, local_token
from services.runtime.payload_codec import CASE, Keyring
from services.runtime.temporal_client import data_converter
from tests.ports import free_port
from tests.stack import Stack

ORIGIN = "http://127.0.0.1:8233"
SECRET = "Ward 7 export shows patient Zhang San twice"


@dataclass
class Served:
    gateway: GatewayServiceStub
    decode_url: str
    keys: LocalKeys
    plain: Client  # the same server without the codec: sees what Temporal stores

    def token(self, person: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {local_token(self.keys, person)}", "Origin": ORIGIN}


@pytest.fixture
async def served(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str, tmp_path: Any
) -> AsyncIterator[Served]:
    keys = ensure_local_keys(tmp_path / "var")
    source = key_source(str(keys.jwks))
    plain = time_skipping_env.client
    client = Client(
        plain.service_client,
        namespace=plain.namespace,
        data_converter=data_converter(Keyring.generate("k1").render()),
    )
    codec_address = f"127.0.0.1:{free_port()}"
    running = await gateway_server.start(
        authentication=lambda staff: JwtAuthenticator(
            source, issuer=keys.issuer, audience=keys.audience, staff=staff
        ),
        address="127.0.0.1:0",
        client=client,
        staff_address=stack.staff_address,
        finance_address=stack.finance_address,
        task_queue=task_queue,
        codec_address=codec_address,
        ui_origins=[ORIGIN],
    )
    try:
        async with (
            stack.worker(client, task_queue),
            grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
        ):
            yield Served(GatewayServiceStub(channel), f"http://{codec_address}/decode", keys, plain)
    finally:
        await running.stop(grace=0)


async def _start(served: Served, requester: str) -> str:
    reference = f"XA-CODEC-{uuid.uuid4().hex[:6]}"
    await served.gateway.StartAssistance(
        G.StartAssistanceRequest(
            reference=reference, target_department="rnd", subject="s", description=SECRET
        ),
        metadata=(("authorization", f"Bearer {local_token(served.keys, requester)}"),),
    )
    return f"assistance-{reference}"


async def _stored_input(served: Served, workflow_id: str) -> Payload:
    history = await served.plain.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [payload] = started.input.payloads
    return payload


def _body(*payloads: Payload) -> dict[str, Any]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


async def test_the_codec_endpoint_decodes_a_case_only_for_those_who_may_read_it(
    served: Served,
) -> None:
    workflow_id = await _start(served, "zhao.lei")
    stored = await _stored_input(served, workflow_id)
    assert stored.metadata[CASE] == workflow_id.encode()  # named, and in clear
    assert SECRET.encode() not in stored.SerializeToString()

    async with httpx.AsyncClient() as http:
        for reader in ("zhao.lei", "shi.wenjun", "huang.aiping"):
            answer = await http.post(
                served.decode_url, json=_body(stored), headers=served.token(reader)
            )
            assert answer.status_code == 200, (reader, answer.text)
            [plain] = answer.json()["payloads"]
            assert SECRET.encode() in base64.b64decode(plain["data"])

        stranger = await http.post(
            served.decode_url, json=_body(stored), headers=served.token("sun.hao")
        )
        assert stranger.status_code == 403 and SECRET not in stranger.text
        assert workflow_id in stranger.json()["message"]

        anonymous = await http.post(
            served.decode_url, json=_body(stored), headers={"Origin": ORIGIN}
        )
        assert anonymous.status_code == 401 and SECRET not in anonymous.text


async def test_a_payload_relabelled_as_a_readable_case_does_not_decrypt(served: Served) -> None:
    """sun.hao cannot read zhao.lei's case, so he puts his own case's name on its payload."""
    theirs = await _stored_input(served, await _start(served, "zhao.lei"))
    mine = await _start(served, "sun.hao")
    relabelled = Payload()
    relabelled.CopyFrom(theirs)
    relabelled.metadata[CASE] = mine.encode()
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            served.decode_url, json=_body(relabelled), headers=served.token("sun.hao")
        )
    assert answer.status_code == 422 and SECRET not in answer.text
