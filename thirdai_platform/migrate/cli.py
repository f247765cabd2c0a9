"""`python -m thirdai_platform.migrate`: walk an Alembic history on an ephemeral PostgreSQL (or --url) and report."""
from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console

from thirdai_platform.database.url import masked, parse_url
from thirdai_platform.errors import UserError
from thirdai_platform.migrate.commands import load_config
from thirdai_platform.migrate.report import print_report, progress_bar, write_json, write_junit
from thirdai_platform.migrate.dump import restore_dump
from thirdai_platform.migrate.findings import Finding, WalkReport
from thirdai_platform.migrate.parallel import ParallelWalk, parts_for
from thirdai_platform.migrate.runner import hand_over_url
from thirdai_platform.migrate.server import start_server
from thirdai_platform.migrate.static_checks import revisions_in_range, static_findings
from thirdai_platform.migrate.walk import WalkOptions


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m thirdai_platform.migrate",
                                description="Prove that every revision upgrades, downgrades and upgrades again "
                                            "without losing data.")
    p.add_argument("--config", type=Path, default=Path("alembic.ini"), help="alembic.ini of the project (default: ./alembic.ini)")
    p.add_argument("--url", help="an EMPTY database to walk on, instead of an ephemeral server")
    p.add_argument("--pg-bin", help="directory of PostgreSQL server binaries for the ephemeral server")
    p.add_argument("--rows", type=int, default=5, help="generated rows per table at each step (default: %(default)s)")
    p.add_argument("--from-dump", type=Path, metavar="FILE",
                   help="start from this pg_dump (custom or plain format) instead of an empty database; the walk "
                        "covers the revisions after the one recorded in it, timing each leg at that size")
    p.add_argument("--jobs", type=int, help="walk the history in this many parts at once, each on a database of "
                                            "its own (default: one per CPU, as long as each part has 25 revisions)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated data (default: %(default)s)")
    p.add_argument("--no-drift", action="store_true", help="skip the models-vs-migrations check at head")
    p.add_argument("--no-lint", action="store_true", help="skip the static review and squawk lint of the scripts")
    p.add_argument("--junit-xml", type=Path, help="write a JUnit report here")
    p.add_argument("--json", type=Path, help="write a JSON report here")
    return p


def attach(report: WalkReport, findings: list[Finding]) -> None:
    """Put each finding on its revision's row (the summary table, JUnit, JSON), or on the history."""
    by_revision = {result.revision: result for result in report.revisions}
    for finding in findings:
        target = by_revision.get(finding.revision)
        (target.findings if target else report.findings).append(finding)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=140)  # CI logs: room for the summary table
    try:
        if args.rows < 0:
            raise UserError("--rows cannot be negative")
        one_database = args.url or args.from_dump
        if one_database and args.jobs and args.jobs > 1:
            raise UserError("--jobs needs databases of its own: it cannot be used with --url or --from-dump")
        with ExitStack() as stack:
            config = load_config(args.config)
            order = revisions_in_range(config)
            parts = 1 if one_database else parts_for(len(order), args.jobs)
            if args.url:
                databases = [parse_url(args.url)]
            else:
                server = stack.enter_context(start_server(args.pg_bin))
                databases = [server.create_database("walk" if part == 0 else f"walk_{part + 1}") for part in range(parts)]
            if args.from_dump:
                restore_dump(args.from_dump, databases[0], args.pg_bin)
            more = f" (and {parts - 1} more, a part of the history each)" if parts > 1 else ""
            console.print(f"walking {args.config} on {masked(databases[0])}{more}", highlight=False)
            options = WalkOptions(rows=args.rows, seed=args.seed, check_drift=not args.no_drift,
                                  from_current=args.from_dump is not None)
            walking = ParallelWalk(config, databases, options, order)
            with progress_bar(console, len(order)) as advance:
                report = walking.collect(on_revision=advance)
            if not args.no_lint:
                # Rendering a script's SQL runs env.py, which may want a database even offline: a walk in this
                # process left its own in the config (with the SQL it rendered), a walk in parts did not.
                hand_over_url(config, databases[0])
                attach(report, static_findings(config))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_report(console, report)
    if args.junit_xml:
        write_junit(report, args.junit_xml)
    if args.json:
        write_json(report, args.json)
    return 1 if report.failed else 0
