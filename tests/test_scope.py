"""A revision's scope: the tables its SQL names, those using a type it names, and those its changes can reach
through foreign keys, read from a real schema."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, pool, text

from thirdai_platform.migrate.schema import schema_snapshot
from thirdai_platform.migrate.scope import reach_of, tables_in_scope

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
    reach = reach_of("ALTER TABLE blocks_parent ADD CONSTRAINT fk FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE;")

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
        connection.execute(text("CREATE TABLE jobs (id int PRIMARY KEY, owner text CONSTRAINT owner_known CHECK (owner <> ''));"
                                "CREATE INDEX ix_jobs_owner ON jobs (owner); CREATE TABLE other (id int PRIMARY KEY)"))
        connection.commit()
        schema = schema_snapshot(connection)
    engine.dispose()

    for sql in ("ALTER INDEX ix_jobs_owner RENAME TO ix_jobs_by_owner;", "DROP INDEX CONCURRENTLY ix_jobs_owner;",
                'ALTER INDEX IF EXISTS public."ix_jobs_owner" RENAME TO x;'):
        assert tables_in_scope(reach_of(sql), [schema]) == {"jobs"}, sql
