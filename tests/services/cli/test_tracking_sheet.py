"""`csd tracking-sheet` prints the sheet as CSV, or the gateway's refusal."""

from __future__ import annotations

import csv
import io

import pytest
from temporalio.testing import WorkflowEnvironment

from services.cli import main as cli
from services.gateway import server as gateway_server
from services.runtime.settings import Settings
from tests.stack import Stack


async def test_the_sheet_as_csv_and_a_refusal(
    dev_server_env: WorkflowEnvironment,
    stack: Stack,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    running = await gateway_server.start(
        authentication=gateway_server.dev_authentication,
        address="127.0.0.1:0",
        client=dev_server_env.client,
        staff_address=stack.staff_address,
        finance_address=stack.finance_address,
        task_queue=task_queue,
    )
    try:
        monkeypatch.setenv("CSD_GATEWAY_ADDRESS", f"127.0.0.1:{running.port}")
        monkeypatch.setenv("CSD_AUTH_MODE", "dev")
        from services.cli.tracking_sheet import export_csv

        text = await export_csv(
            Settings.from_env(), user="gao.lei", region="east", hospital="", stage="", sla_state=""
        )
        header = next(csv.reader(io.StringIO(text)))
        assert header[:3] == ["reference", "hospital", "product_module"]
        with pytest.raises(SystemExit):
            cli.main(["tracking-sheet"])  # --as is required
    finally:
        await running.stop(grace=0)


def test_a_refusal_is_printed_not_raised(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CSD_GATEWAY_ADDRESS", "127.0.0.1:1")
    assert cli.main(["tracking-sheet", "--as", "gao.lei"]) == 1
    assert "csd: UNAVAILABLE" in capsys.readouterr().err
