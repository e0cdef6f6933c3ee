"""`make bench`: run the benchmarks and write bench/results.json and the table in bench/README.md.

Figures not measured yet are listed as such; each figure is measured beside its floor in the same
run and reported as the median over the rounds, with min-max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench import service_latency
from bench.measure import Figure
from services.runtime.logging import configure_logging

HERE = Path(__file__).parent
# Every figure issue 7 names, in order; the ones without a measurement yet are reported so.
NAMES = (
    "throughput_activity_ratio", "trigger_p99_ms", "approve_p99_ms", "sla_alert_p99_ms",
    "sla_burst_s", "service_read_p99_ratio", "service_write_p99_ratio", "scale_worker_rss_mib",
    "scale_report_s", "dev_start_s", "dev_idle_rss_mib",
)  # fmt: skip


def entry(figure: Figure) -> dict[str, object]:
    floor = figure.floor
    return {
        "name": figure.name,
        "unit": figure.unit,
        "value": round(figure.value, 3),
        "floor": round(floor, 3) if floor is not None else None,
        "ratio": round(figure.value, 3) if figure.unit == "ratio" else None,
        "target": figure.target,
        "met": figure.met,
        "rounds": [round(v, 3) for v in figure.values],
    }


def table(entries: list[dict[str, object]], detail: list[str]) -> str:
    measured = {e["name"]: e for e in entries}
    lines = [
        "| figure | value (median) | min-max | floor p99 (ms) | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for name in NAMES:
        e = measured.get(name)
        if e is None:
            lines.append(f"| {name} | not measured yet | | | | |")
            continue
        rounds = e["rounds"]
        assert isinstance(rounds, list)
        lines.append(
            f"| {name} | {e['value']} {e['unit']} | {min(rounds)}-{max(rounds)} | {e['floor']} "
            f"| <= {e['target']} | {'yes' if e['met'] else 'no'} |"
        )
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {d}" for d in detail) + "\n"


async def main(rounds: int) -> None:
    # Log as the services do in production (JSON lines), into a file rather than the terminal.
    configure_logging("bench")
    log_file = (HERE / "bench.log").open("w")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(log_file)
    figures, detail = await service_latency.figures(rounds)
    entries = [entry(f) for f in figures]
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "figures": entries,
    }
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    readme = (HERE / "README.md").read_text()
    start, end = "<!-- results -->", "<!-- /results -->"
    head, _, rest = readme.partition(start)
    _, _, tail = rest.partition(end)
    note = f"Measured {results['date']} on {os.cpu_count()} cores, {rounds} rounds, SQLite.\n\n"
    (HERE / "README.md").write_text(f"{head}{start}\n{note}{table(entries, detail)}{end}{tail}")
    print(table(entries, detail))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
