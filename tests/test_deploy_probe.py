"""Blocking, measured: the probe's live traffic during each leg, and how long it waited on the migration's locks."""

from __future__ import annotations

import pytest
from deploy_histories import HISTORIES, history, walk_report
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from thirdai_platform.database.url import ENV_VAR
from thirdai_platform.migrate.findings import FAILURE, LEGS, LIMIT, NOTE, RevisionResult
from thirdai_platform.migrate.session import load_session
from thirdai_platform.migrate.walk.deploy.probe import READ, WRITE
from thirdai_platform.migrate.walk.runner import Runner
from thirdai_platform.migrate.walk.walker import WalkOptions, walk

SLEEP = 0.4  # how long the planted revisions hold their lock: far above the probe's noise, cheap for the suite


@pytest.fixture(autouse=True)
def restore_database_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "")


def walked(tmp_path, database_url, *revisions, **options) -> RevisionResult:
    """The last revision's result; the walk must find no failure."""
    report = walk_report(history(tmp_path, *revisions), database_url, **options)
    assert not [f for f in report.all_findings() if f.severity == FAILURE], report.all_findings()
    return report.revisions[-1]


def waits(result: RevisionResult, leg: str) -> dict[tuple[str, str], dict]:
    return {(wait["table"], wait["kind"]): wait for wait in result.blocked[leg]}


def slept(upgrade: str) -> str:
    return f'{upgrade}\n    op.execute("SELECT pg_sleep({SLEEP})")'


LOCKED = slept('op.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")')


def test_a_table_locked_access_exclusive_blocks_its_reads_and_writes_with_the_statement_that_locked_it(
    tmp_path, database_url
):
    result = walked(tmp_path, database_url, ("users locked a while", LOCKED, "pass"))

    blocked = waits(result, "upgrade")
    assert set(blocked) == {("users", "read"), ("users", "write")}
    for wait in blocked.values():
        assert wait["lock"] == "ACCESS EXCLUSIVE"
        assert wait["statement"] == "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"
        assert SLEEP / 2 < wait["longest"] <= wait["total"] <= result.leg_seconds["upgrade"] + 0.05
        assert wait["waits"] >= 1
    assert result.longest_blocked("read")["leg"] in ("upgrade", "upgrade again")
    assert waits(result, "downgrade") == {}  # "pass": nothing held


def test_a_plain_index_blocks_writes_and_not_reads(tmp_path, database_url):
    index = slept('op.create_index("ix_users_name", "users", ["name"])')
    result = walked(tmp_path, database_url, ("an index on users.name", index, 'op.drop_index("ix_users_name")'))

    blocked = waits(result, "upgrade")
    assert set(blocked) == {("users", "write")}
    assert blocked["users", "write"]["lock"] == "SHARE"
    assert blocked["users", "write"]["statement"] == "CREATE INDEX ix_users_name ON users (name)"
    assert blocked["users", "write"]["longest"] > SLEEP / 2


def test_set_not_null_blocks_reads_too(tmp_path, database_url):
    """Unlike a plain index, SET NOT NULL takes ACCESS EXCLUSIVE (even on a column that is already NOT NULL)."""
    not_null = slept('op.alter_column("teams", "name", nullable=False)')
    result = walked(tmp_path, database_url, ("teams.name NOT NULL", not_null, "pass"))

    assert {key: (wait["lock"], wait["statement"]) for key, wait in waits(result, "upgrade").items()} == {
        ("teams", kind): ("ACCESS EXCLUSIVE", "ALTER TABLE teams ALTER COLUMN name SET NOT NULL")
        for kind in (READ, WRITE)
    }


EXPAND_ONLY = (
    'op.add_column("users", sa.Column("motto", sa.Text))\n'
    "    with op.get_context().autocommit_block():\n"
    '        op.create_index("ix_users_name", "users", ["name"], postgresql_concurrently=True)\n'
    f'        op.execute("SELECT pg_sleep({SLEEP})")'
)


