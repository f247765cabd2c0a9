"""`python -m thirdai_platform.migrate` on our own history: options, a restored dump, bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from thirdai_platform.migrate.commands.verbs import upgrade
from thirdai_platform.migrate.server.ephemeral import find_bin_dir
from thirdai_platform.migrate.session import load_session
from thirdai_platform.migrate.static_checks import revisions_in_range
from thirdai_platform.migrate.walk.seed import seed_database

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


def create_all_project(tmp_path: Path, first_downgrade: str) -> Path:
    """A history whose first revision changes a table the application created itself (create_all), and its dump."""
    shutil.copy(REPO / "tests" / "histories" / "env.py", tmp_path)
    project = tmp_path / "from_create_all"
    (project / "versions").mkdir(parents=True)
    (project / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/..\nversion_locations = %(here)s/versions\n"
    )
    (project / "models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\n")
    for revision, parent, column, downgrade in (
        ("0001_nickname", None, "nickname", first_downgrade),
        ("0002_motto", "0001_nickname", "motto", 'op.drop_column("accounts", "motto")'),
    ):
        (project / "versions" / f"{revision}.py").write_text(
            f'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "{revision}"\ndown_revision = {parent!r}\n\n\n'
            f'def upgrade():\n    op.add_column("accounts", sa.Column("{column}", sa.Text))\n\n\n'
            f"def downgrade():\n    {downgrade}\n"
        )
    (tmp_path / "create_all.sql").write_text("CREATE TABLE accounts (id integer PRIMARY KEY, name text NOT NULL);\n")
    return project / "alembic.ini"


def walk_from_create_all(tmp_path: Path, first_downgrade: str) -> tuple[subprocess.CompletedProcess, dict]:
    ini = create_all_project(tmp_path, first_downgrade)
    finished = migrate(
        "--config",
        str(ini),
        "--from-dump",
        str(tmp_path / "create_all.sql"),
        "--no-lint",
        "--no-drift",
        "--jobs",
        "1",
        "--json",
        str(tmp_path / "out.json"),
    )
    return finished, json.loads((tmp_path / "out.json").read_text())


def test_a_dump_of_the_schema_an_application_creates_before_its_first_revision(tmp_path):
    """mlflow and dagster make their first tables with create_all; their revisions start from those."""
    finished, report = walk_from_create_all(tmp_path, 'op.drop_column("accounts", "nickname")')

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert [r["revision"] for r in report["revisions"]] == ["0001_nickname", "0002_motto"]
    assert all(r["rows_checked"] > 0 for r in report["revisions"])  # the dump's table got rows and was checked


def test_after_a_failure_on_a_dump_the_revisions_it_cannot_climb_to_are_a_limit(tmp_path):
    finished, report = walk_from_create_all(tmp_path, "pass")

    assert finished.returncode == 1 and "Traceback" not in finished.stderr
    failed, after = report["revisions"]
    assert {f["severity"] for f in failed["findings"]} >= {"failure"}
    assert [(f["check"], f["severity"]) for f in after["findings"]] == [("setup", "limit")]


def test_a_malformed_url_option_is_one_line_naming_the_option():
    finished = migrate("--url", "postgresql://me:s3cret@localhost:notaport/x", timeout=60)
    assert finished.returncode == 2 and "Traceback" not in finished.stderr
    assert (
        finished.stderr.startswith("error: --url has a port that is not a number") and "s3cret" not in finished.stderr
    )
