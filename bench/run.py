"""`make bench`: run the benchmarks and write bench/results.json and the table in bench/README.md.

Each figure is measured beside its floor in the same run and reported as the median over the
rounds, with min-max. The families that store through the services run twice: with the services
on SQLite, and on PostgreSQL (`--postgres`, 127.0.0.1:5432 by default) when it answers.
`--only` runs some families and keeps the other figures of the last results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import (
    decision,
    footprint,
    scale,
    service_latency,
    sla_alerts,
    throughput,
    trigger,
)
from bench.measure import Figure
from bench.system import System, running_system
from services.runtime.database import create_engine
from services.runtime.logging import configure_logging

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
# Every figure issue 16 names, in its order, then the ones kept from issue 7.
NAMES = (
    "sla_burst_ratio", "sla_alert_p99_ms", "approve_p99_ratio", "trigger_p99_ratio",
    "trigger_p99_ms", "service_write_p99_ratio", "service_read_p99_ratio",
    "worker_scaleout_ratio", "scale_start_per_s", "throughput_activity_ratio",
    "scale_worker_rss_mib", "dev_start_s", "scale_report_s", "dev_idle_rss_mib",
)  # fmt: skip
Measured = tuple[list[Figure], list[str]]
SystemFamily = Callable[[int, System], Awaitable[Measured]]
# Families that run on one `csd dev` system per database, in this order.
ON_SYSTEM: dict[str, SystemFamily] = {
    "throughput": throughput.figures,
    "trigger": trigger.figures,
    "decision": decision.figures,
    "sla": sla_alerts.figures,
}
# Families that start what they measure themselves; SQLite only.
STANDALONE: dict[str, Callable[[int], Awaitable[Measured]]] = {
    "scale": scale.figures,
    "footprint": footprint.figures,
}
FAMILIES = ("service", *ON_SYSTEM, *STANDALONE)


def entry(figure: Figure) -> dict[str, object]:
    floor, ratio = figure.floor, figure.ratio
    return {
        "name": figure.name,
        "unit": figure.unit,
        "value": round(figure.value, 3),
        "floor": round(floor, 3) if floor is not None else None,
        "floor_unit": (figure.floor_unit or figure.unit) if floor is not None else None,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "target": figure.target_text,
        "met": figure.met,
        "rounds": [round(v, 3) for v in figure.values],
    }


async def postgres_answers(url: str) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("select 1"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


async def measure(
    families: tuple[str, ...], rounds: int, postgres: str
) -> tuple[dict[str, dict[str, object]], dict[str, list[str]]]:
    """name -> {"sqlite": entry, "postgresql": entry or None}, and family -> detail lines."""
    figures: dict[str, dict[str, object]] = {}
    detail: dict[str, list[str]] = {}

    def keep(family: str, database: str, measured: Measured) -> None:
        for figure in measured[0]:
            figures.setdefault(figure.name, {"sqlite": None, "postgresql": None})
            figures[figure.name][database] = entry(figure)
        detail.setdefault(family, []).extend(f"{database}: {line}" for line in measured[1])

    databases = {"sqlite": ""} | ({"postgresql": postgres} if postgres else {})
    for database, server in databases.items():
        if "service" in families:
            keep("service", database, await service_latency.figures(rounds, server))
        wanted = [f for f in ON_SYSTEM if f in families]
        if wanted:
            with tempfile.TemporaryDirectory() as tmp:
                async with running_system(Path(tmp), postgres=server) as system:
                    for family in wanted:
                        await system.settle()
                        keep(family, database, await ON_SYSTEM[family](rounds, system))
    for family, run in STANDALONE.items():
        if family in families:
            keep(family, "sqlite", await run(rounds))
    return figures, detail


def _cell(e: object) -> tuple[str, str, str]:
    """(value with min-max, floor, ratio) of one database's entry."""
    if not isinstance(e, dict):
        return "not measured", "", ""
    rounds = e["rounds"]
    spread = f" ({min(rounds)}-{max(rounds)})" if len(rounds) > 1 else ""
    floor = f"{e['floor']} {e['floor_unit']}" if e["floor"] is not None else "—"
    ratio = f"{e['ratio']}" if e["ratio"] is not None else "—"
    # Kept from an earlier run when this one measured SQLite alone.
    when = f", {str(e['measured'])[:10]}" if "measured" in e else ""
    return f"{e['value']} {e['unit']}{spread}{when}", floor, ratio


