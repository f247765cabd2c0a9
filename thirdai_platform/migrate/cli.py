"""`python -m thirdai_platform.migrate`: walk an Alembic history on an ephemeral PostgreSQL (or --url) and report."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import URL

from thirdai_platform.database.url import masked, parse_url
from thirdai_platform.errors import UserError, one_line
from thirdai_platform.migrate.baseline import Baseline, chosen_baseline, gate
from thirdai_platform.migrate.findings import LIMIT, Finding, RevisionResult, RunInfo, WalkReport
from thirdai_platform.migrate.project_code import check_env_py, quiet_logging
from thirdai_platform.migrate.report.ci_formats import github_annotations, write_sarif
from thirdai_platform.migrate.report.files import remove_earlier, write_json, write_junit
from thirdai_platform.migrate.report.html import write_html
from thirdai_platform.migrate.report.run_info import described, run_info
from thirdai_platform.migrate.report.summary import console_for_output, print_report, walk_progress
from thirdai_platform.migrate.server.ephemeral import EphemeralPostgres, start_server
from thirdai_platform.migrate.server.user_server import UserServer
from thirdai_platform.migrate.session import Session, load_session
from thirdai_platform.migrate.static_checks import revisions_in_range, static_findings
from thirdai_platform.migrate.walk.deploy.verdict import chosen_limits, judge_deploys
from thirdai_platform.migrate.walk.dump import Dump, restored
from thirdai_platform.migrate.walk.parallel import ParallelWalk, after_dump, parts_for
from thirdai_platform.migrate.walk.walker import WalkOptions


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m thirdai_platform.migrate",
        description="Prove that every revision upgrades, downgrades and upgrades again without losing data.",
    )
    add_server_options(p)
    add_data_options(p)
    add_gate_options(p)
    add_report_options(p)
    return p


def add_server_options(p: argparse.ArgumentParser) -> None:
    """The project, and the server its walk runs on."""
    p.add_argument(
        "--config", type=Path, default=Path("alembic.ini"), help="alembic.ini of the project (default: ./alembic.ini)"
    )
    p.add_argument(
        "--url",
        help="an EMPTY database to walk on, instead of an ephemeral server; with --jobs, any "
        "database of a server of yours (postgresql://USER@HOST/postgres): the walk creates "
        "its databases there (USER needs CREATEDB) and drops them after",
    )
    p.add_argument("--pg-bin", help="directory of PostgreSQL server binaries for the ephemeral server")


def add_data_options(p: argparse.ArgumentParser) -> None:
    """The data the walk runs on, how it is split, and the checks it can skip."""
    p.add_argument("--rows", type=int, default=5, help="generated rows per table at each step (default: %(default)s)")
    p.add_argument(
        "--from-dump",
        type=Path,
        metavar="FILE",
        help="start from this pg_dump (custom or plain format) instead of an empty database; the walk "
        "covers the revisions after the one recorded in it, timing each leg at that size (after a failing "
        "leg it starts again from the dump)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        help="walk the history in this many parts at once, each on a database of "
        "its own (default: one per CPU, as long as each part has 25 revisions; "
        "with --url or --from-dump: one); with --url, even --jobs 1 walks on a "
        "database created for the run; with --from-dump, each part on a copy",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated data (default: %(default)s)")
    p.add_argument("--no-drift", action="store_true", help="skip the models-vs-migrations check at head")
    p.add_argument("--no-lint", action="store_true", help="skip the static review and squawk lint of the scripts")


def add_gate_options(p: argparse.ArgumentParser) -> None:
    """What fails the run."""
    p.add_argument(
        "--fail-on-limits",
        action="store_true",
        help="fail the run when the tool could not check something (a limit), not only on failures",
    )
    # Adopting a long history (baseline.py): failures already known are reported apart and do not fail the run.
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="the failures this file lists are known (see "
        '--write-baseline; also [tool.thirdai-migrate] baseline = "REV" in pyproject.toml)',
    )
    p.add_argument("--write-baseline", type=Path, metavar="FILE", help="write today's failures to FILE as known")
    # The deploy verdict (deploy/verdict.py); also max-blocked-write, max-blocked-read, rolling-deploys in pyproject.toml
    p.add_argument(
        "--max-blocked-write",
        metavar="DURATION",
        help="fail a revision whose locks hold the live "
        "application's writes to a table longer than this (e.g. 2s, 500ms)",
    )
    p.add_argument("--max-blocked-read", metavar="DURATION", help="the same for its reads")
    p.add_argument(
        "--rolling-deploys",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the running version must survive each revision's schema (a rolling deploy): a revision it "
        "breaks on fails, instead of a note",
    )
    p.add_argument(
        "--changed-only",
        action="store_true",
        help="gate only the revisions whose files differ from the "
        "default branch (origin/HEAD, else main/master); the others are walked, their failures known",
    )


def add_report_options(p: argparse.ArgumentParser) -> None:
    """The report files the run writes (the summary on the console is always printed)."""
    p.add_argument("--junit-xml", type=Path, help="write a JUnit report here")
    p.add_argument("--json", type=Path, help="write a JSON report here")
    p.add_argument("--sarif", type=Path, help="write a SARIF 2.1.0 report here (for code-scanning UIs)")
    p.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="write a self-contained HTML page here: the revision "
        "graph with each revision's verdict, findings, locks and blocked time",
    )


def attach(report: WalkReport, findings: list[Finding]) -> None:
    """Put each finding on its revision's row (the summary table, JUnit, JSON), or on the history."""
    by_revision = {result.revision: result for result in report.revisions}
    for finding in findings:
        target = by_revision.get(finding.revision)
        (target.findings if target else report.findings).append(finding)


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the walk passes, 1 when it finds a failure (or a limit, with --fail-on-limits), 2 on an error,
    130 when interrupted: always one line for an error, never a traceback."""
    args = parser().parse_args(argv)
    console = console_for_output()
    try:
        with quiet_logging():
            report = walk_and_check(args, console)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a part that died, a bug of ours: still one line
        print(f"error: the walk stopped: {one_line(error)}", file=sys.stderr)
        return 2
    return 1 if report.fails(args.fail_on_limits) else 0


def walk_and_check(args: argparse.Namespace, console: Console) -> WalkReport:
    """The walk, then the static checks; once the walk is done, its reports are written whatever happens next."""
    check_numbers(args)
    remove_earlier([args.junit_xml, args.json, args.sarif, args.html])
    with ExitStack() as stack:
        session = load_session(args.config)
        baseline = chosen_baseline(session, args.baseline, args.changed_only)
        limits = chosen_limits(session.config, args.max_blocked_write, args.max_blocked_read, args.rolling_deploys)
        host = walk_host(args, stack)
        databases, order, dump = walk_databases(args, session, host, revisions_in_range(session))
        session.url = databases[0]
        check_env_py(session)
        info = run_info(
            session,
            seed=args.seed,
            rows=args.rows,
            static_checks=not args.no_lint,
            url=databases[0],
            server=host if isinstance(host, EphemeralPostgres) else None,
            pg_bin=args.pg_bin,
        )
        announce(console, args, databases, info)
        options = WalkOptions(
            rows=args.rows,
            seed=args.seed,
            check_drift=not args.no_drift,
            dump=dump,
            rolling_deploys=limits.rolling_deploys,
        )
        report = walked(ParallelWalk(session, databases, options, order), console, args, info, len(order))
        report = judge_deploys(report, limits)
        report.run = info
        return concluded(report, session, baseline, args, console)


def check_numbers(args: argparse.Namespace) -> None:
    """What argparse cannot check of --rows and --jobs, before any earlier report is removed or any server started."""
    if args.rows < 0:
        raise UserError("--rows cannot be negative")
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs must be at least 1")


def walk_host(args: argparse.Namespace, stack: ExitStack) -> EphemeralPostgres | UserServer | None:
    """Where the walk's databases are made: our ephemeral server, the server of --url when --jobs asks for databases
    of their own (dropped when the stack closes, however it closes), or nowhere: --url alone is the one to walk on."""
    if args.url is None:
        return stack.enter_context(start_server(args.pg_bin))
    url = parse_url(args.url, source="--url")
    return stack.enter_context(UserServer(url)) if args.jobs else None


def walk_databases(
    args: argparse.Namespace, session: Session, host: EphemeralPostgres | UserServer | None, order: list[str]
) -> tuple[list[URL], list[str], Dump | None]:
    """One database per part, the revisions they walk, and the dump they start from. It is restored once, into the
    first; the others are copies of it (a template must have no other connection: nothing is connected to it by
    then). A part restores it again into its own database after a broken leg."""
    if host is None:
        databases = [parse_url(args.url, source="--url")]
    else:
        databases = [host.create_database(part_name(host, 0))]
    dump = None
    if args.from_dump:
        dump = restored(args.from_dump, databases[0], args.pg_bin)
        order = after_dump(databases[0], session, order)
    if host is not None:
        parts = parts_for(len(order), args.jobs or (1 if args.from_dump else None))  # a dump: one part unless asked
        template = databases[0].database if args.from_dump else "template0"
        databases += [host.create_database(part_name(host, part), template) for part in range(1, parts)]
    return databases, order, dump


def part_name(host: EphemeralPostgres | UserServer, part: int) -> str:
    """walk, walk_2… on our own server; on the user's, names no other run has."""
    if isinstance(host, UserServer):
        return host.part_name(part)
    return "walk" if part == 0 else f"walk_{part + 1}"


