"""A real walk as CI sees it (no terminal, GITHUB_ACTIONS=true): one line per revision as it finishes, findings on
lines of their own, the PostgreSQL used named, and the JUnit, JSON, SARIF and annotations counting what the console
counts and pointing at files of the repository."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

import jsonschema

REPO = Path(__file__).resolve().parents[1]
HISTORY = REPO / "tests" / "histories" / "rename_as_drop_add" / "alembic.ini"  # a planted defect, lint failures
SARIF_SCHEMA = json.loads((REPO / "tests" / "sarif" / "sarif-schema-2.1.0.json").read_text())


def walk_in_ci(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "GITHUB_ACTIONS": "true"}
    environ.pop("GITHUB_WORKSPACE", None)
    return subprocess.run(
        [sys.executable, "-m", "thirdai_platform.migrate", "--config", str(HISTORY), "--no-drift", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
    )


def test_ci_log_reports_and_annotations_agree(tmp_path, pg_server):
    out, xml, sarif = tmp_path / "out.json", tmp_path / "out.xml", tmp_path / "out.sarif"
    finished = walk_in_ci(tmp_path, "--json", str(out), "--junit-xml", str(xml), "--sarif", str(sarif))
    assert finished.returncode == 1, finished.stdout + finished.stderr
    lines = finished.stdout.splitlines()
    report = json.loads(out.read_text())

    # the first line names the PostgreSQL; then a line per revision as it finishes, before the table
    assert re.match(rf"walking .* with PostgreSQL {re.escape(pg_server.version)} \(system, ", lines[0]), lines[0]
    assert re.fullmatch(r"\[1/3\] 0001_teams_users: walk passed in \d+\.\d\d s, \d+ rows checked, .*", lines[1])
    assert re.fullmatch(r"\[2/3\] 0002_full_name: walk FAILED \(upgrade\) in .*, 1 failure, .*", lines[2])
    assert lines[4].startswith("nox -s migrations: every revision")
    # each finding is one whole line, however long
    for finding in [f for r in report["revisions"] for f in r["findings"]]:
        said = f"[{finding['severity']}] {finding['revision']} {finding['check']}: {finding['message']}"
        assert said in lines, said
    assert (
        next(line for line in lines if line.startswith("| 0002_full_name")).split("|")[3].strip().startswith("FAILED")
    )

    counts = report["counts"]
    assert re.search(rf"^FAILED: 3 revisions, {counts['failure']} failures, ", finished.stdout, re.MULTILINE)
    assert report["tool"]["version"] == metadata.version("thirdai-platform")
    assert report["postgresql"]["version"] == pg_server.version and report["postgresql"]["source"] == "system"
    assert (report["seed"], report["rows"]) == (0, 5)
    assert report["revisions"][1]["legs"]["upgrade"] == "failed"

    suite = ET.parse(xml).getroot()
    assert int(suite.get("failures")) == counts["failure"]
    for case in suite.iter("testcase"):
        if case.get("classname") != "migrations.history":
            assert (REPO / case.get("file")).is_file() and int(case.get("line")) >= 1 and float(case.get("time")) >= 0
    revision_cases = {(c.get("classname"), c.get("name")) for c in suite.iter("testcase")}
    assert ("migrations.0003_last_login", "review") in revision_cases  # a passing review is a case too

    annotations = [line for line in lines if line.startswith("::")]
    errors = [line for line in annotations if line.startswith("::error ")]
    assert len(errors) == counts["failure"] and len(annotations) == counts["failure"] + counts["limit"]
    for line in annotations:
        assert (REPO / re.match(r"::\w+ file=([^,]+),line=\d+,", line)[1]).is_file(), line

    log = json.loads(sarif.read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    results = log["runs"][0]["results"]
    assert len([r for r in results if r["level"] != "note"]) == counts["failure"] + counts["limit"]
    assert all(r["ruleId"].startswith("deploy") for r in results if r["level"] == "note")  # the deploy's notes


def test_an_earlier_runs_reports_are_gone_when_a_run_stops_early(tmp_path):
    out, sarif = tmp_path / "out.json", tmp_path / "out.sarif"
    out.write_text('{"passed": true}')
    sarif.write_text("{}")
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "thirdai_platform.migrate",
            "--config",
            str(tmp_path / "none.ini"),
            "--json",
            str(out),
            "--sarif",
            str(sarif),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2 and finished.stderr.startswith("error: no Alembic config at")
    assert not out.exists() and not sarif.exists()
