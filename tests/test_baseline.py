"""A baseline turns today's failures into known ones; anything new or changed still fails."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.baseline import (
    Baseline,
    apply_baseline,
    chosen_baseline,
    read_baseline,
    stable_key,
    write_baseline,
)
from thirdai_platform.migrate.findings import FAILURE, KNOWN, LIMIT, NOTE, Finding, RevisionResult, WalkReport
from thirdai_platform.migrate.session import load_session

HISTORIES = Path(__file__).parent / "histories"
REPO_ROOT = Path(__file__).parents[1]
LOST_ROWS = "5 of 5 rows of users are not as they were before the upgrade; changed: name 'Zoë' → None"


def report_of(*findings: Finding) -> WalkReport:
    results = {}
    for finding in findings:
        results.setdefault(finding.revision, RevisionResult(finding.revision, "")).findings.append(finding)
    return WalkReport(revisions=list(results.values()))


def severities(report: WalkReport) -> list[tuple[str, str]]:
    return [(f.revision, f.severity) for f in report.all_findings()]


def planted_copy(tmp_path: Path, name: str = "downgrade_missing") -> Path:
    """A planted history (with the shared env.py and common/) where a test may add files; its alembic.ini."""
    for part in ("env.py", "common", name):
        source, target = HISTORIES / part, tmp_path / "histories" / part
        shutil.copytree(source, target) if source.is_dir() else shutil.copy(
            source, target.parent.mkdir(parents=True, exist_ok=True) or target
        )
    return tmp_path / "histories" / name / "alembic.ini"


def test_the_key_of_a_message_leaves_out_counts_and_sample_values_not_names():
    assert stable_key(LOST_ROWS) == "# of # rows of users are not as they were before the upgrade"
    assert (
        stable_key("upgrade removed 12 of 40 rows of users2 (0002_x.py:7)")
        == "upgrade removed # of # rows of users2 (0002_x.py:#)"
    )
    assert (
        stable_key('upgrade failed: UndefinedObject: type "x" does not exist')
        == 'upgrade failed: UndefinedObject: type "x" does not exist'
    )


def test_a_listed_failure_is_known_and_one_that_changed_still_fails():
    listed = Finding("0002", "downgrade", FAILURE, LOST_ROWS)
    elsewhere = Finding("0002", "downgrade", FAILURE, LOST_ROWS.replace("users", "teams"))
    other_check = Finding("0002", "upgrade again", FAILURE, LOST_ROWS)
    baseline = Baseline(listed=frozenset({("0002", "downgrade", stable_key(LOST_ROWS.replace("5 of 5", "7 of 9")))}))

    judged = apply_baseline(report_of(listed, elsewhere, other_check), baseline)

    assert severities(judged) == [("0002", KNOWN), ("0002", FAILURE), ("0002", FAILURE)]
    assert judged.fails() and not apply_baseline(report_of(listed), baseline).fails()


def test_a_baseline_revision_makes_failures_up_to_it_known_and_leaves_limits_and_notes_as_they_are():
    report = report_of(
        Finding("0001", "lint", FAILURE, "ban-drop-column"),
        Finding("0001", "seed", LIMIT, "cannot fill"),
        Finding("0002", "upgrade", FAILURE, "upgrade failed"),
        Finding("0002", "upgrade", NOTE, "note"),
    )

    judged = apply_baseline(report, Baseline(revisions=frozenset({"0001"})))

    assert severities(judged) == [("0001", KNOWN), ("0001", LIMIT), ("0002", FAILURE), ("0002", NOTE)]
    assert severities(report)[0] == ("0001", FAILURE)  # the report judged is a new one


def test_a_written_baseline_lists_each_failure_once_and_keeps_the_reasons_given(tmp_path):
    path = tmp_path / "known.toml"
    report = report_of(
        Finding("0002", "downgrade", FAILURE, LOST_ROWS),
        Finding("0002", "seed", NOTE, "n"),
        Finding(None, "drift", FAILURE, 'models differ: "quoted" \\ path'),
    )
    write_baseline(path, report)
    path.write_text(path.read_text().replace('reason = ""', 'reason = "users are rebuilt from the directory"', 1))

    assert write_baseline(path, report) == 2
    baseline, reasons = read_baseline(path)
    assert baseline.covers(Finding(None, "drift", FAILURE, 'models differ: "quoted" \\ path'))
    assert sorted(reasons.values()) == ["", "users are rebuilt from the directory"]


def test_a_file_that_is_not_a_baseline_is_one_line(tmp_path):
    (tmp_path / "known.toml").write_text('[[known]]\nrevision = "0002"\n')

    with pytest.raises(UserError, match=r"known.toml is not a baseline file .*'check'"):
        read_baseline(tmp_path / "known.toml")


def test_baseline_rev_in_the_pyproject_next_to_alembic_ini_covers_it_and_its_ancestors(tmp_path):
    ini = planted_copy(tmp_path)
    (ini.parent / "pyproject.toml").write_text('[tool.thirdai-migrate]\nbaseline = "0002_projects"\n')

    assert chosen_baseline(load_session(ini)).revisions == {"0001_teams_users", "0002_projects"}
    (ini.parent / "pyproject.toml").write_text('[tool.thirdai-migrate]\nbaseline = "0042_nothing"\n')
    with pytest.raises(UserError, match="baseline = '0042_nothing' is no revision of the history"):
        chosen_baseline(load_session(ini))


def git(directory: Path, *arguments: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments], cwd=directory, check=True, capture_output=True
    )


def test_changed_only_gates_the_revisions_a_branch_changes_or_adds_and_those_after_them(tmp_path):
    ini = planted_copy(tmp_path)
    git(tmp_path, "init", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-m", "history")
    git(tmp_path, "checkout", "-b", "feature")
    versions = ini.parent / "versions"
    (versions / "0003_team_budget.py").write_text((versions / "0003_team_budget.py").read_text() + "\n# changed\n")

    # 0004 comes after the changed 0003, which may break it: gated too
    assert chosen_baseline(load_session(ini), changed_only=True).revisions == {"0001_teams_users", "0002_projects"}


def test_changed_only_outside_a_git_checkout_is_one_line(tmp_path):
    with pytest.raises(UserError, match=r"^--changed-only needs a git checkout, and .* is not in one$"):
        chosen_baseline(load_session(planted_copy(tmp_path)), changed_only=True)


NEW_DEFECT = '''
"""Projects get a note; the downgrade forgets it."""
import sqlalchemy as sa
from alembic import op

revision = "0005_project_note"
down_revision = "0004_project_archived"


def upgrade() -> None:
    op.add_column("projects", sa.Column("note", sa.Text))


def downgrade() -> None:
    pass
'''


def walk(ini: Path, *arguments: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = ini.parent / "out.json"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "thirdai_platform.migrate",
            "--config",
            str(ini),
            "--no-drift",
            "--jobs",
            "1",
            "--json",
            str(out),
            *arguments,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in finished.stderr, finished.stderr
    return finished, json.loads(out.read_text())


def failing(report: dict) -> set[tuple[str, str]]:
    return {(r["revision"], f["check"]) for r in report["revisions"] for f in r["findings"] if f["severity"] == FAILURE}


def test_a_baseline_written_today_passes_the_same_history_and_fails_a_new_defect_alone(tmp_path):
    ini, known = planted_copy(tmp_path), tmp_path / "known.toml"
    first, report = walk(ini)
    assert first.returncode == 1 and failing(report), first.stdout
    today = failing(report)

    written, _ = walk(ini, "--write-baseline", str(known))
    again, report = walk(ini, "--baseline", str(known))

    assert written.returncode == 0 and f"known failures to {known}" in written.stdout
    assert again.returncode == 0, again.stdout
    assert "known failures: accepted by the baseline" in again.stdout and not failing(report)
    assert {
        (r["revision"], f["check"]) for r in report["revisions"] for f in r["findings"] if f["severity"] == KNOWN
    } == today
    (ini.parent / "versions" / "0005_project_note.py").write_text(textwrap.dedent(NEW_DEFECT).lstrip())
    with_defect, report = walk(ini, "--baseline", str(known))
    assert with_defect.returncode == 1
    assert {revision for revision, _ in failing(report)} == {"0005_project_note"}


def test_an_objects_address_in_a_message_does_not_make_it_new():
    message = (
        "downgrade failed: CompileError: Can't emit DROP CONSTRAINT for ForeignKeyConstraint(<object at {}>, None)"
    )
    assert stable_key(message.format("0x7fe8756be570")) == stable_key(message.format("0x7f00aa11bb22"))
