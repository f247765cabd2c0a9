"""schema_snapshot and compare_schemas on a real PostgreSQL: each kind of leftover is found, with nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from thirdai_platform.migrate.walk.schema import (
    CHANGED,
    MISSING,
    UNEXPECTED,
    SchemaDifference,
    SchemaSnapshot,
    compare_schemas,
    schema_snapshot,
)

BASE_SCHEMA = """
CREATE TYPE train_status AS ENUM ('queued', 'running', 'done');
CREATE TYPE color AS ENUM ('red', 'green', 'blue');
CREATE TABLE users (
    id serial PRIMARY KEY,
    name varchar(50) NOT NULL,
    email varchar(50) DEFAULT 'nobody@example.com',
    CONSTRAINT uq_users_email UNIQUE (email)
);
CREATE TABLE jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status train_status NOT NULL DEFAULT 'queued',
    attempts integer NOT NULL DEFAULT 0,
    CONSTRAINT ck_jobs_attempts CHECK (attempts >= 0)
);
CREATE INDEX ix_jobs_user_id ON jobs (user_id);
CREATE TABLE memberships (team text, member text, PRIMARY KEY (member, team));
CREATE TABLE notes (body text);
CREATE VIEW active_jobs AS SELECT id, user_id FROM jobs WHERE status = 'running';
CREATE FUNCTION count_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.attempts := NEW.attempts + 1; RETURN NEW; END $$;
CREATE TRIGGER tr_jobs_attempt BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION count_attempt();
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
"""

# change applied to BASE_SCHEMA → the (kind, name, change) triples compare_schemas must report, and nothing else
CASES = {
    "left-behind index": ("CREATE INDEX ix_users_name ON users (name)", [("index", "users.ix_users_name", UNEXPECTED)]),
    "left-behind enum type": ("CREATE TYPE priority AS ENUM ('low', 'high')", [("enum", "priority", UNEXPECTED)]),
    "left-behind sequence": ("CREATE SEQUENCE invoice_number_seq", [("sequence", "invoice_number_seq", UNEXPECTED)]),
    "left-behind table, reported without its parts": (
        "CREATE TABLE audit (id integer PRIMARY KEY, note text); CREATE INDEX ix_audit_note ON audit (note)",
        [("table", "audit", UNEXPECTED)],
    ),
    "left-behind column": ("ALTER TABLE users ADD COLUMN age integer", [("column", "users.age", UNEXPECTED)]),
    "missing table": ("DROP TABLE jobs CASCADE", [("table", "jobs", MISSING), ("view", "active_jobs", MISSING)]),
    "missing column": ("ALTER TABLE notes DROP COLUMN body", [("column", "notes.body", MISSING)]),
    "enum label added": ("ALTER TYPE color ADD VALUE 'black'", [("enum", "color", CHANGED)]),
    "enum label missing": ("DROP TYPE color; CREATE TYPE color AS ENUM ('red', 'green')", [("enum", "color", CHANGED)]),
    "enum labels reordered": (
        "DROP TYPE color; CREATE TYPE color AS ENUM ('green', 'red', 'blue')",
        [("enum", "color", CHANGED)],
    ),
    "column type": ("ALTER TABLE users ALTER COLUMN name TYPE varchar(20)", [("column", "users.name", CHANGED)]),
    "nullability": ("ALTER TABLE users ALTER COLUMN name DROP NOT NULL", [("column", "users.name", CHANGED)]),
    "default": ("ALTER TABLE users ALTER COLUMN email SET DEFAULT 'x'", [("column", "users.email", CHANGED)]),
    "identity options": ("ALTER TABLE jobs ALTER COLUMN id SET INCREMENT BY 5", [("column", "jobs.id", CHANGED)]),
    "dropped constraint": (
        "ALTER TABLE users DROP CONSTRAINT uq_users_email",
        [("constraint", "users.uq_users_email", MISSING)],
    ),
    "renamed constraint": (
        "ALTER TABLE users RENAME CONSTRAINT uq_users_email TO users_email_key",
        [("constraint", "users.uq_users_email", MISSING), ("constraint", "users.users_email_key", UNEXPECTED)],
    ),
    "check constraint changed": (
        "ALTER TABLE jobs DROP CONSTRAINT ck_jobs_attempts, ADD CONSTRAINT ck_jobs_attempts CHECK (attempts >= 1)",
        [("constraint", "jobs.ck_jobs_attempts", CHANGED)],
    ),
    "foreign key lost its ON DELETE": (
        "ALTER TABLE jobs DROP CONSTRAINT jobs_user_id_fkey,"
        " ADD CONSTRAINT jobs_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)",
        [("constraint", "jobs.jobs_user_id_fkey", CHANGED)],
    ),
    "index changed": (
        "DROP INDEX ix_jobs_user_id; CREATE UNIQUE INDEX ix_jobs_user_id ON jobs (user_id)",
        [("index", "jobs.ix_jobs_user_id", CHANGED)],
    ),
    "sequence changed": ("ALTER SEQUENCE users_id_seq INCREMENT BY 10", [("sequence", "users_id_seq", CHANGED)]),
    "view changed": (
        "CREATE OR REPLACE VIEW active_jobs AS SELECT id, user_id FROM jobs WHERE status = 'done'",
        [("view", "active_jobs", CHANGED)],
    ),
    "trigger missing": ("DROP TRIGGER tr_jobs_attempt ON jobs", [("trigger", "jobs.tr_jobs_attempt", MISSING)]),
    "function changed": (
        "CREATE OR REPLACE FUNCTION count_attempt() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        [("function", "count_attempt()", CHANGED)],
    ),
    "column re-added at the end": (
        "ALTER TABLE users DROP COLUMN name; ALTER TABLE users ADD COLUMN name varchar(50) NOT NULL",
        [("column_order", "users", CHANGED)],
    ),
    "alembic_version and other schemas are ignored": (
        "ALTER TABLE alembic_version ADD COLUMN note text; CREATE SCHEMA other; CREATE TABLE other.leftover (id int);"
        " CREATE INDEX ix_other ON other.leftover (id); CREATE TYPE other.mood AS ENUM ('ok')",
        [],
    ),
}


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(BASE_SCHEMA))
    yield engine
    engine.dispose()


def snapshot(engine: Engine) -> SchemaSnapshot:
    with engine.connect() as connection:
        return schema_snapshot(connection)


def differences_after(engine: Engine, ddl: str) -> list[SchemaDifference]:
    before = snapshot(engine)
    with engine.begin() as connection:
        connection.execute(text(ddl))
    return compare_schemas(before, snapshot(engine))


def triples(differences: list[SchemaDifference]) -> list[tuple[str, str, str]]:
    return [(d.kind, d.name, d.change) for d in differences]


@pytest.mark.parametrize("ddl, expected", CASES.values(), ids=CASES.keys())
def test_each_change_is_found_alone(engine, ddl, expected):
    assert triples(differences_after(engine, ddl)) == expected


def test_the_same_schema_in_two_databases_compares_equal(engine, database_url):
    twin_url = make_url(database_url).set(database=make_url(database_url).database + "_twin")
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{twin_url.database}" TEMPLATE template0'))
    twin = create_engine(twin_url)
    try:
        with twin.begin() as connection:
            connection.execute(text(BASE_SCHEMA))
        assert compare_schemas(snapshot(engine), snapshot(twin)) == []
        assert snapshot(engine) == snapshot(twin)
    finally:
        twin.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{twin_url.database}" WITH (FORCE)'))
        admin.dispose()


def test_rows_and_temporary_tables_do_not_count(engine):
    before = snapshot(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (name) VALUES ('ada'); INSERT INTO alembic_version VALUES ('abc')"))
    with engine.connect() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE walk_copy (id int)"))
        assert compare_schemas(before, schema_snapshot(connection)) == []


def test_differences_read_as_one_line(engine):
    changed_type = differences_after(engine, "ALTER TABLE users ALTER COLUMN name TYPE varchar(20)")
    assert [str(d) for d in changed_type] == [
        "column users.name changed: character varying(50) NOT NULL → character varying(20) NOT NULL"
    ]
    leftover = differences_after(engine, "CREATE INDEX ix_users_name ON users (name)")
    assert (
        str(leftover[0])
        == "index users.ix_users_name left behind: CREATE INDEX ix_users_name ON public.users USING btree (name)"
    )
    labels = differences_after(engine, "ALTER TYPE color ADD VALUE 'black' BEFORE 'red'")
    assert str(labels[0]) == 'enum color labels changed: ["red", "green", "blue"] → ["black", "red", "green", "blue"]'
    missing = differences_after(engine, "DROP TABLE notes")
    assert str(missing[0]) == "table notes missing"
    function = differences_after(
        engine,
        "CREATE OR REPLACE FUNCTION count_attempt() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    )
    assert "\n" not in str(function[0]) and "RETURN NEW" in str(function[0]) and "RETURN NULL" in str(function[0])


def test_column_order_difference_lists_both_orders(engine):
    [difference] = differences_after(
        engine, "ALTER TABLE users DROP COLUMN name; ALTER TABLE users ADD COLUMN name varchar(50) NOT NULL"
    )
    assert (difference.before, difference.after) == ("id, name, email", "id, email, name")
    assert str(difference) == "column order of users changed: id, name, email → id, email, name"


def test_same_columns_in_the_same_order_after_renumbering_is_no_difference(engine):
    ddl = (
        "ALTER TABLE notes ADD COLUMN title text; ALTER TABLE notes DROP COLUMN body;"
        " ALTER TABLE notes ADD COLUMN body text; ALTER TABLE notes DROP COLUMN title"
    )
    assert differences_after(engine, ddl) == []


def test_table_columns_and_primary_keys(engine):
    current = snapshot(engine)
    assert current.columns == {
        "jobs": ["id", "user_id", "status", "attempts"],
        "memberships": ["team", "member"],
        "notes": ["body"],
        "users": ["id", "name", "email"],
    }
    assert current.primary_key_columns == {
        "jobs": ["id"],
        "memberships": ["member", "team"],
        "notes": [],
        "users": ["id"],
    }


def test_extension_members_and_identity_sequences_are_left_out(engine):
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE EXTENSION citext; CREATE DOMAIN positive AS integer CHECK (VALUE > 0);"
                " CREATE SEQUENCE note_number_seq AS integer OWNED BY notes.body"
            )
        )
    current = snapshot(engine)
    assert list(current.objects["extension"]) == ["citext"]
    assert list(current.objects["function"]) == ["count_attempt()"]  # not citext's functions
    assert current.objects["domain"] == {"positive": "integer CONSTRAINT positive_check CHECK ((VALUE > 0))"}
    serial = "integer START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1 OWNED BY"
    # jobs.id's identity sequence is described by its column, not as a sequence
    assert current.objects["sequence"] == {
        "note_number_seq": f"{serial} notes.body",
        "users_id_seq": f"{serial} users.id",
    }
    assert current.objects["column"]["jobs.id"] == (
        "bigint NOT NULL GENERATED ALWAYS AS IDENTITY (bigint START 1 "
        "INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1)"
    )


def test_repeated_snapshots_on_one_connection_see_each_change(engine):
    # as the walk takes them: prepared statements, one generic plan
    with engine.connect() as connection:
        connection.execute(text("SET plan_cache_mode = force_generic_plan"))
        before = schema_snapshot(connection, tables=["users"])
        connection.execute(text("ALTER TABLE users ADD COLUMN age integer; CREATE INDEX ix_users_age ON users (age)"))
        after = schema_snapshot(connection, tables=["users"])
        everything = schema_snapshot(connection)
    assert triples(compare_schemas(before, after)) == [
        ("column", "users.age", UNEXPECTED),
        ("index", "users.ix_users_age", UNEXPECTED),
    ]
    assert after.columns == {"users": ["id", "name", "email", "age"]}
    assert set(everything.columns) == {"jobs", "memberships", "notes", "users"}
