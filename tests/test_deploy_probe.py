"""Blocking, measured: the probe's live traffic during each leg, and how long it waited on the migration's locks."""
from __future__ import annotations

import pytest
from deploy_histories import history, walk_report

from thirdai_platform.database.url import ENV_VAR
from thirdai_platform.migrate.findings import FAILURE, RevisionResult

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
        tmp_path, database_url):
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
    result = walked(tmp_path, database_url, ("an index on users.name", slept('op.create_index("ix_users_name", "users", ["name"])'),
                                             'op.drop_index("ix_users_name")'))

    blocked = waits(result, "upgrade")
    assert set(blocked) == {("users", "write")}
    assert blocked["users", "write"]["lock"] == "SHARE"
    assert blocked["users", "write"]["statement"] == "CREATE INDEX ix_users_name ON users (name)"
    assert blocked["users", "write"]["longest"] > SLEEP / 2


EXPAND_ONLY = ('op.add_column("users", sa.Column("motto", sa.Text))\n'
               '    with op.get_context().autocommit_block():\n'
               '        op.create_index("ix_users_name", "users", ["name"], postgresql_concurrently=True)\n'
               f'        op.execute("SELECT pg_sleep({SLEEP})")')


def test_an_expand_only_revision_blocks_nothing_for_long(tmp_path, database_url):
    result = walked(tmp_path, database_url, ("a nullable column and an index built concurrently", EXPAND_ONLY,
                                             'op.drop_index("ix_users_name")\n    op.drop_column("users", "motto")'))

    assert result.leg_seconds["upgrade"] > SLEEP  # the probe ran through the sleep
    assert "upgrade" in result.blocked
    assert all(wait["longest"] < 0.1 for wait in result.blocked["upgrade"]), result.blocked["upgrade"]


def test_without_the_probe_nothing_is_measured(tmp_path, database_url):
    result = walked(tmp_path, database_url, ("users locked a while", LOCKED, "pass"), probe=False)

    assert result.blocked == {}
