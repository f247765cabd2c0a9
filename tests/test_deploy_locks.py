"""Locks observed: each leg's statements and the table locks their transactions held, on small histories."""

from __future__ import annotations

from deploy_histories import history, walk_report

from thirdai_platform.migrate.findings import RevisionResult


def the_revision(tmp_path, database_url, *revisions) -> RevisionResult:
    report = walk_report(history(tmp_path, *revisions), database_url)
    return next(r for r in report.revisions if r.revision == "0002_change")


def held(result: RevisionResult, leg: str) -> dict[str, tuple[str, str]]:
    return {lock["table"]: (lock["mode"], lock["statement"]) for lock in result.locks[leg]}


def test_an_added_column_holds_access_exclusive_on_its_table_until_the_revision_commits(tmp_path, database_url):
    result = the_revision(
        tmp_path,
        database_url,
        (
            "users get a motto",
            'op.add_column("users", sa.Column("motto", sa.Text))',
            'op.drop_column("users", "motto")',
        ),
    )

    assert held(result, "upgrade") == {"users": ("ACCESS EXCLUSIVE", "ALTER TABLE users ADD COLUMN motto TEXT")}
    assert held(result, "downgrade") == {"users": ("ACCESS EXCLUSIVE", "ALTER TABLE users DROP COLUMN motto")}
    [lock] = result.locks["upgrade"]
    assert 0 < lock["statement_seconds"] <= lock["seconds"] <= result.leg_seconds["upgrade"]
    altering = [s for s in result.statements["upgrade"] if s["statement"].startswith("ALTER TABLE users")]
    assert [s["acquired"] for s in altering] == [["users ACCESS EXCLUSIVE"]]


PLAIN_INDEX = 'op.create_index("ix_users_name", "users", ["name"])'
CONCURRENT_INDEX = (
    "with op.get_context().autocommit_block():\n"
    '        op.create_index("ix_users_name", "users", ["name"], postgresql_concurrently=True)'
)


def test_a_plain_index_holds_share_on_its_table(tmp_path, database_url):
    result = the_revision(
        tmp_path, database_url, ("an index on users.name", PLAIN_INDEX, 'op.drop_index("ix_users_name")')
    )

    assert held(result, "upgrade") == {"users": ("SHARE", "CREATE INDEX ix_users_name ON users (name)")}


def test_a_concurrent_index_holds_no_lock_after_its_statement(tmp_path, database_url):
    result = the_revision(
        tmp_path,
        database_url,
        ("an index on users.name, built concurrently", CONCURRENT_INDEX, 'op.drop_index("ix_users_name")'),
    )

    assert held(result, "upgrade") == {}
    assert any(s["statement"].startswith("CREATE INDEX CONCURRENTLY") for s in result.statements["upgrade"])


def test_a_dropped_table_is_named_and_reads_of_a_data_migration_are_not_counted(tmp_path, database_url):
    result = the_revision(
        tmp_path,
        database_url,
        (
            "teams' names are read, then a table goes",
            'op.execute("SELECT name FROM teams")\n'
            '    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))',
            'op.drop_table("notes")',
        ),
    )

    assert held(result, "upgrade") == {
        "notes": ("ACCESS EXCLUSIVE", "CREATE TABLE notes ( id SERIAL NOT NULL, PRIMARY KEY (id) )")
    }
    assert held(result, "downgrade") == {"notes": ("ACCESS EXCLUSIVE", "DROP TABLE notes")}


def test_ddl_on_a_table_of_its_own_transaction_still_shows_the_locks_on_tables_from_before(tmp_path, database_url):
    # After CREATE TABLE notes, the index on notes and its foreign key to notes are DDL on a table its own
    # transaction created (their locks are not read again), but the foreign key to users and the column added to
    # users lock tables that existed before: those are read and named.
    result = the_revision(
        tmp_path,
        database_url,
        (
            "notes, indexed, pointing at users; users get a motto",
            'op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("user_id", sa.Integer))\n'
            '    op.create_index("ix_notes_user_id", "notes", ["user_id"])\n'
            '    op.create_foreign_key("fk_notes_user", "notes", "users", ["user_id"], ["id"])\n'
            '    op.add_column("users", sa.Column("motto", sa.Text))',
            'op.drop_column("users", "motto")\n    op.drop_table("notes")',
        ),
    )

    upgrade = held(result, "upgrade")
    assert upgrade["notes"][0] == "ACCESS EXCLUSIVE" and upgrade["notes"][1].startswith("CREATE TABLE notes")
    assert upgrade["users"] == ("ACCESS EXCLUSIVE", "ALTER TABLE users ADD COLUMN motto TEXT")
    acquired = {s["statement"].split(" (")[0]: s["acquired"] for s in result.statements["upgrade"]}
    assert (
        "users SHARE ROW EXCLUSIVE"
        in acquired["ALTER TABLE notes ADD CONSTRAINT fk_notes_user FOREIGN KEY(user_id) REFERENCES users"]
    )
    assert acquired["CREATE INDEX ix_notes_user_id ON notes"] == []


def test_statements_on_types_alone_take_no_table_lock_but_a_cascading_drop_does(tmp_path, database_url):
    # The locks are not read after CREATE TYPE (it locks no table); DROP TYPE ... CASCADE drops users.mood with
    # the type, and its lock on users is read and named.
    result = the_revision(
        tmp_path,
        database_url,
        (
            "users get a mood",
            "op.execute(\"CREATE TYPE user_mood AS ENUM ('calm', 'cross')\")\n"
            '    op.execute("ALTER TABLE users ADD COLUMN mood user_mood")',
            'op.execute("DROP TYPE user_mood CASCADE")',
        ),
    )

    assert held(result, "upgrade") == {"users": ("ACCESS EXCLUSIVE", "ALTER TABLE users ADD COLUMN mood user_mood")}
    assert held(result, "downgrade") == {"users": ("ACCESS EXCLUSIVE", "DROP TYPE user_mood CASCADE")}
    acquired = {s["statement"]: s["acquired"] for s in result.statements["upgrade"]}
    assert acquired["CREATE TYPE user_mood AS ENUM ('calm', 'cross')"] == []