def test_an_expand_only_revision_blocks_nothing_for_long(tmp_path, database_url):
    result = walked(
        tmp_path,
        database_url,
        (
            "a nullable column and an index built concurrently",
            EXPAND_ONLY,
            'op.drop_index("ix_users_name")\n    op.drop_column("users", "motto")',
        ),
    )

    assert result.leg_seconds["upgrade"] > SLEEP  # the probe ran through the sleep
    assert "upgrade" in result.blocked
    assert all(wait["longest"] < 0.1 for wait in result.blocked["upgrade"]), result.blocked["upgrade"]


def test_without_the_probe_nothing_is_measured(tmp_path, database_url):
    result = walked(tmp_path, database_url, ("users locked a while", LOCKED, "pass"), probe=False)

    assert result.blocked == {}


# A backfill, then a lock: the probe's update waits on a backfilled row holding its own table lock, which the
# migration's LOCK then waits for. Past PostgreSQL's deadlock_timeout (1 s) the migration would be the one its
# deadlock detection cancels; the probe gives way instead.
BACKFILL_THEN_LOCK = (
    'op.execute("UPDATE users SET name = name")\n'
    '    op.execute("SELECT pg_sleep(1.2)")\n'
    '    op.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")'
)


def test_a_backfill_blocks_updates_of_its_rows_and_the_probe_never_deadlocks_the_migration(tmp_path, database_url):
    result = walked(tmp_path, database_url, ("users backfilled, then locked", BACKFILL_THEN_LOCK, "pass"))

    blocked = waits(result, "upgrade")
    assert blocked["users", "write"]["lock"] == "row lock"
    assert blocked["users", "write"]["statement"] == "UPDATE users SET name = name"
    assert blocked["users", "write"]["longest"] > 1.0
    assert blocked.get(("users", "read"), {"longest": 0})["longest"] < 0.1  # reads never wait for rows
    assert result.legs == {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"}


EVENTS = (
    'op.create_table("events", sa.Column("id", sa.Integer, primary_key=True),\n'
    '                    sa.Column("value", sa.Integer, nullable=False))\n'
    # ids far from the walk's generated ones
    '    op.execute("INSERT INTO events SELECT n, n FROM generate_series(1000001, 1200000) n")'
)


def test_a_rewrite_of_a_filled_table_blocks_its_reads_and_writes_for_as_long_as_it_runs(tmp_path, database_url):
    result = walked(
        tmp_path,
        database_url,
        ("events, filled", EVENTS, 'op.drop_table("events")'),
        (
            "events.value widened",
            'op.alter_column("events", "value", type_=sa.BigInteger)',
            'op.alter_column("events", "value", type_=sa.Integer)',
        ),
    )

    for leg, statement in (
        ("upgrade", "ALTER TABLE events ALTER COLUMN value TYPE BIGINT"),
        ("downgrade", "ALTER TABLE events ALTER COLUMN value TYPE INTEGER"),
    ):
        blocked = waits(result, leg)
        assert set(blocked) == {("events", "read"), ("events", "write")}, (leg, result.blocked, result.leg_seconds)
        for wait in blocked.values():
            assert (wait["lock"], wait["statement"]) == ("ACCESS EXCLUSIVE", statement)
            assert 0.01 < wait["longest"] <= result.leg_seconds[leg] + 0.05


def test_waits_of_two_transactions_of_one_leg_add_up(tmp_path, database_url):
    twice = (
        f'{LOCKED}\n    with op.get_context().autocommit_block():\n        op.execute("SELECT pg_sleep(0.1)")\n'
        f"    {LOCKED}"
    )
    result = walked(tmp_path, database_url, ("users locked twice", twice, "pass"))

    for wait in waits(result, "upgrade").values():
        assert wait["waits"] == 2
        assert SLEEP / 2 < wait["longest"] < wait["total"] and wait["total"] > 2 * SLEEP - 0.1


def test_the_probe_goes_on_after_the_walk_starts_again_from_an_empty_database(tmp_path, database_url):
    report = walk_report(
        history(
            tmp_path,
            ("a downgrade that fails", "pass", 'op.execute("SELECT 1/0")'),
            ("users locked a while", LOCKED, "pass"),
        ),
        database_url,
    )

    assert report.revisions[1].legs["downgrade"] == "failed"  # the walk dropped the schema and made it again
    assert {wait["table"] for wait in report.revisions[2].blocked["upgrade"]} == {"users"}


OWN_ENGINE_ENV = """from alembic import context
import sqlalchemy as sa

engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url"), poolclass=sa.pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=sa.MetaData(), transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
"""


def test_an_env_py_with_an_engine_of_its_own_is_probed_the_same(tmp_path, database_url):
    ini = history(tmp_path, ("users locked a while", LOCKED, "pass"))
    (tmp_path / "env.py").write_text(OWN_ENGINE_ENV)  # it never uses the walk's connection
    ini.write_text(ini.read_text().replace(f"script_location = {HISTORIES}", f"script_location = {tmp_path}"))
    report = walk_report(ini, database_url)

    assert not [f for f in report.all_findings() if f.severity == FAILURE], report.all_findings()
    blocked = waits(report.revisions[-1], "upgrade")
    assert {key: (wait["lock"], wait["statement"]) for key, wait in blocked.items()} == {
        ("users", kind): ("ACCESS EXCLUSIVE", "LOCK TABLE users IN ACCESS EXCLUSIVE MODE") for kind in (READ, WRITE)
    }


KEYLESS = (
    'op.create_table("visits", sa.Column("id", sa.Integer, sa.Identity(always=True)),\n'
    '                    sa.Column("at", sa.DateTime))'
)


def test_a_table_without_a_primary_key_is_probed_too(tmp_path, database_url):
    result = walked(
        tmp_path,
        database_url,
        ("visits, with no key", KEYLESS, 'op.drop_table("visits")'),
        ("visits locked a while", slept('op.execute("LOCK TABLE visits IN ACCESS EXCLUSIVE MODE")'), "pass"),
    )

    assert set(waits(result, "upgrade")) == {("visits", READ), ("visits", WRITE)}


def test_a_probe_that_cannot_connect_is_a_limit_and_the_walk_goes_on(tmp_path, database_url):
    ini = history(tmp_path, ("users locked a while", LOCKED, "pass"))
    url = make_url(database_url)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            runner = Runner(load_session(ini, url=url).on(url.set(database="no_such_database"), connection))
            report = walk(runner, WalkOptions(rows=5, check_drift=False))
    finally:
        engine.dispose()

    # tests/histories/env.py renders offline through sqlalchemy.url too, which names the missing database: the
    # scope's limit says so; what matters here is the probe's one limit and a walk that goes on.
    found = [(f.check, f.severity) for f in report.all_findings() if f.severity != NOTE and f.check != "scope"]
    assert found == [("deploy probe", LIMIT)]
    assert "no_such_database" in report.findings[0].message, report.findings[0].message
    assert all(r.blocked == {} for r in report.revisions)
    assert all(r.legs == {leg: "ok" for leg in LEGS} for r in report.revisions)


def test_a_volatile_default_rewrites_the_table_and_blocks_it_for_as_long(tmp_path, database_url):
    """ADD COLUMN with a constant default is instant since PostgreSQL 11; a volatile one writes every row again."""
    stamped = 'op.add_column("events", sa.Column("seen_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()")))'
    result = walked(
        tmp_path,
        database_url,
        ("events, filled", EVENTS, 'op.drop_table("events")'),
        ("events.seen_at stamped", stamped, 'op.drop_column("events", "seen_at")'),
    )

    blocked = waits(result, "upgrade")
    assert set(blocked) == {("events", "read"), ("events", "write")}, result.blocked
    for wait in blocked.values():
        assert wait["lock"] == "ACCESS EXCLUSIVE"
        assert wait["statement"].startswith("ALTER TABLE events ADD COLUMN seen_at")
        assert 0.01 < wait["longest"] <= result.leg_seconds["upgrade"] + 0.05
