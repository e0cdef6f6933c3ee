"""The payload codec (issue 12): with it on, what Temporal keeps is ciphertext; keys rotate
without losing what older keys wrote; a wrong or missing key is an error, never garbage."""

from __future__ import annotations

import asyncio
import base64
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.testing import WorkflowEnvironment

from services.runtime.codec_server import CodecServer
from services.runtime.payload_codec import ENCODING, EncryptionCodec, Keyring, KeyringError
from services.runtime.temporal_client import data_converter
from tests.calendar_dates import plain_monday
from tests.stack import Stack
from workflows import leave, search_attributes
from workflows.assistance import AssistanceInput, AssistanceWorkflow, workflow_id

# ASCII: the JSON converter writes other characters as \u escapes.
SECRET = "bed 5D patient Wang Xiaoming ward-secret-7731"
PHONE = "+86-139-0000-0017"  # liu.yang's, in the demo organisation
LEAVE_REASON = "chemotherapy-cycle-3 at Ruijin"


def payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_a_payload_round_trips_and_its_text_is_gone() -> None:
    codec = EncryptionCodec(Keyring.generate("2026-12"))
    [sealed] = await codec.encode([payload(SECRET)])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata["encryption-key-id"]
    assert SECRET.encode() not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [payload(SECRET)]
    # What was written before the codec was on reads as it is.
    assert await codec.decode([payload("plain")]) == [payload("plain")]


async def test_a_rotated_keyring_reads_what_the_old_key_wrote() -> None:
    old = Keyring.generate("2026-06")
    [sealed] = await EncryptionCodec(old).encode([payload(SECRET)])
    rotated = Keyring.parse(old.rotated("2026-12").render())
    assert rotated.current == "2026-12" and set(rotated.keys) == {"2026-12", "2026-06"}
    codec = EncryptionCodec(rotated)
    assert await codec.decode([sealed]) == [payload(SECRET)]
    [fresh] = await codec.encode([payload(SECRET)])
    assert fresh.metadata["encryption-key-id"] == b"2026-12"
    # Dropping the old key too soon is a clear error, not a wrong answer.
    with pytest.raises(KeyringError, match="needs key '2026-06'"):
        await EncryptionCodec(Keyring.generate("2027-01")).decode([sealed])


async def test_a_tampered_or_relabelled_payload_fails_to_decrypt() -> None:
    keys = Keyring.generate("a").rotated("b")
    codec = EncryptionCodec(keys)
    [sealed] = await codec.encode([payload(SECRET)])
    # One bit flipped: overwriting the last byte with a constant left it unchanged whenever the
    # tag already ended in that byte (1 run in 256, seen once in a fresh-clone run).
    flipped = sealed.data[:-1] + bytes([sealed.data[-1] ^ 0x01])
    tampered = Payload(metadata=dict(sealed.metadata), data=flipped)
    relabelled = Payload(metadata={**sealed.metadata, "encryption-key-id": b"a"}, data=sealed.data)
    for bad in (tampered, relabelled):
        with pytest.raises(KeyringError, match="fails to decrypt"):
            await codec.decode([bad])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "holds no key"),
        ("k1:not-base64!", "not base64"),
        ("k1:AAAA", "is 3 bytes, not 32"),
        ("bad id:" + "A" * 44, "use 1-40 letters"),
    ],
)
def test_a_malformed_keyring_is_refused_at_start_up(text: str, words: str) -> None:
    with pytest.raises(KeyringError, match=words):
        Keyring.parse(text)


def _temporal() -> str:
    return str(Path(sys.executable).parent / "temporal")