def table(figures: dict[str, dict[str, object]], detail: dict[str, list[str]]) -> str:
    lines = [
        "| figure | SQLite: median (min-max) | floor | ratio | PostgreSQL: median (min-max) "
        "| floor | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in NAMES:
        measured = figures.get(name)
        if measured is None:
            lines.append(f"| {name} | not measured yet | | | | | | | |")
            continue
        sqlite, postgresql = measured["sqlite"], measured["postgresql"]
        headline = sqlite if isinstance(sqlite, dict) else postgresql
        assert isinstance(headline, dict)
        met = [e["met"] for e in (sqlite, postgresql) if isinstance(e, dict)]
        lines.append(
            f"| {name} | {' | '.join(_cell(sqlite))} | {' | '.join(_cell(postgresql))} "
            f"| {headline['target']} | {'yes' if all(met) else 'no'} |"
        )
    notes = [f"- {line}" for family in FAMILIES for line in detail.get(family, [])]
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


def merge(
    previous: dict[str, Any],
    figures: dict[str, dict[str, object]],
    detail: dict[str, list[str]],
    date: str,
) -> tuple[dict[str, dict[str, object]], dict[str, list[str]]]:
    """The last results with this run's figures and details in place of theirs. A family run on
    SQLite alone (`--postgres ''`) keeps its last PostgreSQL figures and lines, marked with
    the date they were measured, rather than losing them."""
    merged = {e["name"]: e for e in previous.get("figures", []) if "sqlite" in e}
    for name, figure in figures.items():
        entry = {"name": name, "measured": date, **figure}
        before = merged.get(name, {})
        if entry.get("postgresql") is None and isinstance(before.get("postgresql"), dict):
            entry["postgresql"] = {"measured": before["measured"], **before["postgresql"]}
        merged[name] = entry
    details = previous.get("detail", {}) if isinstance(previous.get("detail"), dict) else {}
    for family, lines in detail.items():
        if not any(line.startswith("postgresql:") for line in lines):
            lines = lines + [
                line for line in details.get(family, []) if line.startswith("postgresql:")
            ]
        details[family] = lines
    return merged, details


async def main(families: tuple[str, ...], rounds: int, postgres: str) -> None:
    # Log as the services do in production (JSON lines), into a file rather than the terminal.
    configure_logging("bench", stream=(HERE / "bench.log").open("w"))
    if postgres and not await postgres_answers(postgres):
        print(f"PostgreSQL at {postgres} does not answer: SQLite only")
        postgres = ""
    figures, detail = await measure(families, rounds, postgres)
    date = datetime.now(UTC).isoformat(timespec="seconds")
    # Figures and details of families not run this time stay as they were.
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged, details = merge(previous, figures, detail, date)
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "date": date,
        "rounds": rounds,
        "figures": [merged[name] for name in NAMES if name in merged],
        "detail": details,
    }
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    readme = (HERE / "README.md").read_text()
    start, end = "<!-- results -->", "<!-- /results -->"
    head, _, rest = readme.partition(start)
    _, _, tail = rest.partition(end)
    note = (
        f"Measured {date} on {os.cpu_count()} cores, {rounds} round(s) per figure "
        f"(families run this time: {', '.join(families)}; the others keep their last figures).\n\n"
    )
    body = table(merged, details)
    (HERE / "README.md").write_text(f"{head}{start}\n{note}{body}{end}{tail}")
    print(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CSD_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="the PostgreSQL server for the second column ('' for SQLite only)",
    )
    args = parser.parse_args()
    asyncio.run(main(tuple(args.only), args.rounds, args.postgres))
