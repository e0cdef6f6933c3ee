"""XA-1 end to end on the real Temporal dev server, with the real services and SMTP."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.testing import WorkflowEnvironment

from services.gateway import server as gateway_server
from tests.stack import Stack

pytestmark = pytest.mark.e2e


async def test_assistance_request_end_to_end(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = dev_server_env.client
    running = await gateway_server.start(
        authentication=gateway_server.dev_authentication,
        address="127.0.0.1:0",
        client=client,
        staff_address=stack.staff_address,
        finance_address=stack.finance_address,
        task_queue=task_queue,
    )
    try:
        reference = f"XA-E2E-{uuid.uuid4().hex[:8]}"
        worker = stack.worker(client, task_queue)
        async with worker, grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            gateway = GatewayServiceStub(channel)
            requester = (("x-csd-user", "ma.chao"),)
            coordinator = (("x-csd-user", "shi.wenjun"),)
            await gateway.StartAssistance(
                G.StartAssistanceRequest(
                    reference=reference,
                    target_department="sales",
                    subject="Quote for the nursing module",
                    description="武漢協和 asks for a quote on the nursing module.",
                ),
                metadata=requester,
            )
            # The email to the coordinator arrives over real SMTP.
            mail = await stack.mail.wait_for(lambda m: reference in str(m["Subject"]), 15)
            assert mail["To"] == "shi.wenjun@csd.example"
            assert "xu.li@csd.example" in str(mail["Cc"]) and "he.jun@csd.example" in str(
                mail["Cc"]
            )
            assert "武漢協和" in mail.get_content()

            await gateway.AcceptAssistance(
                G.AcceptAssistanceRequest(reference=reference), metadata=coordinator
            )
            closed = await gateway.CloseAssistance(
                G.CloseAssistanceRequest(reference=reference, resolution="Quote sent by sales"),
                metadata=coordinator,
            )
            assert closed.stage == "closed"
            await client.get_workflow_handle(f"assistance-{reference}").result()

        # The Web UI's filters: the closed request is found by its search attributes.
        query = (
            "CsdProcess = 'assistance' AND CsdRegion = 'central' AND CsdStage = 'closed' "
            f"AND WorkflowId = 'assistance-{reference}'"
        )
        for _ in range(50):
            found = [w async for w in client.list_workflows(query)]
            if found:
                break
            await asyncio.sleep(0.2)
        assert len(found) == 1
        attributes = found[0].typed_search_attributes
        values = {p.key.name: p.value for p in attributes}
        assert values["CsdRuleVersion"] == "2024-v1"
        assert values["CsdSlaState"] == "met"  # accepted before any reminder was due
    finally:
        await running.stop(grace=0)