async def _stored_bytes(tmp_path: Path, stack: Stack, payload_keys: str) -> bytes:
    """Run an XA-1 request and a sick leave to their first waits on a dev server keeping its
    database in a file; return what that database holds on disk and the two cases' histories
    as exported (what `temporal workflow show --output json` would write)."""
    await asyncio.to_thread(tmp_path.mkdir, parents=True, exist_ok=True)
    database = tmp_path / f"temporal-{uuid.uuid4().hex[:6]}.db"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_temporal(),
        dev_server_extra_args=["--db-filename", str(database)],
        search_attributes=search_attributes.ALL,
        data_converter=data_converter(payload_keys),
        dev_server_log_level="error",
    )
    exported: list[str] = []
    try:
        task_queue = f"test-{uuid.uuid4()}"
        reference = f"XA-CODEC-{uuid.uuid4().hex[:6]}"
        monday = plain_monday(weeks_ahead=2).isoformat()
        async with stack.worker(env.client, task_queue):
            handle = await env.client.start_workflow(
                AssistanceWorkflow.run,
                AssistanceInput(
                    reference, "liu.yang", "east", "rnd", "Export times out", SECRET, "2024-v1"
                ),
                id=workflow_id(reference),
                task_queue=task_queue,
            )
            sick = await env.client.start_workflow(
                leave.LeaveWorkflow.run,
                leave.LeaveInput(
                    requester_id="liu.yang",
                    leave_type="sick",
                    start_date=monday,
                    start_half="am",
                    end_date=monday,
                    end_half="pm",
                    reason=LEAVE_REASON,
                    rule_version="2024-v1",
                ),
                id=leave.workflow_id("liu.yang", monday, "am") + uuid.uuid4().hex[:4],
                task_queue=task_queue,
            )
            await stack.mail.wait_for(lambda m: reference in str(m["Subject"]), 20)
            await stack.mail.wait_for(lambda m: f"{sick.id}]" in str(m["Subject"]), 20)
            status = await handle.query(AssistanceWorkflow.status)
            assert status.stage == "awaiting_coordinator"  # the workflow runs as ever
            assert status.history[0].note == SECRET  # and its parts read it in clear
            assert (await sick.query(leave.LeaveWorkflow.status)).stage == leave.AWAITING_APPROVAL
            for case in (handle, sick):
                exported.append((await case.fetch_history()).to_json())
                await case.terminate("test over")
    finally:
        await env.shutdown()

    def stored() -> bytes:
        # The database and its write-ahead log.
        files = [p for p in tmp_path.iterdir() if p.name.startswith(database.name)]
        return b"".join(p.read_bytes() for p in files)

    return await asyncio.to_thread(stored) + "".join(exported).encode()


async def test_with_the_codec_on_no_personal_data_reaches_temporals_database(
    tmp_path: Path, stack: Stack
) -> None:
    # Without the codec the description, the requester's phone and the leave's reason are on
    # disk and in the exported histories in clear (which proves the check can see them) ...
    secrets = (SECRET.encode(), PHONE.encode(), LEAVE_REASON.encode())
    clear = await _stored_bytes(tmp_path / "clear", stack, "")
    assert all(secret in clear for secret in secrets)
    # ... with it, none is.
    sealed = await _stored_bytes(tmp_path / "sealed", stack, Keyring.generate("k1").render())
    assert not any(secret in sealed for secret in secrets)


async def test_the_codec_endpoint_decodes_for_this_machines_web_ui_only() -> None:
    keys = Keyring.generate("k1")
    codec = EncryptionCodec(keys)
    server = CodecServer(codec, ui_origins=["http://127.0.0.1:8233", "http://localhost:8233"])
    await server.start()
    try:
        [sealed] = await codec.encode([payload(SECRET)])
        body = {
            "payloads": [
                {
                    "metadata": {
                        k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()
                    },
                    "data": base64.b64encode(sealed.data).decode(),
                }
            ]
        }
        url = f"http://127.0.0.1:{server.port}/decode"
        async with httpx.AsyncClient() as http:
            answer = await http.post(url, json=body, headers={"Origin": "http://localhost:8233"})
            assert answer.status_code == 200
            assert answer.headers["access-control-allow-origin"] == "http://localhost:8233"
            [plain] = answer.json()["payloads"]
            assert base64.b64decode(plain["data"]) == f'"{SECRET}"'.encode()
            preflight = await http.options(url, headers={"Origin": "http://127.0.0.1:8233"})
            assert preflight.status_code == 204
            # Another site's page in the same browser may not read cases through it.
            elsewhere = await http.post(url, json=body, headers={"Origin": "https://evil.example"})
            assert elsewhere.status_code == 403 and SECRET not in elsewhere.text
            # A payload of a key it lacks is refused, not answered with garbage.
            other = EncryptionCodec(Keyring.generate("k2"))
            [foreign] = await other.encode([payload(SECRET)])
            body["payloads"][0]["metadata"]["encryption-key-id"] = base64.b64encode(b"k2").decode()
            body["payloads"][0]["data"] = base64.b64encode(foreign.data).decode()
            refused = await http.post(url, json=body)
            assert refused.status_code == 422 and "lacks" in refused.json()["message"]
            garbage = await http.post(url, content=b"{not json", headers={"Content-Type": "x"})
            assert garbage.status_code == 400
    finally:
        await server.stop()
