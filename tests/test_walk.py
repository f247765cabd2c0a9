"""The walk finds the defects planted in tests/histories, each at the right revision and leg, and nothing else.

Every history is a small Alembic project sharing tests/histories/env.py; the docstring of each planted revision
says what is wrong with it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from thirdai_platform.migrate.findings import FAILURE, NOTE, Finding, WalkReport
from thirdai_platform.migrate.report.summary import write_json, write_junit
from thirdai_platform.migrate.session import load_session
from thirdai_platform.migrate.walk.roundtrip import DOWNGRADE, LEGS, UPGRADE, UPGRADE_AGAIN
from thirdai_platform.migrate.walk.runner import Runner
from thirdai_platform.migrate.walk.walker import WalkOptions, walk

HISTORIES = Path(__file__).parent / "histories"
REPO_ROOT = Path(__file__).parents[1]
ALL_OK = {leg: "ok" for leg in LEGS}


def walk_history(ini: Path, database_url: str, **options) -> WalkReport:
    url = make_url(database_url)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return walk(Runner(load_session(ini, url=url).on(url, connection)), WalkOptions(rows=5, **options))
    finally:
        engine.dispose()


def walk_planted(name: str, database_url: str, **options) -> WalkReport:
    return walk_history(HISTORIES / name / "alembic.ini", database_url, **options)


def failures(report: WalkReport) -> list[Finding]:
    return [f for f in report.all_findings() if f.severity == FAILURE]


def failing_revisions(report: WalkReport) -> set[str | None]:
    return {f.revision for f in failures(report)}


def the_failure(report: WalkReport, revision: str, check: str) -> Finding:
    found = [f for f in failures(report) if f.revision == revision and f.check == check]
    assert len(found) == 1, f"expected one {check} failure at {revision}, got: {[str(f) for f in failures(report)]}"
    return found[0]


def legs(report: WalkReport) -> dict[str, dict[str, str]]:
    return {r.revision: r.legs for r in report.revisions}


def test_clean_history_passes_with_every_leg_of_every_revision(database_url):
    report = walk_planted("clean", database_url)

    assert failures(report) == []
    assert legs(report) == {"0001_teams_users": ALL_OK, "0002_full_name": ALL_OK, "0003_is_admin": ALL_OK}
    assert all(r.rows_checked > 0 for r in report.revisions)
    # where each revision's time went: every phase of a revision that walked all its legs, within its seconds
    phases = {"render", "seed", "copy", "snapshot", "compare", "rolling", "locks", "leg"}
    assert all(set(r.phase_seconds) == phases for r in report.revisions)
    assert all(0 < sum(r.phase_seconds.values()) <= r.seconds for r in report.revisions)


def test_rename_written_as_drop_and_add_loses_the_column_on_upgrade(database_url):
    report = walk_planted("rename_as_drop_add", database_url)

    lost = the_failure(report, "0002_full_name", UPGRADE)
    assert (lost.table, lost.column) == ("users", "name")
    assert "dropped column users.name" in lost.message and "found nowhere" in lost.message
    assert lost.rows and lost.sample["name"] is not None
    # the downgrade brings back an empty column, since the names were gone at the revision: one loss, one finding
    assert [f.check for f in failures(report)] == [UPGRADE]
    assert legs(report)["0003_last_login"] == ALL_OK


def test_downgrade_that_restores_a_column_empty(database_url):
    report = walk_planted("downgrade_restores_empty", database_url)

    empty = the_failure(report, "0002_contacts", DOWNGRADE)
    assert empty.table == "users" and empty.rows
    assert "rows of users are not as they were before the upgrade" in empty.message
    assert f"changed: phone {empty.sample['phone']!r} → None" in empty.message
    # the upgrade itself moved the numbers into contacts: no finding there
    assert not [f for f in failures(report) if f.check == UPGRADE]


def test_enum_label_change_whose_downgrade_maps_to_the_wrong_label(database_url):
    report = walk_planted("enum_downgrade_wrong", database_url)

    wrong = the_failure(report, "0002_in_progress", DOWNGRADE)
    assert wrong.table == "jobs" and wrong.sample["status"] == "running"
    assert "changed: status 'running' → 'queued'" in wrong.message
    assert "'in_progress' → 'queued'" in the_failure(report, "0002_in_progress", UPGRADE_AGAIN).message


def test_type_narrowing_that_truncates_values(database_url):
    report = walk_planted("type_narrowing", database_url)

    cut = the_failure(report, "0002_short_names", UPGRADE)
    assert (cut.table, cut.column) == ("models", "name")
    assert "from character varying(50) to character varying(10) altered" in cut.message
    assert len(cut.sample["name"]) > 10
    assert f"→ {cut.sample['name'][:10]!r}" in cut.message


def test_enum_type_created_twice_fails_the_upgrade_and_blocks_its_descendants(database_url):
    report = walk_planted("enum_created_twice", database_url)

    duplicate = the_failure(report, "0002_models", UPGRADE)
    assert "DuplicateObject" in duplicate.message and "deploy_status" in duplicate.message
    assert "CREATE TYPE deploy_status" in duplicate.statement
    assert legs(report)["0002_models"] == {UPGRADE: "failed"}
    # the child cannot be walked; it says why, without being counted as a failure of its own
    blocked = [f for f in report.all_findings() if f.revision == "0003_user_email"]
    assert [(f.check, f.severity) for f in blocked] == [("setup", NOTE)]
    assert "0002_models" in blocked[0].message
    assert failing_revisions(report) == {"0002_models"}


def test_downgrade_that_does_nothing_and_one_that_raises(database_url):
    report = walk_planted("downgrade_missing", database_url)

    assert "table projects left behind" in the_failure(report, "0002_projects", DOWNGRADE).message
    assert "DuplicateTable" in the_failure(report, "0002_projects", UPGRADE_AGAIN).message
    raised = the_failure(report, "0003_team_budget", DOWNGRADE)
    assert raised.message == "downgrade failed: NotImplementedError: no way back from budgets"
    # both broken revisions are listed in one run, and the walk went on past them
    assert failing_revisions(report) == {"0002_projects", "0003_team_budget"}
    assert legs(report)["0004_project_archived"] == ALL_OK


def test_downgrades_leaving_an_index_an_enum_type_and_a_sequence_behind(database_url):
    report = walk_planted("leftovers", database_url)

    index = the_failure(report, "0002_last_login", DOWNGRADE)
    assert "index users.ix_users_created_at left behind" in index.message
    assert "enum plan left behind" in the_failure(report, "0003_plans", DOWNGRADE).message
    assert "sequence invoice_number_seq left behind" in the_failure(report, "0004_invoices", DOWNGRADE).message
    for revision, error in [
        ("0002_last_login", "DuplicateTable"),
        ("0003_plans", "DuplicateObject"),
        ("0004_invoices", "DuplicateTable"),
    ]:
        assert error in the_failure(report, revision, UPGRADE_AGAIN).message
    assert failing_revisions(report) == {"0002_last_login", "0003_plans", "0004_invoices"}
    assert legs(report)["0005_subscription_started"] == ALL_OK


def test_two_heads(database_url):
    report = walk_planted("two_heads", database_url)

    heads = the_failure(report, None, "heads")
    assert "2 heads" in heads.message and "0002_team_slug" in heads.message and "0002_user_email" in heads.message
    assert failing_revisions(report) == {None}
    assert set(legs(report)) == {"0001_teams_users", "0002_team_slug", "0002_user_email"}


def test_model_changed_without_a_migration(database_url):
    report = walk_planted("drift", database_url)

    drift = the_failure(report, None, "drift")
    assert "the models add column users.avatar_url (VARCHAR(500))" in drift.message
    assert failing_revisions(report) == {None}


def test_drift_check_can_be_left_out(database_url):
    assert failures(walk_planted("drift", database_url, check_drift=False)) == []


def test_backfill_that_gives_other_values_on_the_second_upgrade(database_url):
    report = walk_planted("backfill_changes", database_url)

    backfill = the_failure(report, "0002_activated_at", UPGRADE_AGAIN)
    assert backfill.table == "users" and backfill.rows
    assert "rows of users differ from the first upgrade: the upgrade is not repeatable" in backfill.message
    assert "changed: activated_at" in backfill.message
    assert failing_revisions(report) == {"0002_activated_at"}


def test_declared_data_loss_passes_and_the_same_drop_undeclared_fails(database_url, tmp_path):
    assert failures(walk_planted("declared_loss", database_url)) == []

    undeclared = tmp_path / "undeclared"
    shutil.copy(HISTORIES / "env.py", tmp_path)
    shutil.copytree(HISTORIES / "declared_loss", undeclared)
    revision = undeclared / "versions" / "0002_drop_nickname.py"
    revision.write_text(revision.read_text().replace('data_loss = {"upgrade": ["users.nickname"]}', ""))
    with create_engine(database_url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    report = walk_history(undeclared / "alembic.ini", database_url)

    lost = the_failure(report, "0002_drop_nickname", UPGRADE)
    assert (lost.table, lost.column) == ("users", "nickname")


def test_fixtures_give_the_data_migration_rows_of_the_shape_it_moves(database_url):
    report = walk_planted("fixtures", database_url)

    assert failures(report) == []
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT username, theme, settings FROM users WHERE username LIKE 'fixture-%'"))
        at_head = {row.username: (row.theme, row.settings) for row in rows}
    engine.dispose()
    # up, down and up again: the themes went out of settings, back in, and out again
    assert at_head == {
        "fixture-dark": ("dark", {"language": "de"}),
        "fixture-light": ("light", {}),
        "fixture-at-revision": ("dark", {"language": "fr"}),
    }


def test_reports_hold_one_failure_per_failing_check(database_url, tmp_path):
    report = walk_planted("leftovers", database_url)
    write_json(report, tmp_path / "walk.json")
    write_junit(report, tmp_path / "walk.xml")

    expected = {(f"migrations.{f.revision}", f.check) for f in failures(report)}
    assert len(expected) == 6
    suite = ET.parse(tmp_path / "walk.xml").getroot()
    failed = {
        (case.get("classname"), case.get("name")) for case in suite.iter("testcase") if case.find("failure") is not None
    }
    assert failed == expected
    assert suite.get("failures") == "6"

    saved = json.loads((tmp_path / "walk.json").read_text())
    assert saved["passed"] is False
    saved_failures = {
        (r["revision"], f["check"]) for r in saved["revisions"] for f in r["findings"] if f["severity"] == FAILURE
    }
    assert {(f"migrations.{revision}", check) for revision, check in saved_failures} == expected


@pytest.mark.parametrize("history, exit_code", [("clean", 0), ("rename_as_drop_add", 1)])
def test_command_line_exit_code(history, exit_code, tmp_path):
    out = tmp_path / "out.json"
    # --no-lint: the histories are written to plant walk defects, not to satisfy squawk and the review
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "thirdai_platform.migrate",
            "--config",
            str(HISTORIES / history / "alembic.ini"),
            "--no-lint",
            "--json",
            str(out),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert finished.returncode == exit_code, finished.stdout + finished.stderr
    assert json.loads(out.read_text())["passed"] is (exit_code == 0)


def test_review_and_lint_findings_reach_the_summary_and_reports(tmp_path):
    """nox -s migrations runs the static review and squawk on every script: their findings sit on their revision."""
    out, junit = tmp_path / "out.json", tmp_path / "out.xml"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "thirdai_platform.migrate",
            "--config",
            str(HISTORIES / "rename_as_drop_add" / "alembic.ini"),
            "--no-drift",
            "--json",
            str(out),
            "--junit-xml",
            str(junit),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1, finished.stderr

    saved = json.loads(out.read_text())
    found = {(r["revision"], f["check"], f["message"].split(":")[0]) for r in saved["revisions"] for f in r["findings"]}
    assert ("0002_full_name", "review", "drop-add-looks-like-rename") in found
    assert ("0002_full_name", "lint", "ban-drop-column (upgrade)") in found
    failed = {
        (case.get("classname"), case.get("name"))
        for case in ET.parse(junit).getroot().iter("testcase")
        if case.find("failure") is not None
    }
    assert {("migrations.0002_full_name", "review"), ("migrations.0002_full_name", "lint")} <= failed
    assert "drop-add-looks-like-rename" in finished.stdout and "lint" in finished.stdout


def test_correct_migrations_that_look_like_losses_pass(database_url):
    """The clock (a now() default, an ORM onupdate stamp), wider types that keep every value, and a downgrade
    that carries the new version's data back into old rows: none of them is a loss."""
    report = walk_planted("correct_moves", database_url)

    assert failures(report) == [], [str(f) for f in failures(report)]
    assert {r.revision: r.legs for r in report.revisions}["0005_notes"] == ALL_OK
    stamped = {
        (f.revision, f.table, f.column)
        for f in report.all_findings()
        if f.severity == NOTE and "set to the current time" in f.message
    }
    assert ("0002_created_at", "users", "created_at") in stamped
    assert ("0003_nicknames", "users", "updated_at") in stamped


