"""A revision's scope: the tables its SQL names, those using a type it names, and those its changes can reach
through foreign keys, read from a real schema."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, pool, text

from thirdai_platform.migrate import parsed_sql
from thirdai_platform.migrate.parsed_sql import Unreadable
from thirdai_platform.migrate.walk.schema import schema_snapshot
from thirdai_platform.migrate.walk.scope import reach_of, tables_in_scope

SCHEMA = """
CREATE TYPE mood AS ENUM ('calm', 'busy');
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE deleted_with_parent (id int PRIMARY KEY, parent_id int REFERENCES parent(id) ON DELETE CASCADE);
CREATE TABLE nulled_with_parent (id int PRIMARY KEY, parent_id int REFERENCES parent(id) ON DELETE SET NULL);
CREATE TABLE grandchild (id int PRIMARY KEY, child_id int REFERENCES deleted_with_parent(id) ON UPDATE CASCADE);
CREATE TABLE blocks_parent (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
CREATE TABLE restricts_parent (id int PRIMARY KEY, parent_id int REFERENCES parent(id) ON DELETE RESTRICT);
CREATE TABLE moody (id int PRIMARY KEY, feeling mood);
CREATE TABLE unrelated (id int PRIMARY KEY);
"""
REACHED_BY_ACTIONS = {"parent", "deleted_with_parent", "nulled_with_parent", "grandchild"}


@pytest.fixture
def schema(database_url):
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text(SCHEMA))
        connection.commit()
        yield schema_snapshot(connection)
    engine.dispose()


def test_a_delete_reaches_the_tables_whose_foreign_keys_act_on_it_transitively(schema):
    reach = reach_of("DELETE FROM parent WHERE id > 10;")

    assert tables_in_scope(reach, [schema]) == REACHED_BY_ACTIONS


def test_a_foreign_key_action_written_in_the_sql_is_not_a_cascading_drop(schema):
    reach = reach_of(
        "ALTER TABLE blocks_parent ADD CONSTRAINT fk FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE;"
    )

    assert not reach.cascades
    assert tables_in_scope(reach, [schema]) == REACHED_BY_ACTIONS | {"blocks_parent"}


def test_drop_cascade_reaches_every_referencing_table(schema):
    reach = reach_of("DROP TABLE parent CASCADE;")

    assert reach.cascades
    assert tables_in_scope(reach, [schema]) == REACHED_BY_ACTIONS | {"blocks_parent", "restricts_parent"}


def test_a_changed_type_reaches_the_tables_using_it(schema):
    reach = reach_of("ALTER TYPE mood RENAME VALUE 'busy' TO 'hectic';")

    assert tables_in_scope(reach, [schema]) == {"moody"}


def test_an_index_renamed_or_dropped_by_raw_sql_reaches_its_table(database_url):
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(
            text(
                "CREATE TABLE jobs (id int PRIMARY KEY, owner text CONSTRAINT owner_known CHECK (owner <> ''));"
                "CREATE INDEX ix_jobs_owner ON jobs (owner); CREATE TABLE other (id int PRIMARY KEY)"
            )
        )
        connection.commit()
        schema = schema_snapshot(connection)
    engine.dispose()

    for sql in (
        "ALTER INDEX ix_jobs_owner RENAME TO ix_jobs_by_owner;",
        "DROP INDEX CONCURRENTLY ix_jobs_owner;",
        'ALTER INDEX IF EXISTS public."ix_jobs_owner" RENAME TO x;',
    ):
        assert tables_in_scope(reach_of(sql), [schema]) == {"jobs"}, sql


def names(sql: str) -> set[str]:
    return reach_of(sql).names


def test_quoted_and_schema_qualified_names_are_the_tables_postgresql_means():
    assert names('UPDATE "Weird Table" SET a = 1; DELETE FROM public.x; INSERT INTO "public"."Mixed" VALUES (1);') == {
        "Weird Table",
        "x",
        "Mixed",
    }
    assert names("UPDATE Shouting SET a = 1;") == {"shouting"}  # unquoted names fold to lower case


def test_a_renamed_table_is_reached_under_both_names():
    assert names("ALTER TABLE public.jobs RENAME TO tasks;") == {"jobs", "tasks"}


def test_the_tables_inside_ctes_are_reached():
    sql = (
        "WITH moved AS (DELETE FROM old_jobs RETURNING *) INSERT INTO jobs SELECT * FROM moved;"
        "INSERT INTO audit WITH recent AS (SELECT id FROM events) SELECT id FROM recent;"
    )
    assert {"old_jobs", "jobs", "audit", "events"} <= names(sql)


def test_the_tables_a_do_block_acts_on_are_reached():
    sql = """DO $$ DECLARE n int; BEGIN
        n := (SELECT count(*) FROM counted);
        IF NOT EXISTS (SELECT 1 FROM checked) THEN EXECUTE 'TRUNCATE executed CASCADE'; END IF;
        UPDATE updated SET done = true;
    END $$;"""
    reach = reach_of(sql)
    assert {"counted", "checked", "executed", "updated"} <= reach.names
    assert reach.cascades  # the TRUNCATE ... CASCADE the block executes


def test_a_do_block_running_sql_built_at_run_time_cannot_be_scoped_and_says_why():
    with pytest.raises(Unreadable, match=r"a DO block runs SQL it builds at run time \(EXECUTE format"):
        reach_of("DO $$ BEGIN EXECUTE format('DELETE FROM %I', 'jobs'); END $$;")


def test_a_dollar_quoted_function_body_is_read_not_cut_at_its_semicolons():
    sql = """CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN INSERT INTO history VALUES (NEW.id); RETURN NEW; END $body$;
    CREATE TRIGGER stamped AFTER INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION stamp();
    CREATE FUNCTION total() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM counted';"""
    assert {"history", "jobs", "counted"} <= names(sql)


def test_copy_and_truncate_cascade_are_read():
    reach = reach_of("COPY loaded (id) FROM stdin; TRUNCATE emptied CASCADE;")
    assert {"loaded", "emptied"} <= reach.names and reach.cascades
    assert not reach_of("TRUNCATE emptied;").cascades


def test_sql_the_parser_rejects_cannot_be_scoped_and_names_the_statement():
    with pytest.raises(Unreadable, match=r"PostgreSQL's parser rejects `UPDATE jobs SET WHERE`: syntax error"):
        reach_of("SELECT 1; UPDATE jobs SET WHERE; SELECT 2;")


def test_a_quoted_table_reaches_its_children_through_a_quoted_foreign_key(database_url):
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(
            text(
                'CREATE TABLE "Weird Table" (id int PRIMARY KEY);'
                'CREATE TABLE kid (id int, p int REFERENCES "Weird Table"(id) ON DELETE CASCADE);'
                "CREATE TABLE other (id int)"
            )
        )
        connection.commit()
        schema = schema_snapshot(connection)
    engine.dispose()

    assert tables_in_scope(reach_of('DELETE FROM public."Weird Table";'), [schema]) == {"Weird Table", "kid"}


def test_what_a_comment_an_owner_or_a_schema_change_names_is_reached():
    assert {"jobs", "owner_id", "mood", "notes"} <= names(
        "COMMENT ON COLUMN jobs.owner_id IS 'who'; "
        "ALTER TYPE mood OWNER TO someone; "
        "ALTER TABLE notes SET SCHEMA archive;"
    )


@pytest.mark.parametrize(
    "statement, alone",
    [
        ("CREATE TYPE mood AS ENUM ('calm')", True),
        ("ALTER TYPE mood ADD VALUE 'cross'", True),
        ("ALTER TYPE mood RENAME TO old_mood", True),
        ("DROP TYPE IF EXISTS mood, old_mood", True),
        ("CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%')", True),
        ("DROP TYPE mood CASCADE", False),  # drops the columns using it
        ("ALTER DOMAIN email ADD CONSTRAINT short CHECK (length(VALUE) < 99)", False),  # checks every column
        ("ALTER TYPE address ADD ATTRIBUTE zip text", False),  # may change typed tables
        ("ALTER TABLE users ADD COLUMN mood mood", False),
        ("CREATE TYPE mood AS ENUM ('calm'); ALTER TABLE users ADD COLUMN mood mood", False),
        ("CREATE TYPE (", False),
    ],
)
def test_statements_on_types_alone_lock_no_table(statement, alone):
    assert parsed_sql.locks_no_table(statement) is alone
