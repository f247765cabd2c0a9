"""A revision that cannot be rendered offline is scoped by a trial of it, rolled back (walk/trial.py)."""

from __future__ import annotations

import pytest
from deploy_histories import history, walk_report
from sqlalchemy import create_engine, inspect, pool
from sqlalchemy.engine import make_url

from thirdai_platform.migrate.findings import FAILURE, LIMIT
from thirdai_platform.migrate.session import load_session
from thirdai_platform.migrate.walk.runner import Runner
from thirdai_platform.migrate.walk.trial import trial_reach

# Reads rows through the connection, so offline (a mock connection) it raises: it cannot be rendered.
UPPERCASE_NAMES = """bind = op.get_bind()
    for (user_id,) in bind.execute(sa.text("SELECT id FROM users")).fetchall():
        bind.execute(sa.text("UPDATE users SET name = upper(name) WHERE id = :id"), {"id": user_id})"""


def test_a_data_migration_read_through_the_connection_is_scoped_by_its_trial_downgrade_included(tmp_path, database_url):
    # The downgrade deletes a team, which nothing in the upgrade names: only the trial of the downgrade tells the
    # walk to check teams (users point at teams; a change of users reaches no team).
    report = walk_report(
        history(
            tmp_path,
            (
                "names in capitals; the downgrade loses a team",
                UPPERCASE_NAMES,
                'op.execute("DELETE FROM teams WHERE name = (SELECT min(name) FROM teams)")',
            ),
        ),
        database_url,
    )

    [result] = [r for r in report.revisions if r.revision == "0002_change"]
    assert [f for f in result.findings if f.check == "scope"] == []
    failures = [f.message for f in result.findings if f.severity == FAILURE]
    assert "1 of 5 rows of teams are not as they were before the upgrade (the row is gone)" in failures
    assert any(message.startswith("2 of 5 rows of users") for message in failures), failures


def test_an_autocommit_block_is_tried_inside_the_trial(tmp_path, database_url):
    # prefect's backfills: batches of UPDATE in an autocommit block, committed one by one when the step runs
    report = walk_report(
        history(
            tmp_path,
            (
                "names backfilled in batches",
                "with op.get_context().autocommit_block():\n"
                "        while op.get_bind().execute(\n"
                '            sa.text("UPDATE users SET name = username WHERE id IN "\n'
                '                    "(SELECT id FROM users WHERE name IS DISTINCT FROM username LIMIT 2)")\n'
                "        ).rowcount:\n"
                "            pass",
                "pass",
            ),
        ),
        database_url,
    )

    [result] = [r for r in report.revisions if r.revision == "0002_change"]
    assert [f for f in result.findings if f.check == "scope"] == []
    assert any(f.severity == FAILURE and "rows of users" in f.message for f in result.findings), result.findings


def test_a_trial_of_what_cannot_run_in_a_transaction_leaves_nothing_behind(tmp_path, database_url):
    report = walk_report(
        history(
            tmp_path,
            (
                "notes, then an index built concurrently",
                'op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))\n'
                '    op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar()\n'
                "    with op.get_context().autocommit_block():\n"
                '        op.create_index("ix_users_name", "users", ["name"], postgresql_concurrently=True)',
                'op.drop_index("ix_users_name")\n    op.drop_table("notes")',
            ),
        ),
        database_url,
    )

    [result] = [r for r in report.revisions if r.revision == "0002_change"]
    # had the trial's CREATE TABLE stayed, the real upgrade would fail: notes already exists
    assert result.legs == {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"}
    [limit] = [f for f in result.findings if f.check == "scope"]
    assert limit.severity == LIMIT and limit.message.startswith("checked on every table")
    assert [f for f in report.all_findings() if f.severity == FAILURE] == []


@pytest.mark.parametrize(
    "commit",
    ['op.execute("COMMIT")', "op.get_bind().commit()"],
    ids=["a COMMIT statement", "commit() of the connection"],
)
def test_a_trial_stops_before_a_commit_and_leaves_nothing_behind(tmp_path, database_url, commit):
    ini = history(
        tmp_path,
        (
            "notes, committed by hand",
            f'op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))\n    {commit}',
            'op.drop_table("notes")',
        ),
    )
    url = make_url(database_url)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            runner = Runner(load_session(ini, url=url).on(url, connection))
            runner.upgrade(runner.script.get_revision("0001_teams_users"))
            assert trial_reach(runner, runner.script.get_revision("0002_change")) is None
            assert not inspect(connection).has_table("notes")
            connection.rollback()
    finally:
        engine.dispose()


def test_a_trial_whose_downgrade_raises_leaves_nothing_of_its_upgrade(tmp_path, database_url):
    # zou's a0f668430352: a batch operation (its DDL run at the end of the `with`), then a downgrade autogenerate
    # left unable to compile. Had the trial's column stayed, the real upgrade would fail: it already exists.
    report = walk_report(
        history(
            tmp_path,
            (
                "users are created by a team",
                'with op.batch_alter_table("users") as batch_op:\n'
                '        batch_op.add_column(sa.Column("created_by", sa.Integer))\n'
                '        batch_op.create_foreign_key(None, "teams", ["created_by"], ["id"])',
                'with op.batch_alter_table("users") as batch_op:\n'
                '        batch_op.drop_constraint(None, type_="foreignkey")\n'
                '        batch_op.drop_column("created_by")',
            ),
        ),
        database_url,
    )

    [result] = [r for r in report.revisions if r.revision == "0002_change"]
    assert result.legs["upgrade"] == "ok"
    [failure] = [f for f in result.findings if f.severity == FAILURE]
    assert failure.message.startswith("downgrade failed: CompileError: Can't emit DROP CONSTRAINT")