def test_upgrade_that_empties_a_column_it_keeps(database_url):
    report = walk_planted("kept_column_emptied", database_url)

    emptied = the_failure(report, "0003_reset_passwords", UPGRADE)
    assert (emptied.table, emptied.column) == ("users", "password_hash")
    assert "→ 0 rows with a value" in emptied.message
    assert failing_revisions(report) == {"0003_reset_passwords"}


def test_a_malformed_data_loss_is_the_scripts_failure_and_the_walk_goes_on(database_url, tmp_path):
    history = tmp_path / "malformed"
    shutil.copy(HISTORIES / "env.py", tmp_path)
    shutil.copytree(HISTORIES / "declared_loss", history)
    revision = history / "versions" / "0002_drop_nickname.py"
    revision.write_text(
        revision.read_text().replace('data_loss = {"upgrade": ["users.nickname"]}', 'data_loss = ["users.nickname"]')
    )
    report = walk_history(history / "alembic.ini", database_url)

    malformed = the_failure(report, "0002_drop_nickname", "declaration")
    assert "data_loss must look like" in malformed.message
    assert legs(report)["0002_drop_nickname"] == ALL_OK  # walked, with nothing declared


ANOTHER_COLUMN_EACH_CALL = '''"""PLANTED DEFECT: every other call of its upgrade adds another column.

Revision ID: 0002_other_column
"""
import itertools

import sqlalchemy as sa
from alembic import op

revision = "0002_other_column"
down_revision = "0001_users"
CALLS = itertools.count()


def upgrade() -> None:
    op.add_column("users", sa.Column("nickname_b" if next(CALLS) % 2 else "nickname_a", sa.Text))


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN IF EXISTS nickname_a, DROP COLUMN IF EXISTS nickname_b")
'''


def test_an_upgrade_that_sends_other_statements_the_second_time_is_read_again(database_url, tmp_path):
    """The downgrade gives the parent's schema back exactly, but the upgrade again adds another column than the
    upgrade did (it is called once offline to render it, then for each upgrade): its schema is read and compared,
    not taken to be the first upgrade's."""
    history = tmp_path / "other_column"
    shutil.copy(HISTORIES / "env.py", tmp_path)
    shutil.copytree(HISTORIES / "declared_loss", history)
    (history / "versions" / "0002_drop_nickname.py").unlink()
    (history / "versions" / "0002_other_column.py").write_text(ANOTHER_COLUMN_EACH_CALL)
    report = walk_history(history / "alembic.ini", database_url, check_drift=False)

    again = [str(f) for f in failures(report) if f.check == UPGRADE_AGAIN]
    assert any("column users.nickname_b missing" in f for f in again), again
    assert legs(report)["0002_other_column"] == ALL_OK
