"""`make bench` keeps what a partial run did not measure: a family run on SQLite alone keeps its
last PostgreSQL figures and lines, dated, instead of dropping the column."""

from __future__ import annotations

from typing import Any

from bench.run import merge, table


def _entry(value: float) -> dict[str, Any]:
    return {
        "name": "sla_burst_ratio",
        "unit": "ratio",
        "value": value,
        "floor": 20.0,
        "floor_unit": "s",
        "ratio": value,
        "target": "<= 2",
        "met": True,
        "rounds": [value],
    }


PREVIOUS: dict[str, Any] = {
    "figures": [
        {
            "name": "sla_burst_ratio",
            "measured": "2026-12-02T18:35:04+00:00",
            "sqlite": _entry(1.5),
            "postgresql": _entry(1.7),
        },
        {
            "name": "dev_start_s",
            "measured": "2026-12-02T18:35:04+00:00",
            "sqlite": _entry(4.8),
            "postgresql": None,
        },
    ],
    "detail": {"sla": ["sqlite: burst, old", "postgresql: burst, old"], "footprint": ["kept"]},
}


def test_a_sqlite_only_run_keeps_the_last_postgresql_figures_dated() -> None:
    figures = {"sla_burst_ratio": {"sqlite": _entry(1.46), "postgresql": None}}
    merged, details = merge(PREVIOUS, figures, {"sla": ["sqlite: burst, new"]}, "2026-12-04T20:21")
    sla = merged["sla_burst_ratio"]
    assert sla["measured"] == "2026-12-04T20:21"
    assert sla["sqlite"]["value"] == 1.46
    assert sla["postgresql"] == {"measured": "2026-12-02T18:35:04+00:00", **_entry(1.7)}
    assert details == {
        "sla": ["sqlite: burst, new", "postgresql: burst, old"],
        "footprint": ["kept"],
    }
    assert merged["dev_start_s"] == PREVIOUS["figures"][1]
    row = next(line for line in table(merged, details).splitlines() if "sla_burst_ratio" in line)
    assert "| 1.46 ratio |" in row and "| 1.7 ratio, 2026-12-02 |" in row


def test_a_run_with_postgresql_replaces_both() -> None:
    figures = {"sla_burst_ratio": {"sqlite": _entry(1.46), "postgresql": _entry(1.6)}}
    new = ["sqlite: burst, new", "postgresql: burst, new"]
    merged, details = merge(PREVIOUS, figures, {"sla": new}, "2026-12-04T20:21")
    assert merged["sla_burst_ratio"]["postgresql"] == _entry(1.6)
    assert details["sla"] == new
