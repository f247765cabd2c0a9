"""The deploy verdict: the probe's waits judged against the team's limits (pyproject.toml or the command line), and
rolling deploys made a gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_histories import history

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.baseline import entry_of
from thirdai_platform.migrate.findings import FAILURE, NOTE, Finding, RevisionResult, ScriptPlace, WalkReport
from thirdai_platform.migrate.session import load_config
from thirdai_platform.migrate.walk.deploy.rolling import ROLLING_DEPLOY
from thirdai_platform.migrate.walk.deploy.verdict import (
    DEPLOY,
    NO_LIMITS,
    DeployLimits,
    chosen_limits,
    judge_deploys,
    parse_duration,
    wait_finding,
)

REPO = Path(__file__).resolve().parents[1]
ALTER = "ALTER TABLE models ADD COLUMN size bigint NOT NULL DEFAULT 0"


def wait(table: str, kind: str, longest: float, statement: str = ALTER) -> dict:
    return {
        "table": table,
        "kind": kind,
        "longest": longest,
        "total": longest * 2,
        "waits": 3,
        "lock": "ACCESS EXCLUSIVE",
        "statement": statement,
    }


def blocked_result() -> RevisionResult:
    ok = {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"}
    return RevisionResult(
        "0002_x",
        "sizes",
        dict(ok),
        blocked={
            "upgrade": [wait("models", "write", 4.8), wait("models", "read", 0.3)],
            "downgrade": [wait("models", "write", 1.2, "ALTER TABLE models DROP COLUMN size")],
        },
    )


def deploy_of(report: WalkReport) -> list[tuple[str, str, str]]:
    return [(f.severity, f.table, f.message) for f in report.all_findings() if f.check == DEPLOY]


@pytest.mark.parametrize("text, seconds", [("2s", 2.0), ("500ms", 0.5), ("1.5s", 1.5), ("1m", 60.0), (" 3 s ", 3.0)])
def test_a_duration_is_read_with_its_unit(text, seconds):
    assert parse_duration(text, "--max-blocked-write") == seconds


@pytest.mark.parametrize("text", ["2", "2 sec", "-1s", "s", "", 2])
def test_a_malformed_duration_is_one_line_naming_where_it_was_given(text):
    with pytest.raises(UserError, match=r"^--max-blocked-read .* is not a duration \(e.g. 2s, 500ms"):
        parse_duration(text, "--max-blocked-read")


def test_without_limits_traffic_that_waited_is_a_note_with_its_numbers():
    judged = judge_deploys(WalkReport([blocked_result()]), NO_LIMITS)

    assert [(severity, table) for severity, table, _ in deploy_of(judged)] == [(NOTE, "models"), (NOTE, "models")]
    writes, reads = (message for _, _, message in deploy_of(judged))
    assert writes == (
        "writes to models waited up to 4.8 s (waits: 3, 9.6 s in all) in the upgrade behind ACCESS "
        "EXCLUSIVE held by ALTER TABLE models ADD COLUMN size bigint NOT NULL DEFAULT 0"
    )
    assert reads.startswith("reads of models waited up to 0.3 s") and not judged.fails()


def test_a_wait_past_its_limit_fails_the_revision_and_one_under_it_stays_a_note():
    limits = DeployLimits({"write": 2.0, "read": 0.5})

    judged = judge_deploys(WalkReport([blocked_result()]), limits)

    [(write_severity, _, write), (read_severity, _, _)] = deploy_of(judged)
    assert (write_severity, read_severity) == (FAILURE, NOTE) and judged.fails()
    assert write.endswith("longer than the 2 s allowed (max-blocked-write)")
    assert judge_deploys(WalkReport([blocked_result()]), DeployLimits({"write": 5.0, "read": None})).fails() is False
    assert judge_deploys(WalkReport([RevisionResult("0003", "")]), limits).all_findings() == []


def test_a_wait_no_deploy_notices_is_no_finding_unless_a_limit_asks_for_less():
    brief = RevisionResult("0002_x", "", blocked={"upgrade": [wait("models", "write", 0.016)]})

    assert judge_deploys(WalkReport([brief]), NO_LIMITS).all_findings() == []
    assert [
        f.severity
        for f in judge_deploys(WalkReport([brief]), DeployLimits({"write": 0.01, "read": None})).all_findings()
    ] == [FAILURE]


def test_a_baseline_keeps_knowing_a_deploy_failure_whichever_upgrade_waited_longer_and_however_often():
    limits = DeployLimits({"write": 2.0, "read": None})
    first = judge_deploys(WalkReport([blocked_result()]), limits)
    again = blocked_result()
    again.blocked["upgrade again"] = [{**wait("models", "write", 7.5), "waits": 1}]

    [before] = [f for f in first.all_findings() if f.severity == FAILURE]
    [after] = [f for f in judge_deploys(WalkReport([again]), limits).all_findings() if f.severity == FAILURE]
    assert "7.5 s" in after.message and entry_of(after) == entry_of(before)


def test_the_limits_of_the_pyproject_next_to_alembic_ini_and_the_command_line_winning(tmp_path):
    ini = history(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.thirdai-migrate]\nmax-blocked-write = "2s"\nmax-blocked-read = "500ms"\nrolling-deploys = true\n'
    )
    config = load_config(ini)

    assert chosen_limits(config) == DeployLimits({"write": 2.0, "read": 0.5}, rolling_deploys=True)
    assert chosen_limits(config, "1m", None, False) == DeployLimits({"write": 60.0, "read": 0.5}, False)
    (tmp_path / "pyproject.toml").write_text('[tool.thirdai-migrate]\nmax-blocked-write = "soon"\n')
    with pytest.raises(UserError, match=r"max-blocked-write in .*pyproject.toml: 'soon' is not a duration"):
        chosen_limits(load_config(ini))
    (tmp_path / "pyproject.toml").write_text('[tool.thirdai-migrate]\nrolling-deploys = "yes"\n')
    with pytest.raises(UserError, match="rolling-deploys in .* must be true or false"):
        chosen_limits(load_config(ini))


def migrate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "thirdai_platform.migrate", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_malformed_limit_on_the_command_line_is_one_line_and_exit_2():
    finished = migrate("--max-blocked-write", "2 sec")
    assert finished.returncode == 2 and "Traceback" not in finished.stderr
    assert finished.stderr.strip() == "error: --max-blocked-write '2 sec' is not a duration (e.g. 2s, 500ms, 1.5s, 1m)"


def test_rolling_deploys_in_the_pyproject_fail_a_rename_and_the_command_line_turns_it_back_to_a_note(tmp_path):
    ini = history(
        tmp_path,
        (
            "users.name becomes users.full_name",
            'op.alter_column("users", "name", new_column_name="full_name")',
            'op.alter_column("users", "full_name", new_column_name="name")',
        ),
    )
    (tmp_path / "pyproject.toml").write_text("[tool.thirdai-migrate]\nrolling-deploys = true\n")
    common = ["--config", str(ini), "--no-lint", "--no-drift", "--json", str(tmp_path / "out.json")]

    gated = migrate(*common)
    saved = json.loads((tmp_path / "out.json").read_text())["revisions"][-1]
    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert [f["severity"] for f in saved["findings"] if f["check"] == ROLLING_DEPLOY] == [FAILURE]
    assert saved["deploy"]["rolling_deploy_safe"] is False

    told = migrate(*common, "--no-rolling-deploys")
    saved = json.loads((tmp_path / "out.json").read_text())["revisions"][-1]
    assert told.returncode == 0, told.stdout + told.stderr
    assert [f["severity"] for f in saved["findings"] if f["check"] == ROLLING_DEPLOY] == [NOTE]


def test_a_measured_wait_past_max_blocked_write_fails_the_walk_and_under_no_limit_it_is_a_note(tmp_path):
    locked = 'op.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")\n    op.execute("SELECT pg_sleep(0.4)")'
    ini = history(tmp_path, ("users locked a while", locked, "pass"))
    common = ["--config", str(ini), "--no-lint", "--no-drift", "--json", str(tmp_path / "out.json")]

    gated = migrate(*common, "--max-blocked-write", "100ms")
    saved = json.loads((tmp_path / "out.json").read_text())["revisions"][-1]
    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert [(f["severity"], f["table"]) for f in saved["findings"] if f["check"] == DEPLOY] == [
        (FAILURE, "users"),
        (NOTE, "users"),
    ]  # the writes past the limit; the reads, with no limit, a note
    assert "LOCK TABLE users" in gated.stdout

    told = migrate(*common)
    saved = json.loads((tmp_path / "out.json").read_text())["revisions"][-1]
    assert told.returncode == 0, told.stdout + told.stderr
    assert {f["severity"] for f in saved["findings"] if f["check"] == DEPLOY} == {NOTE}


def test_a_wait_points_at_the_function_whose_run_made_it():
    place = ScriptPlace("versions/0005_x.py", upgrade_line=12, downgrade_line=30)
    result = RevisionResult("0005", "", {})
    in_upgrade = wait_finding(result, {**wait("models", "write", 1.2), "leg": "upgrade again"}, None)
    in_downgrade = wait_finding(result, {**wait("models", "write", 1.2), "leg": "downgrade"}, None)
    assert (place.line_for(in_upgrade), place.line_for(in_downgrade)) == (12, 30)
    rolling_back = Finding("0005", "rolling back", NOTE, "the new version's INSERT fails")
    assert place.line_for(rolling_back) == 30
