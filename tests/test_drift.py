"""Enum label drift: invisible to autogenerate, found by db.check, written by db.revision with alembic-enums."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, make_url, pool, text

from thirdai_platform.database.models import Base
from thirdai_platform.errors import UserError
from thirdai_platform.migrate.commands import verbs
from thirdai_platform.migrate.drift import DECIDE, enum_drift
from thirdai_platform.migrate.findings import FAILURE
from thirdai_platform.migrate.session import load_session
from thirdai_platform.migrate.static_checks import static_findings
from thirdai_platform.migrate.walk.runner import Runner
from thirdai_platform.migrate.walk.walker import WalkOptions, walk

REPO = Path(__file__).resolve().parents[1]
STATUS_COLUMNS = ("train_status", "deploy_status")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "alembic", tmp_path / "alembic", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "alembic.ini", tmp_path / "alembic.ini")
    return tmp_path / "alembic.ini"


@pytest.fixture
def status_labels():
    """Change the models' job_status labels for one test, as an edited Python Enum would."""
    models = Base.metadata.tables["models"]
    original = models.c.train_status.type

    def change(*labels: str) -> None:
        changed = sa.Enum(*labels, name="job_status")
        for column in STATUS_COLUMNS:
            models.c[column].type = changed

    yield change
    for column in STATUS_COLUMNS:
        models.c[column].type = original


def at_head(project: Path, database_url: str):
    config = load_session(project, url=make_url(database_url))
    verbs.upgrade(config)
    return config


def test_no_drift_at_head(database_url, project):
    config = at_head(project, database_url)
    verbs.check(config)  # raises UserError when models and database differ
    with create_engine(database_url).connect() as connection:
        assert enum_drift(connection, Base.metadata) == []


def test_added_and_removed_labels_are_drift(database_url, project, status_labels):
    config = at_head(project, database_url)
    status_labels("not_started", "starting", "in_progress", "stopped", "complete", "errored", "queued")
    with create_engine(database_url).connect() as connection:
        [drift] = enum_drift(connection, Base.metadata)
    assert drift.name == "job_status" and drift.added == ["errored", "queued"] and drift.removed == ["failed"]
    assert {(table, column) for table, column, _ in drift.columns} == {("models", c) for c in STATUS_COLUMNS}
    with pytest.raises(
        UserError, match=r"enum job_status: the models add \['errored', 'queued'\] and remove \['failed'\]"
    ):
        verbs.check(config)


def test_revision_writes_an_enum_migration_that_maps_values_both_ways(database_url, project, status_labels):
    config = at_head(project, database_url)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        owner = connection.execute(
            text("INSERT INTO users (username, email) VALUES ('o', 'o@x') RETURNING id")
        ).scalar()
        connection.execute(
            text("INSERT INTO models (name, type, user_id, train_status) VALUES ('m', 'ndb', :u, 'failed')"),
            {"u": owner},
        )
    status_labels("not_started", "starting", "in_progress", "stopped", "complete", "errored")

    new = verbs.revision(config, "failed becomes errored")
    source = new.path.read_text()
    assert "EnumMigration(op, 'job_status'" in source and "update_value(column, 'failed', 'errored')" in source
    assert "update_value(column, 'errored', 'failed')" in source and DECIDE not in source
    assert any("enum" in line for line in new.risky)

    verbs.upgrade(config)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT train_status::text FROM models")).scalar() == "errored"
    verbs.check(config)  # raises UserError when models and database differ
    verbs.downgrade(config)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT train_status::text FROM models")).scalar() == "failed"
    engine.dispose()


def test_an_added_label_asks_the_author_where_its_rows_go_on_downgrade(database_url, project, status_labels):
    config = at_head(project, database_url)
    status_labels("not_started", "starting", "in_progress", "stopped", "complete", "failed", "queued")
    source = verbs.revision(config, "queued status").path.read_text()
    downgrade = source[source.index("def downgrade") :]
    assert f"update_value(column, 'queued', '{DECIDE}')" in downgrade
    assert (
        "no label disappears in this direction" in source[source.index("def upgrade") : source.index("def downgrade")]
    )


def test_an_added_label_revision_passes_the_lint_and_the_walk_once_its_label_is_chosen(
    database_url, project, status_labels, pg_server
):
    config = at_head(project, database_url)
    status_labels("not_started", "starting", "in_progress", "stopped", "complete", "failed", "queued")
    path = verbs.revision(config, "queued status").path
    source = path.read_text()
    assert "data_loss: dict = {'downgrade': ['models.train_status', 'models.deploy_status']}" in source
    path.write_text(source.replace(DECIDE, "not_started"))  # the author's choice: queued models had not started

    lint = [f for f in static_findings(config) if f.severity == FAILURE]
    assert lint == [], [str(f) for f in lint]
    fresh = pg_server.create_database()
    engine = create_engine(fresh, poolclass=pool.NullPool)
    with engine.connect() as connection:
        report = walk(Runner(load_session(project, url=fresh).on(fresh, connection)), WalkOptions(rows=5))
    engine.dispose()
    assert not report.failed, [str(f) for f in report.all_findings() if f.severity == FAILURE]
