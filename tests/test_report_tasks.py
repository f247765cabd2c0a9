"""What `inv db.*` says, on a real ephemeral PostgreSQL: sentences only. No Alembic set-up chatter, one message for
several heads in every task, a migration failing half-way names its revision and statement, review findings as
sentences that are never cut inside a quoted string."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from thirdai_platform.migrate.commands.task_output import review_sentence
from thirdai_platform.migrate.review import review_script
from thirdai_platform.migrate.review.syntax import shorten as _shorten

REPO = Path(__file__).resolve().parents[1]
REVIEW_CASES = Path(__file__).parent / "review_cases"
CHATTER = ("Context impl", "Will assume", "setting up autogenerate plugin", "Generating static SQL")
HEADS = "the history has 2 heads (0010_integrations_pw_resets, zz_second_head); join them first with `inv db.merge`"
SECOND_HEAD = '''"""a second head"""
revision = "zz_second_head"
down_revision = "0009_catalog_target_labels"


def upgrade():
    pass


def downgrade():
    pass
'''
BREAKS = '''"""breaks half-way"""
from alembic import op

revision = "zz_breaks"
down_revision = "0010_integrations_pw_resets"


def upgrade():
    op.execute("CREATE TABLE halfway (id int)")
    op.execute("INSERT INTO halfway SELECT 'not a number'")


def downgrade():
    op.execute("DROP TABLE halfway")
'''


def our_history(tmp_path: Path, *extra: str) -> Path:
    """A copy of our alembic.ini and alembic/ with extra revision scripts; returns its alembic.ini."""
    shutil.copy(REPO / "alembic.ini", tmp_path / "alembic.ini")
    shutil.copytree(REPO / "alembic", tmp_path / "alembic", ignore=shutil.ignore_patterns("__pycache__"))
    for index, source in enumerate(extra):
        (tmp_path / "alembic" / "versions" / f"zz_{index}.py").write_text(source)
    return tmp_path / "alembic.ini"


def inv(*args: str, url: str, config: Path | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URI", "ALEMBIC_CONFIG")}
    environ["DATABASE_URI"] = url
    if config is not None:
        environ["ALEMBIC_CONFIG"] = str(config)
    finished = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )
    assert "Traceback" not in finished.stdout + finished.stderr, finished.stderr
    return finished


def test_no_task_prints_alembics_set_up_chatter(database_url):
    for task in (["db.upgrade"], ["db.check"], ["db.downgrade"], ["db.upgrade", "--sql"], ["db.current"]):
        finished = inv(*task, url=database_url)
        assert finished.returncode == 0, (task, finished.stderr)
        said = finished.stdout + finished.stderr
        assert not [line for line in said.splitlines() if line.startswith(CHATTER)], (task, said)
    assert "Running upgrade" in inv("db.upgrade", url=database_url).stderr  # what happens still shows


def test_several_heads_are_one_sentence_in_every_task(database_url, tmp_path):
    config = our_history(tmp_path, SECOND_HEAD)
    for task in (["db.upgrade"], ["db.upgrade", "--sql"], ["db.check"], ["db.revision", "-m", "x"]):
        finished = inv(*task, url=database_url, config=config)
        assert finished.returncode == 1 and finished.stderr.strip().splitlines()[-1] == f"error: {HEADS}", task
    assert inv("db.upgrade", "-r", "heads", url=database_url, config=config).returncode == 0
    finished = inv("db.downgrade", url=database_url, config=config)
    assert finished.returncode == 1 and "a relative downgrade is ambiguous" in finished.stderr


def test_a_migration_failing_half_way_names_its_revision_and_statement(database_url, tmp_path):
    finished = inv("db.upgrade", url=database_url, config=our_history(tmp_path, BREAKS))
    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines()[-1] == (
        "error: upgrade of zz_breaks failed and its revision was rolled back (database now at "
        '0010_integrations_pw_resets): invalid input syntax for type integer: "not a number" while running: '
        "INSERT INTO halfway SELECT 'not a number'"
    )


def test_a_new_empty_revision_has_nothing_to_undo(database_url, tmp_path):
    finished = inv("db.revision", "-m", "nothing yet", "--empty", url=database_url, config=our_history(tmp_path))
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith("wrote ")  # not Alembic's "Generating ..." status line
    assert "finding" not in finished.stdout  # upgrade() and downgrade() both empty: nothing to review yet


def test_review_findings_are_sentences():
    [found] = review_script(REVIEW_CASES / "empty_downgrade.py")
    assert review_sentence(found) == (
        "error at line 12 of empty_downgrade.py: downgrade() does nothing: it must restore the schema and the data "
        "that upgrade() changed (empty-downgrade)"
    )


def test_sql_piped_into_head_ends_quietly(database_url):
    environ = {**os.environ, "DATABASE_URI": database_url}
    piped = subprocess.run(
        f"{sys.executable} -m invoke --search-root {REPO} db.upgrade --sql | head -1",
        shell=True,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )
    assert piped.stdout.strip() == "SET lock_timeout = '10s';" and "Traceback" not in piped.stderr, piped.stderr


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "UPDATE models SET status = 'in progress, or waiting for a worker' WHERE id = 1",
            "UPDATE models SET status = …",
        ),
        ("short", "short"),
        ("a" * 100, "a" * 100),  # no place to cut between words: whole
    ],
)
def test_a_shortened_review_line_is_never_cut_inside_a_string(text, expected):
    assert _shorten(text, limit=40) == expected
