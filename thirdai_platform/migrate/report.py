"""How a walk is shown: a progress bar while it runs, a summary table at the end, JUnit XML and JSON files."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from thirdai_platform.migrate.findings import FAILURE, KNOWN, LIMIT, NOTE, Finding, RevisionResult, WalkReport

LEG_MARKS = {"ok": "[green]ok[/]", "failed": "[red]FAILED[/]", "skipped": "[yellow]skipped[/]"}
# The kinds of result, never mixed: each its own colour and its own section of the console output.
STYLES = {FAILURE: "red", KNOWN: "blue", LIMIT: "magenta", NOTE: "yellow"}
SECTIONS = {FAILURE: "failures: the migrations are wrong", LIMIT: "limits: what the tool could not check",
            NOTE: "notes", KNOWN: "known failures: accepted by the baseline, they do not fail the run"}


@contextmanager
def progress_bar(console: Console, total: int):
    """Yields a callback to call once per finished revision."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("walking revisions", total=total)

        def advance(result: RevisionResult) -> None:
            progress.update(task, advance=1, description=f"walked {result.revision}")

        yield advance


def leg_mark(result: RevisionResult, leg: str) -> str:
    mark = LEG_MARKS[result.legs.get(leg, "skipped")]
    seconds = result.leg_seconds.get(leg)
    return mark if seconds is None else f"{mark} {seconds:.2f}s"


def summary_table(report: WalkReport) -> Table:
    table = Table(title="nox -s migrations: every revision up, down and up with its data", title_justify="left")
    for header in ("revision", "message", "upgrade", "downgrade", "upgrade again", "rows", "findings", "seconds"):
        numeric = header in ("rows", "findings", "seconds")
        table.add_column(header, justify="right" if numeric else "left", no_wrap=True,
                         overflow="ellipsis", max_width=36 if header == "message" else None)
    for result in report.revisions:
        marks = [leg_mark(result, leg) for leg in ("upgrade", "downgrade", "upgrade again")]
        table.add_row(result.revision, result.message.splitlines()[0] if result.message else "", *marks, str(result.rows_checked), findings_cell(result.findings), f"{result.seconds:.2f}")
    return table


def findings_cell(findings: list[Finding]) -> str:
    """'[red]2[/] (+1 limits, +3 notes)': the failures, then the other kinds."""
    count = {severity: sum(f.severity == severity for f in findings) for severity in STYLES}
    cell = f"[red]{count[FAILURE]}[/]" if count[FAILURE] else "0"
    others = [f"+{count[s]} {s}" + ("" if s == KNOWN else "s") for s in (KNOWN, LIMIT, NOTE) if count[s]]
    return cell + (f" ({', '.join(others)})" if others else "")


def print_report(console: Console, report: WalkReport, fail_on_limits: bool = False) -> None:
    console.print(summary_table(report))
    found = report.all_findings()
    for severity in (NOTE, LIMIT, KNOWN, FAILURE):  # failures last: nearest to the verdict
        if of_kind := [f for f in found if f.severity == severity]:
            console.print(f"{SECTIONS[severity]} ({len(of_kind)})", style=f"bold {STYLES[severity]}", highlight=False)
            for finding in of_kind:
                console.print(str(finding), style=STYLES[severity], markup=False, highlight=False)
    console.print(summary_line(report, fail_on_limits), highlight=False)


def summary_line(report: WalkReport, fail_on_limits: bool = False) -> str:
    """'passed: 109 revisions, 0 failures, 12 limits, 40 notes, 30.2 s'."""
    counts = report.counts()
    verdict = "[red]FAILED[/]" if report.fails(fail_on_limits) else "[green]passed[/]"
    why = " (limits fail this run: --fail-on-limits)" if fail_on_limits and counts[LIMIT] else ""
    return (f"{verdict}{why}: {len(report.revisions)} revisions, {counts[FAILURE]} failures, {counts[LIMIT]} limits, "
            f"{counts[NOTE]} notes{known_count(report)}, {report.seconds:.1f} s")


def known_count(report: WalkReport) -> str:
    known = sum(f.severity == KNOWN for f in report.all_findings())
    return f", {known} known" if known else ""


def write_json(report: WalkReport, path: Path, fail_on_limits: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(fail_on_limits), indent=2, ensure_ascii=False, default=str))


def junit_checks(report: WalkReport) -> list[tuple[str, str, list[Finding], str | None]]:
    """(where, check, its findings, the leg's state) for each revision's checks, plus the history-wide checks."""
    cases = []
    for check in sorted({f.check for f in report.findings} | {"heads", "drift"}):
        cases.append(("history", check, [f for f in report.findings if f.check == check], None))
    for result in report.revisions:
        checks = list(result.legs) + sorted({f.check for f in result.findings} - set(result.legs))
        for check in checks:
            cases.append((result.revision, check, [f for f in result.findings if f.check == check], result.legs.get(check)))
    return cases


def write_junit(report: WalkReport, path: Path) -> None:
    """One test case per revision and check (each leg, seeding, lint, review), plus the history-wide checks.

    Each failure is a <failure> of its own (a check with several gets a case per failure, `lint #2`, ...), so the
    suite counts as many failures as the console. Limits and notes go to the case's system-out, each line marked
    with its kind ([limit], [note]), and the suite's properties count each kind."""
    suite = ET.Element("testsuite", name="migrations", time=f"{report.seconds:.3f}")
    properties = ET.SubElement(suite, "properties")
    for severity, count in report.counts().items():
        ET.SubElement(properties, "property", name=f"{severity}s", value=str(count))
    for classname, check, findings, state in junit_checks(report):
        failures = [f for f in findings if f.severity == FAILURE]
        cases = [ET.SubElement(suite, "testcase", classname=f"migrations.{classname}",
                               name=check if index == 0 else f"{check} #{index + 1}")
                 for index in range(max(1, len(failures)))]
        for case, failure in zip(cases, failures):
            ET.SubElement(case, "failure", message=failure.message[:300]).text = str(failure)
        if state == "skipped" and not failures:
            ET.SubElement(cases[0], "skipped", message="an earlier leg failed")
        if others := [f for f in findings if f.severity != FAILURE]:
            ET.SubElement(cases[0], "system-out").text = "\n".join(str(f) for f in others)
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(len(suite.findall("testcase/failure"))))
    suite.set("skipped", str(len(suite.findall("testcase/skipped"))))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
