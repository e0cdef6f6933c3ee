"""The `csd` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import grpc

from services.cli.health import check_all, render
from services.runtime.settings import Settings


def _serve(name: str, settings: Settings) -> None:
    # Imported on demand: each service pulls in only its own dependencies.
    if name == "staff":
        from services.staff.server import serve
    elif name == "finance":
        from services.finance.server import serve
    elif name == "notify":
        from services.notify.server import serve
    else:
        from services.gateway.server import serve
    asyncio.run(serve(settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="csd", description="csd-ops: the department's rules, running."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "dev", help="run the whole system locally (Temporal, SMTP, services, worker)"
    )
    commands.add_parser("status", help="report the health of every part")
    commands.add_parser(
        "seed", help="load the demo organisation and the regulation's policy tables"
    )
    serve = commands.add_parser("serve", help="run one gRPC service")
    serve.add_argument("service", choices=["staff", "finance", "notify", "gateway"])
    worker = commands.add_parser("worker", help="run the Temporal worker")
    worker.add_argument(
        "--processes",
        type=int,
        default=1,
        help="worker processes to run on this machine (one per core is a good start)",
    )
    commands.add_parser(
        "schedules", help="create or update the department calendar's Temporal Schedules"
    )
    sheet = commands.add_parser(
        "tracking-sheet", help="print the requirement tracking sheet (RQ-3) as CSV"
    )
    sheet.add_argument("--as", dest="user", required=True, help="your staff id")
    sheet.add_argument("--region", default="")
    sheet.add_argument("--hospital", default="")
    sheet.add_argument("--stage", default="")
    sheet.add_argument("--sla-state", default="")
    calendar = commands.add_parser("calendar", help="the company calendar (admin)")
    calendar_commands = calendar.add_subparsers(dest="calendar_command", required=True)
    year = calendar_commands.add_parser(
        "publish", help="load a year's official schedule: extra days off, make-up workdays"
    )
    year.add_argument("--year", type=int, required=True)
    year.add_argument("--days-off", default="", help="YYYY-MM-DD,YYYY-MM-DD,…")
    year.add_argument("--workdays", default="", help="make-up workdays, YYYY-MM-DD,…")
    year.add_argument("--source", required=True, help="the notice it comes from")
    policy = commands.add_parser("policy", help="the allowance policy tables (admin)")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    policy_commands.add_parser(
        "publish", help="publish the regulation package's policy tables to finance"
    )
    accounts = commands.add_parser(
        "accounts", help="a region's year of accounts (ACC-1) as CSV, and as a chart with --out"
    )
    accounts.add_argument("--region", required=True)
    accounts.add_argument("--year", type=int, required=True)
    accounts.add_argument("--out", default="", help="write the chart here (SVG)")
    token = commands.add_parser(
        "token", help="sign a bearer token with this machine's local key (jwt mode, csd dev)"
    )
    token.add_argument("--as", dest="user", required=True, help="the staff id the token names")
    token.add_argument("--minutes", type=int, default=60, help="how long it is valid")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.command == "dev":
        from services.cli.dev import run_dev

        return asyncio.run(run_dev(settings))
    if args.command == "status":
        from services.cli.credentials import operator_tls

        parts = asyncio.run(
            check_all(
                settings,
                temporal_database=_dev_database(settings),
                tls=operator_tls(settings),
            )
        )
        print(render(parts), flush=True)
        sys.stderr.flush()
        # The answer is out; leave without interpreter finalization, where grpc's and Temporal's
        # native threads can abort the process (seen: PyGILState_Release at exit) and turn a
        # healthy report into a crash code.
        os._exit(0 if all(p.healthy for p in parts) else 1)
    if args.command == "seed":
        from services.cli.seed import seed

        print(asyncio.run(seed(settings)))
        return 0
    if args.command == "serve":
        _serve(args.service, settings)
        return 0
    if args.command == "schedules":
        from services.cli.schedules import sync_department_calendar

        ids = asyncio.run(sync_department_calendar(settings))
        print("\n".join(ids))
        return 0
    if args.command in ("calendar", "policy"):
        from services.cli import admin

        try:
            if args.command == "calendar":
                published = asyncio.run(
                    admin.publish_calendar_year(
                        settings,
                        year=args.year,
                        days_off=admin.days(args.days_off),
                        workdays=admin.days(args.workdays),
                        source=args.source,
                    )
                )
                print(
                    f"calendar {published.year}: {len(published.days_off)} days off, "
                    f"{len(published.workdays)} make-up workdays ({published.source})"
                )
            else:
                version = asyncio.run(admin.publish_policy(settings))
                print(f"policy {version.version} from {version.effective_from}")
        except grpc.RpcError as err:
            print(f"csd: {err.code().name}: {err.details()}", file=sys.stderr)
            return 1
        return 0
    if args.command == "accounts":
        from services.cli.accounts import accounts as year_of_accounts
        from services.cli.accounts import as_csv, as_svg

        if not 2000 <= args.year <= 2099:
            print("csd: --year is 2000 to 2099", file=sys.stderr)
            return 2
        try:
            months = asyncio.run(year_of_accounts(settings, args.region, args.year))
        except grpc.RpcError as err:
            print(f"csd: {err.code().name}: {err.details()}", file=sys.stderr)
            return 1
        sys.stdout.write(as_csv(months))
        if args.out:
            Path(args.out).write_text(as_svg(args.region, args.year, months), encoding="utf-8")
        return 0
    if args.command == "token":
        from services.gateway.local_keys import ensure_local_keys, local_token

        if not 1 <= args.minutes <= 24 * 60:
            print("csd: --minutes is 1 to 1440", file=sys.stderr)
            return 2
        print(local_token(ensure_local_keys(settings.var_dir), args.user, minutes=args.minutes))
        return 0
    if args.command == "tracking-sheet":
        from services.cli.tracking_sheet import export_csv

        try:
            sys.stdout.write(
                asyncio.run(
                    export_csv(
                        settings,
                        user=args.user,
                        region=args.region,
                        hospital=args.hospital,
                        stage=args.stage,
                        sla_state=args.sla_state,
                    )
                )
            )
        except grpc.RpcError as err:
            print(f"csd: {err.code().name}: {err.details()}", file=sys.stderr)
            return 1
        return 0
    if not 1 <= args.processes <= 64:
        print("csd: --processes is 1 to 64", file=sys.stderr)
        return 2
    if args.processes > 1:
        from services.worker.processes import run_processes

        asyncio.run(run_processes(settings, args.processes))
        return 0
    from services.worker.main import run

    asyncio.run(run(settings))
    return 0


def _dev_database(settings: Settings) -> Path | None:
    """The dev server's SQLite file, when this machine runs the dev stack."""
    path = settings.var_dir / "temporal.db"
    return path if path.exists() or (settings.var_dir / "log" / "temporal.log").exists() else None


if __name__ == "__main__":
    sys.exit(main())