def announce(console: Console, args: argparse.Namespace, databases: list[URL], info: RunInfo) -> None:
    """The run's first line: what is walked, where (the first part's database), and on which data."""
    parts = len(databases)
    more = f" (and {parts - 1} more, a part of the history each)" if parts > 1 else ""
    console.print(
        f"walking {args.config} on {masked(databases[0])}{more} with {described(info)}, "
        f"{args.rows} rows per table, seed {args.seed}",
        highlight=False,
        soft_wrap=True,
    )


def walked(walking: ParallelWalk, console: Console, args: argparse.Namespace, info: RunInfo, total: int) -> WalkReport:
    """The walk's report; when it is interrupted, a partial one is written (the revisions walked so far)."""
    done: list[RevisionResult] = []
    with walk_progress(console, total) as advance:

        def finished(result: RevisionResult) -> None:
            done.append(result)
            advance(result)

        try:
            return walking.collect(on_revision=finished)
        except KeyboardInterrupt:
            partial = WalkReport(revisions=done, run=info, interrupted=True)
            write_files(partial, args)
            raise


def concluded(
    report: WalkReport, session: Session, baseline: Baseline, args: argparse.Namespace, console: Console
) -> WalkReport:
    """The walked report with the static checks, as gated; printed and written whatever the checks or gate do."""
    try:
        if not args.no_lint:
            static_checks(report, session)
    finally:
        try:
            report = gate(report, baseline, args.write_baseline, console.print)
        finally:  # a baseline that cannot be written must not lose the walk either
            publish(console, report, args)
    return report


