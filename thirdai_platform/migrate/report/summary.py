"""How a walk is shown on the console: a progress bar on a terminal, one plain line per revision in a log, then a
summary table and the findings, each on lines of their own that nothing wraps. The files: report_files.py."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from thirdai_platform.migrate.findings import FAILURE, KNOWN, LEGS, LIMIT, NOTE, Finding, RevisionResult, WalkReport
from thirdai_platform.migrate.report.files import write_json, write_junit  # noqa: F401 (their old home)
from thirdai_platform.migrate.walk.deploy.verdict import shown

LEG_MARKS = {
    "ok": "[green]ok[/]",
    "failed": "[red]FAILED[/]",
    "known": "[blue]known[/]",
    "skipped": "[yellow]skipped[/]",
}
# The kinds of result, never mixed: each its own colour and its own section of the console output.
STYLES = {FAILURE: "red", KNOWN: "blue", LIMIT: "magenta", NOTE: "yellow"}
SECTIONS = {
    FAILURE: "failures: the migrations are wrong",
    LIMIT: "limits: what the tool could not check",
    NOTE: "notes",
    KNOWN: "known failures: accepted by the baseline, they do not fail the run",
}
WAIT_HEADERS = {"reads wait": "read", "writes wait": "write"}  # the deploy probe's longest waits (deploy/verdict.py)
LOG_WIDTH = 10_000  # without a terminal nothing is wrapped: a log line is as long as what it says


def console_for_output() -> Console:
    """A terminal's own width; in a log (CI), lines that are never wrapped and no colour codes."""
    return Console() if sys.stdout.isatty() else Console(width=LOG_WIDTH, soft_wrap=True, no_color=True)


@contextmanager
def walk_progress(console: Console, total: int) -> Iterator[Callable[[RevisionResult], None]]:
    """Yields a callback to call once per finished revision: it advances a progress bar on a terminal, and prints
    the revision's line in a log, where a progress bar would show nothing for minutes."""
    if not console.is_terminal:
        done = []

        def say(result: RevisionResult) -> None:
            done.append(result)
            console.print(revision_line(result, len(done), total), markup=False, highlight=False)

        yield say
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("walking revisions", total=total)
        yield lambda result: progress.update(task, advance=1, description=f"walked {result.revision}")


progress_bar = walk_progress  # the name it had


def revision_line(result: RevisionResult, done: int, total: int) -> str:
    """'[3/10] 0003_model_sharing: FAILED (downgrade) in 0.26 s, 60 rows checked, 1 failure, 2 notes'."""
    failed = [leg for leg in LEGS if result.verdict(leg) == "failed"]
    verdict = f"FAILED ({', '.join(failed)})" if failed else "FAILED" if result.failed else "passed"
    return (
        f"[{done}/{total}] {result.revision}: walk {verdict} in {result.seconds:.2f} s, {result.rows_checked} rows "
        f"checked, {counted(result.findings)}"
    )


def counted(findings: list[Finding]) -> str:
    """'1 failure, 2 limits, 1 note', or 'no findings'."""
    parts = []
    for severity in (FAILURE, KNOWN, LIMIT, NOTE):
        if count := sum(f.severity == severity for f in findings):
            name = "known failure" if severity == KNOWN else severity
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return ", ".join(parts) or "no findings"


def leg_mark(result: RevisionResult, leg: str) -> str:
    """The leg's check verdict (a step that ran but whose check failed is FAILED), with the step's time."""
    mark = LEG_MARKS[result.verdict(leg)]
    seconds = result.leg_seconds.get(leg)
    return mark if seconds is None else f"{mark} {seconds:.2f}s"


def summary_table(report: WalkReport, in_log: bool = False) -> Table:
    table = Table(
        title="nox -s migrations: every revision up, down and up with its data",
        title_justify="left",
        box=box.ASCII2 if in_log else box.HEAVY_HEAD,
    )
    for header in ("revision", "message", *LEGS, *WAIT_HEADERS, "rows", "findings", "seconds"):
        numeric = header in ("rows", "findings", "seconds", *WAIT_HEADERS)
        table.add_column(
            header,
            justify="right" if numeric else "left",
            no_wrap=True,
            overflow="ellipsis",
            max_width=(60 if in_log else 36) if header == "message" else None,
        )
    for result in report.revisions:
        marks = [leg_mark(result, leg) for leg in LEGS]
        table.add_row(
            result.revision,
            result.message.splitlines()[0] if result.message else "",
            *marks,
            *(wait_cell(result, kind) for kind in WAIT_HEADERS.values()),
            str(result.rows_checked),
            findings_cell(result.findings),
            f"{result.seconds:.2f}",
        )
    return table


def wait_cell(result: RevisionResult, kind: str) -> str:
    """The longest the probe's reads or writes waited behind the revision's locks: '4.8s', '12ms', or '-'."""
    wait = result.longest_blocked(kind)
    return shown(wait["longest"]).replace(" ", "") if wait else "-"


def findings_cell(findings: list[Finding]) -> str:
    """'[red]2[/] (+1 limits, +3 notes)': the failures, then the other kinds."""
    count = {severity: sum(f.severity == severity for f in findings) for severity in STYLES}
    cell = f"[red]{count[FAILURE]}[/]" if count[FAILURE] else "0"
    others = [f"+{count[s]} {s}" + ("" if s == KNOWN else "s") for s in (KNOWN, LIMIT, NOTE) if count[s]]
    return cell + (f" ({', '.join(others)})" if others else "")


def print_report(console: Console, report: WalkReport, fail_on_limits: bool = False) -> None:
    console.print(summary_table(report, in_log=not console.is_terminal))
    found = report.all_findings()
    for severity in (NOTE, LIMIT, KNOWN, FAILURE):  # failures last: nearest to the verdict
        if of_kind := [f for f in found if f.severity == severity]:
            console.print(f"{SECTIONS[severity]} ({len(of_kind)})", style=f"bold {STYLES[severity]}", highlight=False)
            for finding in of_kind:  # soft wrap: a finding is never cut into lines mid-phrase
                console.print(str(finding), style=STYLES[severity], markup=False, highlight=False, soft_wrap=True)
    console.print(summary_line(report, fail_on_limits), highlight=False)


def summary_line(report: WalkReport, fail_on_limits: bool = False) -> str:
    """'passed: 109 revisions, 0 failures, 12 limits, 40 notes, 30.2 s'."""
    counts = report.counts()
    verdict = "[red]FAILED[/]" if report.fails(fail_on_limits) else "[green]passed[/]"
    why = " (limits fail this run: --fail-on-limits)" if fail_on_limits and counts[LIMIT] else ""
    return (
        f"{verdict}{why}: {len(report.revisions)} revisions, {counts[FAILURE]} failures, {counts[LIMIT]} limits, "
        f"{counts[NOTE]} notes{known_count(report)}, {report.seconds:.1f} s"
    )


def known_count(report: WalkReport) -> str:
    known = sum(f.severity == KNOWN for f in report.all_findings())
    return f", {known} known" if known else ""
