"""The worker's workflow cache is a setting (CSD_WORKER_CACHED_WORKFLOWS): sized for the largest
burst of cases that wake at once, so none of them is rebuilt from its history mid-burst."""

from __future__ import annotations

import pytest

from services.runtime.settings import Settings
from services.worker.main import MAX_CACHED_WORKFLOWS, cached_workflows


def _settings(monkeypatch: pytest.MonkeyPatch, value: str | None) -> Settings:
    if value is None:
        monkeypatch.delenv("CSD_WORKER_CACHED_WORKFLOWS", raising=False)
    else:
        monkeypatch.setenv("CSD_WORKER_CACHED_WORKFLOWS", value)
    return Settings.from_env()


def test_unset_it_is_csd_opss_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cached_workflows(_settings(monkeypatch, None)) == MAX_CACHED_WORKFLOWS


def test_a_whole_number_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cached_workflows(_settings(monkeypatch, " 2500 ")) == 2500


@pytest.mark.parametrize("value", ["0", "-5", "many", "1.5"])
def test_anything_else_stops_the_worker_saying_what_to_set(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        cached_workflows(_settings(monkeypatch, value))
    message = str(stopped.value)
    assert "CSD_WORKER_CACHED_WORKFLOWS" in message and repr(value.strip()) in message
    assert str(MAX_CACHED_WORKFLOWS) in message