def static_checks(report: WalkReport, session: Session) -> None:
    """The review and squawk on every script; what they cannot do is a limit, never the end of the run."""
    try:
        attach(report, static_findings(session))
    except Exception as error:  # each check catches what it expects; this keeps the walk's results whatever else
        report.findings.append(Finding(None, "lint", LIMIT, f"the static review and lint stopped: {one_line(error)}"))


def publish(console: Console, report: WalkReport, args: argparse.Namespace) -> None:
    print_report(console, report, args.fail_on_limits)
    if os.environ.get("GITHUB_ACTIONS") == "true":  # annotations on the scripts, in the pull request's files
        for line in github_annotations(report):
            console.print(line, markup=False, highlight=False, soft_wrap=True, crop=False)
    write_files(report, args)


def write_files(report: WalkReport, args: argparse.Namespace) -> None:
    writers = (
        (args.junit_xml, write_junit),
        (args.json, lambda r, p: write_json(r, p, args.fail_on_limits)),
        (args.sarif, write_sarif),
        (args.html, lambda r, p: write_html(r, p, args.fail_on_limits)),
    )
    for path, write in writers:
        if path is None:
            continue
        try:
            write(report, path)
        except OSError as error:
            raise UserError(f"cannot write {path}: {error.strerror or error}") from None
