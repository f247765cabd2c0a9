"""How a walk is shown: a progress bar while it runs, a summary table at the end, JUnit XML and JSON files."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from thirdai_platform.migrate.findings import FAILURE, RevisionResult, WalkReport

LEG_MARKS = {"ok": "[green]ok[/]", "failed": "[red]FAILED[/]", "skipped": "[yellow]skipped[/]"}


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
        failures = sum(f.severity == FAILURE for f in result.findings)
        notes = len(result.findings) - failures
        found = f"[red]{failures}[/]" if failures else "0"
        found += f" (+{notes} notes)" if notes else ""
        table.add_row(result.revision, result.message.splitlines()[0] if result.message else "", *marks, str(result.rows_checked), found, f"{result.seconds:.2f}")
    return table


def print_report(console: Console, report: WalkReport) -> None:
    console.print(summary_table(report))
    for finding in report.all_findings():
        console.print(str(finding), style="red" if finding.severity == FAILURE else "yellow", markup=False, highlight=False)
    failures = sum(f.severity == FAILURE for f in report.all_findings())
    verdict = "[red]FAILED[/]" if failures else "[green]passed[/]"
    console.print(f"{verdict}: {len(report.revisions)} revisions, {failures} failures, {report.seconds:.1f} s")


def write_json(report: WalkReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str))


def write_junit(report: WalkReport, path: Path) -> None:
    """One test case per revision and check (each leg, seeding, lint, review), plus the history-wide checks."""
    suite = ET.Element("testsuite", name="migrations", time=f"{report.seconds:.3f}")
    cases = []
    for check in sorted({f.check for f in report.findings} | {"heads", "drift"}):
        cases.append(("history", check, [f for f in report.findings if f.check == check], None))
    for result in report.revisions:
        checks = list(result.legs) + sorted({f.check for f in result.findings} - set(result.legs))
        for check in checks:
            cases.append((result.revision, check, [f for f in result.findings if f.check == check], result.legs.get(check)))
    for classname, check, findings, state in cases:
        case = ET.SubElement(suite, "testcase", classname=f"migrations.{classname}", name=check)
        failures = [f for f in findings if f.severity == FAILURE]
        if failures:
            failure = ET.SubElement(case, "failure", message=failures[0].message[:300])
            failure.text = "\n".join(str(f) for f in failures)
        elif state == "skipped":
            ET.SubElement(case, "skipped", message="an earlier leg failed")
        notes = [f for f in findings if f.severity != FAILURE]
        if notes:
            ET.SubElement(case, "system-out").text = "\n".join(str(f) for f in notes)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(len(suite.findall("testcase/failure"))))
    suite.set("skipped", str(len(suite.findall("testcase/skipped"))))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
