"""`python -m thirdai_platform.migrate` on our own history: options, a restored dump, bad input."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from thirdai_platform.migrate.commands import load_config, upgrade
from thirdai_platform.migrate.seed import seed_database
from thirdai_platform.migrate.server import find_bin_dir
from thirdai_platform.migrate.static_checks import revisions_in_range

REPO = Path(__file__).resolve().parents[1]
# Every revision of our history, oldest first, whatever they are called and however many there are.
HISTORY = revisions_in_range(load_config(REPO / "alembic.ini"))


def migrate(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "thirdai_platform.migrate", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_walk_from_a_dump_covers_only_the_later_revisions(database_url, tmp_path):
    upgrade(load_config(REPO / "alembic.ini", url=make_url(database_url)), "0006_model_attributes")
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
    assert [r["revision"] for r in report["revisions"]] == HISTORY[HISTORY.index("0006_model_attributes") + 1:]
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


def test_jobs_with_a_single_database_is_one_line():
    finished = migrate("--url", "postgresql://me@127.0.0.1:1/x", "--jobs", "2", timeout=60)
    assert finished.returncode == 2 and finished.stderr.startswith("error: --jobs needs databases of its own")


def test_a_dump_of_the_schema_an_application_creates_before_its_first_revision(tmp_path):
    """mlflow and dagster make their first tables with create_all; their revisions start from those."""
    shutil.copy(REPO / "tests" / "histories" / "env.py", tmp_path)
    project = tmp_path / "from_create_all"
    (project / "versions").mkdir(parents=True)
    (project / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/..\nversion_locations = %(here)s/versions\n")
    (project / "models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\n")
    (project / "versions" / "0001_nickname.py").write_text(
        'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "0001_nickname"\ndown_revision = None\n\n\n'
        'def upgrade():\n    op.add_column("accounts", sa.Column("nickname", sa.Text))\n\n\n'
        'def downgrade():\n    op.drop_column("accounts", "nickname")\n')
    dump = tmp_path / "create_all.sql"
    dump.write_text("CREATE TABLE accounts (id integer PRIMARY KEY, name text NOT NULL);\n")

    finished = migrate("--config", str(project / "alembic.ini"), "--from-dump", str(dump), "--no-lint", "--no-drift",
                       "--json", str(tmp_path / "out.json"))

    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads((tmp_path / "out.json").read_text())
    assert [r["revision"] for r in report["revisions"]] == ["0001_nickname"]
    assert report["revisions"][0]["rows_checked"] > 0  # the dump's table got rows and was checked
