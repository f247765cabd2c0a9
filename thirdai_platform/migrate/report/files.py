"""The walk's report files: JSON and JUnit XML, each written whole or not at all (a temp file, then os.replace).

JUnit has one test case per revision and check (each leg, seeding, lint, review, ...), with the leg's time and the
revision script's file and line; each failure is a <failure> of its own (a check with several gets a case per
failure: `lint #2`, ...), so the suite counts as many failures as the console. Known failures, limits and notes go
to the case's system-out, each line marked with its kind.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from thirdai_platform.migrate.findings import FAILURE, LEGS, Finding, RevisionResult, ScriptPlace, WalkReport
from thirdai_platform.migrate.git_changes import repository_root

STATIC_CHECKS = ("lint", "review")  # every revision has their cases when they ran, passing or not


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """write(temp) next to path, then the temp file takes path's place: a reader sees the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(handle)
    try:
        write(Path(temp))
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def remove_earlier(paths: list[Path | None]) -> None:
    """An earlier run's reports go at the start: a run stopped before its end must not leave them to be read as its."""
    for path in paths:
        if path is not None and path.is_file():
            path.unlink()


def write_json(report: WalkReport, path: Path, fail_on_limits: bool = False) -> None:
    text = json.dumps(report.to_dict(fail_on_limits), indent=2, ensure_ascii=False, default=str)
    write_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))


def relative_to_repository(path: str) -> str:
    """A script's path as the repository names it ($GITHUB_WORKSPACE, else the git checkout, else the working
    directory), or as it is when outside."""
    resolved = Path(path).resolve()
    roots = [os.environ.get("GITHUB_WORKSPACE"), repository_root(resolved.parent), Path.cwd()]
    for root in roots:
        if root and resolved.is_relative_to(Path(root).resolve()):
            return resolved.relative_to(Path(root).resolve()).as_posix()
    return resolved.as_posix()


Case = tuple[str, str, list[Finding], RevisionResult | None]


def junit_checks(report: WalkReport) -> list[Case]:
    """(where, check, its findings, the revision's result) for each revision's checks, plus the history-wide ones."""
    cases: list[Case] = []
    for check in sorted({f.check for f in report.findings} | {"heads", "drift"}):
        cases.append(("history", check, [f for f in report.findings if f.check == check], None))
    static = set(STATIC_CHECKS) if report.run and report.run.static_checks else set()
    for result in report.revisions:  # every leg, those that did not run as skipped
        checks = list(LEGS) + sorted(({f.check for f in result.findings} | static) - set(LEGS))
        for check in checks:
            cases.append((result.revision, check, [f for f in result.findings if f.check == check], result))
    return cases


def case_attributes(report: WalkReport, check: str, findings: list[Finding], result: RevisionResult | None) -> dict:
    """time (the leg's seconds), file and line (the script and its upgrade or downgrade function)."""
    attributes = {"time": f"{result.leg_seconds.get(check, 0.0):.3f}" if result else "0.000"}
    place: ScriptPlace | None = report.run.scripts.get(result.revision) if report.run and result else None
    if place is not None:
        first = findings[0] if findings else Finding(result.revision, check, FAILURE, "")
        attributes.update(file=relative_to_repository(place.path), line=str(place.line_for(first)))
    return attributes


def add_cases(suite: ET.Element, report: WalkReport, case: Case) -> None:
    classname, check, findings, result = case
    failures = [f for f in findings if f.severity == FAILURE]
    elements = []
    for index in range(max(1, len(failures))):
        attributes = case_attributes(report, check, failures[index : index + 1] or findings, result)
        elements.append(
            ET.SubElement(
                suite,
                "testcase",
                classname=f"migrations.{classname}",
                name=check if index == 0 else f"{check} #{index + 1}",
                **attributes,
            )
        )
        if result is not None and (named := deploy_properties(result)):  # first: before <failure>, as pytest's
            add_properties(elements[-1], named)
    for element, failure in zip(elements, failures):
        ET.SubElement(element, "failure", message=failure.message).text = str(failure)
    if result is not None and check in LEGS and result.verdict(check) == "skipped":
        ET.SubElement(elements[0], "skipped", message="not run: an earlier step failed")
    if others := [f for f in findings if f.severity != FAILURE]:
        ET.SubElement(elements[0], "system-out").text = "\n".join(str(f) for f in others)


def add_properties(element: ET.Element, named: dict) -> None:
    properties = ET.SubElement(element, "properties")
    for name, value in named.items():
        if value is not None:
            ET.SubElement(properties, "property", name=name, value=str(value))


def deploy_properties(result: RevisionResult) -> dict[str, str]:
    """What the revision's deploy does to live traffic: the longest waits, the lock behind each, rolling-deploy
    safety; only what was measured."""
    summary = result.deploy_summary()
    named = {}
    for kind in ("read", "write"):
        if wait := summary[f"longest_blocked_{kind}"]:
            named[f"longest blocked {kind} seconds"] = f"{wait['seconds']:.3f}"
            named[f"longest blocked {kind} behind"] = f"{wait['lock']} on {wait['table']} ({wait['leg']})"
    if summary["rolling_deploy_safe"] is not None:
        named["rolling deploy safe"] = "yes" if summary["rolling_deploy_safe"] else "no"
    return named


def junit_tree(report: WalkReport) -> ET.ElementTree:
    suite = ET.Element("testsuite", name="migrations", time=f"{report.seconds:.3f}")
    about = report.run.to_dict() if report.run else {}
    named = {
        "tool version": about.get("tool", {}).get("version"),
        "postgresql": about.get("postgresql", {}).get("version"),
        "postgresql source": about.get("postgresql", {}).get("source"),
        "seed": about.get("seed"),
        "rows": about.get("rows"),
        **{f"{severity}s": count for severity, count in report.counts().items()},
    }
    add_properties(suite, named)
    for case in junit_checks(report):
        add_cases(suite, report, case)
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(len(suite.findall("testcase/failure"))))
    suite.set("skipped", str(len(suite.findall("testcase/skipped"))))
    return ET.ElementTree(suite)


def write_junit(report: WalkReport, path: Path) -> None:
    tree = junit_tree(report)
    write_atomically(path, lambda temp: tree.write(temp, encoding="utf-8", xml_declaration=True))
