"""`python -m thirdai_platform.migrate` on our own history: options, a restored dump, bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from thirdai_platform.migrate.commands.verbs import upgrade
from thirdai_platform.migrate.server.ephemeral import find_bin_dir
from thirdai_platform.migrate.session import load_session
from thirdai_platform.migrate.static_checks import revisions_in_range
from thirdai_platform.migrate.walk import climb
from thirdai_platform.migrate.walk.dump import restore_dump, restored
from thirdai_platform.migrate.walk.parallel import walk_database
from thirdai_platform.migrate.walk.seed import seed_database
from thirdai_platform.migrate.walk.walker import WalkOptions

REPO = Path(__file__).resolve().parents[1]
# Every revision of our history, oldest first, whatever they are called and however many there are.
HISTORY = revisions_in_range(load_session(REPO / "alembic.ini"))


def migrate(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "thirdai_platform.migrate", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_walk_from_a_dump_covers_only_the_later_revisions(database_url, tmp_path):
    upgrade(load_session(REPO / "alembic.ini", url=make_url(database_url)), "0006_model_attributes")
    engine = create_engine(database_url)
    with engine.connect() as connection:
        seed_database(connection, rows=200, seed=3, salt="production")
        models = connection.execute(text("SELECT count(*) FROM models")).scalar_one()
    engine.dispose()
    dump = tmp_path / "production.dump"
    libpq_url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run([str(find_bin_dir() / "pg_dump"), "-Fc", "-f", str(dump), libpq_url], check=True)

    finished = migrate("--from-dump", str(dump), "--rows", "0", "--no-lint", "--json", str(tmp_path / "out.json"))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads((tmp_path / "out.json").read_text())
    assert [r["revision"] for r in report["revisions"]] == HISTORY[HISTORY.index("0006_model_attributes") + 1 :]
    assert report["revisions"][0]["rows_checked"] >= models
    assert all(set(r["leg_seconds"]) == {"upgrade", "downgrade", "upgrade again"} for r in report["revisions"])


def test_a_broken_dump_is_one_line(tmp_path):
    dump = tmp_path / "broken.sql"
    dump.write_text("CREATE TABLE x (;\n")
    finished = migrate("--from-dump", str(dump), "--no-lint")
    assert finished.returncode == 2 and "Traceback" not in finished.stderr
    assert finished.stderr.startswith("error: restoring") and "syntax error" in finished.stderr


def test_unreachable_url_is_one_line():
    finished = migrate("--url", "postgresql://me:s3cret@127.0.0.1:1/x", timeout=60)
    assert finished.returncode == 2 and "Traceback" not in finished.stderr
    assert "cannot connect" in finished.stderr and "s3cret" not in finished.stderr


def test_a_database_that_is_not_empty_is_refused(database_url):
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE precious (id int)"))
    engine.dispose()
    finished = migrate("--url", database_url, "--no-lint")
    assert finished.returncode == 2 and "needs an empty database" in finished.stderr


def test_jobs_walks_our_history_in_parts_with_every_revision_reported_in_order(tmp_path):
    finished = migrate("--jobs", "2", "--no-lint", "--json", str(tmp_path / "out.json"))

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "(and 1 more, a part of the history each)" in finished.stdout
    revisions = [r["revision"] for r in json.loads((tmp_path / "out.json").read_text())["revisions"]]
    assert revisions == HISTORY


def test_jobs_on_a_server_that_cannot_be_reached_is_one_line():
    finished = migrate("--url", "postgresql://me:s3cret@127.0.0.1:1/postgres", "--jobs", "2", timeout=60)
    assert finished.returncode == 2 and finished.stderr.startswith(
        "error: cannot connect to postgresql+psycopg2://me:***@"
    )
    assert finished.stderr.count("\n") == 1 and "s3cret" not in finished.stderr


def test_jobs_below_one_is_one_line():
    finished = migrate("--jobs", "0", timeout=60)
    assert finished.returncode == 2 and finished.stderr == "error: --jobs must be at least 1\n"


# A revision of the create_all project: its upgrade and downgrade, {column} being the column it is about.
ADDS = 'op.add_column("accounts", sa.Column("{column}", sa.Text))', 'op.drop_column("accounts", "{column}")'
DOWNGRADE_RAISES = ADDS[0], 'raise RuntimeError("no way back")'
# The dump's account 1000 breaks the constraint: this upgrade fails wherever the dump's rows are.
REFUSES_THE_DUMP = (
    'op.create_check_constraint("{column}", "accounts", "id < 1000")',
    'op.drop_constraint("{column}", "accounts")',
)


def create_all_project(tmp_path: Path, revisions: list[tuple[str, str]]) -> Path:
    """A history whose first revision changes a table the application created itself (create_all), and its dump
    (with a row, and a schema of its own): revision k runs revisions[k], each about a name of its own."""
    shutil.copy(REPO / "tests" / "histories" / "env.py", tmp_path)
    project = tmp_path / "from_create_all"
    (project / "versions").mkdir(parents=True)
    (project / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/..\nversion_locations = %(here)s/versions\npath_separator = os\n"
    )
    (project / "models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\n")
    parent = None
    for number, (up, down) in enumerate(revisions, start=1):
        revision, column = f"{number:04d}_column_{number}", f"column_{number}"
        (project / "versions" / f"{revision}.py").write_text(
            f'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "{revision}"\ndown_revision = {parent!r}\n\n\n'
            f"def upgrade():\n    {up.format(column=column)}\n\n\n"
            f"def downgrade():\n    {down.format(column=column)}\n"
        )
        parent = revision
    (tmp_path / "create_all.sql").write_text(
        "CREATE TABLE accounts (id integer PRIMARY KEY, name text NOT NULL);\n"
        "INSERT INTO accounts VALUES (1000, 'from the dump');\n"
        "CREATE SCHEMA audit;\n"  # restored again, its schemas are made again too
        "CREATE TABLE audit.events (id integer);\n"
    )
    return project / "alembic.ini"


def walk_from_create_all(
    tmp_path: Path, revisions: list[tuple[str, str]], jobs: int = 1
) -> tuple[subprocess.CompletedProcess, dict]:
    ini = create_all_project(tmp_path, revisions)
    finished = migrate(
        "--config",
        str(ini),
        "--from-dump",
        str(tmp_path / "create_all.sql"),
        "--no-lint",
        "--no-drift",
        "--jobs",
        str(jobs),
        "--json",
        str(tmp_path / "out.json"),
    )
    return finished, json.loads((tmp_path / "out.json").read_text())


def failures_and_setup(report: dict) -> list[list[tuple[str, str]]]:
    """Per revision, its failures and what kept it from being walked."""
    return [
        [(f["check"], f["severity"]) for f in r["findings"] if f["severity"] == "failure" or f["check"] == "setup"]
        for r in report["revisions"]
    ]


def test_a_dump_of_the_schema_an_application_creates_before_its_first_revision(tmp_path):
    """mlflow and dagster make their first tables with create_all; their revisions start from those."""
    finished, report = walk_from_create_all(tmp_path, [ADDS, ADDS])

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert [r["revision"] for r in report["revisions"]] == ["0001_column_1", "0002_column_2"]
    assert all(r["rows_checked"] > 0 for r in report["revisions"])  # the dump's table got rows and was checked


@pytest.mark.parametrize("jobs", [1, 2])
def test_after_a_broken_leg_on_a_dump_the_walk_starts_again_from_the_dump(tmp_path, jobs):
    """The history does not climb from an empty database (its first revision needs the dump's table): after each
    failing downgrade the dump is restored and climbed to the next revision's parent, which is walked in full. In
    two parts, the second walks 0003 and 0004 on its own copy of the dump, and restores it there."""
    finished, report = walk_from_create_all(tmp_path, [DOWNGRADE_RAISES, ADDS, DOWNGRADE_RAISES, ADDS], jobs)

    assert finished.returncode == 1 and "Traceback" not in finished.stderr, finished.stdout + finished.stderr
    ok = {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"}
    failed = {"upgrade": "ok", "downgrade": "failed", "upgrade again": "skipped"}
    assert [r["legs"] for r in report["revisions"]] == [failed, ok, failed, ok]
    downgrade_failed = [("downgrade", "failure")]
    assert failures_and_setup(report) == [downgrade_failed, [], downgrade_failed, []]
    assert all(r["rows_checked"] > 0 for r in report["revisions"])


def test_a_revision_that_fails_on_the_dumps_rows_keeps_its_descendants_from_being_walked(tmp_path):
    """Started again from the dump, the climb to 0003's parent fails where 0002 did: reported there, a note after."""
    finished, report = walk_from_create_all(tmp_path, [ADDS, REFUSES_THE_DUMP, ADDS, ADDS])

    assert finished.returncode == 1 and "Traceback" not in finished.stderr, finished.stdout + finished.stderr
    assert [r["legs"]["upgrade"] for r in report["revisions"]] == ["ok", "failed", "skipped", "skipped"]
    assert failures_and_setup(report) == [[], [("upgrade", "failure")], [("setup", "note")], [("setup", "note")]]
    assert "its ancestor 0002_column_2 does not upgrade" in report["revisions"][3]["findings"][0]["message"]


def test_a_dump_that_no_longer_restores_after_a_broken_leg_keeps_the_report(tmp_path):
    """0001's downgrade fails after deleting the dump: the walk cannot start again from it, so 0002 and 0003 are
    not walked (a limit each, not their failure), and what was walked is reported."""
    gone = f"__import__('pathlib').Path({str(tmp_path / 'create_all.sql')!r}).unlink(missing_ok=True)"
    deletes_the_dump = ADDS[0], f'{gone}; raise RuntimeError("no way back")'
    finished, report = walk_from_create_all(tmp_path, [deletes_the_dump, ADDS, ADDS])

    assert finished.returncode == 1 and "Traceback" not in finished.stderr, finished.stdout + finished.stderr
    assert [r["legs"]["downgrade"] for r in report["revisions"]] == ["failed", "skipped", "skipped"]
    assert failures_and_setup(report) == [[("downgrade", "failure")], [("setup", "limit")], [("setup", "limit")]]
    message = report["revisions"][1]["findings"][0]["message"]
    assert message.startswith("not walked: after a failing leg, the walk starts again from the dump: no dump file")


def test_a_climb_that_failed_from_the_dump_is_not_tried_again(tmp_path, database_url, monkeypatch):
    """0003 and 0004 both climb through 0002, which fails on the dump's rows: the dump is restored once for both."""
    ini = create_all_project(tmp_path, [ADDS, REFUSES_THE_DUMP, ADDS, ADDS])
    url = make_url(database_url)
    dump = restored(tmp_path / "create_all.sql", url)
    restores = []
    monkeypatch.setattr(climb, "restore_dump", lambda *arguments: restores.append(restore_dump(*arguments)))

    report = walk_database(load_session(ini, url=url), url, WalkOptions(check_drift=False, dump=dump))

    assert [r.legs["upgrade"] for r in report.revisions] == ["ok", "failed", "skipped", "skipped"]
    assert len(restores) == 1


def test_a_malformed_url_option_is_one_line_naming_the_option():
    finished = migrate("--url", "postgresql://me:s3cret@localhost:notaport/x", timeout=60)
    assert finished.returncode == 2 and "Traceback" not in finished.stderr
    assert (
        finished.stderr.startswith("error: --url has a port that is not a number") and "s3cret" not in finished.stderr
    )
