"""seed_database() on real PostgreSQL schemas: types, NULLs, foreign keys, constraints, determinism, problems."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from thirdai_platform.migrate.walk.seed import SeedResult, seed_database

EVERY_TYPE = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TABLE everything (
    id serial PRIMARY KEY,
    small smallint, regular integer NOT NULL, big bigint,
    amount numeric(6, 2), fraction numeric(3, 3), ratio real, precise double precision, cash money,
    body text, code varchar(4) NOT NULL UNIQUE, label varchar(12), initials char(3),
    flag boolean, born date, alarm time, alarm_tz timetz, happened timestamp, happened_tz timestamptz,
    lasted interval, ref uuid UNIQUE, doc json, docb jsonb, tags text[], numbers integer[], moods mood[],
    dates date[], raw bytea, feeling mood, address inet UNIQUE, network cidr, mac macaddr, bits bit(4),
    counted positive_int, search tsvector, created timestamptz NOT NULL DEFAULT now()
);
"""
MORE_TYPES = """
CREATE TABLE shapes_and_ranges (id serial PRIMARY KEY, query tsquery, spot point NOT NULL, area box, ring circle,
                                span int4range NOT NULL, days daterange, moment_range tstzrange, amounts numrange);
"""
# Columns whose type the seeder leaves NULL.
UNSUPPORTED: set[str] = set()

MODELS = """
CREATE TABLE models (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL,
                     parent_id bigint REFERENCES models (id));
"""
TEAMS_AND_USERS = """
CREATE TABLE teams (id serial PRIMARY KEY, name text NOT NULL, owner_id integer);
CREATE TABLE users (id serial PRIMARY KEY, team_id integer NOT NULL REFERENCES teams (id),
                    email varchar(40) NOT NULL UNIQUE);
ALTER TABLE teams ADD FOREIGN KEY (owner_id) REFERENCES users (id);
CREATE TABLE memberships (user_id integer REFERENCES users, team_id integer REFERENCES teams,
                          role text NOT NULL DEFAULT 'member', PRIMARY KEY (user_id, team_id));
CREATE TABLE profiles (user_id integer PRIMARY KEY REFERENCES users, bio text);
"""
ACCOUNTS = """
CREATE TABLE accounts (tenant integer, number integer, PRIMARY KEY (tenant, number));
CREATE TABLE payments (id serial PRIMARY KEY, tenant integer NOT NULL, number integer NOT NULL,
                       FOREIGN KEY (tenant, number) REFERENCES accounts);
"""
ORDERS = """
CREATE TABLE orders (
    id serial PRIMARY KEY,
    status varchar(10) NOT NULL CHECK (status IN ('new', 'paid', 'sent')),
    quantity integer NOT NULL CHECK (quantity > 50000),
    rating smallint CHECK (rating BETWEEN 1 AND 5), price numeric(5, 2) NOT NULL CHECK (price > 0 AND price < 1),
    starts date, ends date, CHECK (starts < ends),
    sku text UNIQUE, priority smallint UNIQUE
);
CREATE UNIQUE INDEX orders_status_sku ON orders (status, sku);
"""
UNFILLABLE = """
CREATE TABLE impossible (id serial PRIMARY KEY, note text, CHECK (false));
CREATE TYPE pair AS (a integer, b integer);
CREATE TABLE unsupported (id serial PRIMARY KEY, location pair NOT NULL);
CREATE TABLE egg (id serial PRIMARY KEY, chicken_id integer NOT NULL);
CREATE TABLE chicken (id serial PRIMARY KEY, egg_id integer NOT NULL REFERENCES egg);
ALTER TABLE egg ADD FOREIGN KEY (chicken_id) REFERENCES chicken;
CREATE TABLE fine (id serial PRIMARY KEY, note text);
"""
FILLABLE = EVERY_TYPE + MODELS + TEAMS_AND_USERS + ACCOUNTS + ORDERS


@pytest.fixture
def engine(database_url: str):
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def create(engine: sa.Engine, schema: str) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(schema)


def seed(engine: sa.Engine, rows: int = 20, salt: str = "r0001:before", **options) -> SeedResult:
    with engine.connect() as connection:
        return seed_database(connection, rows=rows, seed=7, salt=salt, **options)


def fetch(engine: sa.Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def column_names(engine: sa.Engine, table: str) -> list[str]:
    # information_schema rather than sa.inspect, which warns about types it does not know (point, box...)
    return [
        name
        for (name,) in fetch(
            engine,
            "SELECT column_name FROM information_schema.columns "
            f"WHERE table_name = '{table}' ORDER BY ordinal_position",
        )
    ]


def test_every_type_gets_values(engine):
    create(engine, EVERY_TYPE)
    result = seed(engine)
    assert result.problems == []
    assert result.inserted == {"everything": 20}
    for name in column_names(engine, "everything"):
        [(filled,)] = fetch(engine, f"SELECT count({name}) FROM everything")
        assert filled == 0 if name in UNSUPPORTED else filled > 0, name
    [(non_ascii,)] = fetch(engine, "SELECT count(*) FROM everything WHERE body ~ '[^[:ascii:]]'")
    assert non_ascii > 0


def test_geometric_range_and_search_types_get_values(engine):
    create(engine, MORE_TYPES)
    assert seed(engine).problems == []
    for name in column_names(engine, "shapes_and_ranges"):
        [(filled,)] = fetch(engine, f"SELECT count({name}) FROM shapes_and_ranges")
        assert filled > 0, name


def test_nullable_columns_hold_nulls_and_values(engine):
    create(engine, EVERY_TYPE)
    seed(engine, rows=10)
    nullable = [
        name
        for (name,) in fetch(
            engine,
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'everything' AND is_nullable = 'YES'",
        )
        if name not in UNSUPPORTED
    ]
    for name in nullable:
        [(nulls, values)] = fetch(engine, f"SELECT count(*) - count({name}), count({name}) FROM everything")
        assert nulls > 0 and values > 0, name


@pytest.mark.parametrize("rows", [4, 9])
def test_every_enum_label_appears(engine, rows):
    create(engine, EVERY_TYPE)
    seed(engine, rows=rows)
    labels = fetch(engine, "SELECT DISTINCT feeling::text FROM everything WHERE feeling IS NOT NULL ORDER BY 1")
    assert sorted(label for (label,) in labels) == sorted(["sad", "ok", "happy", "ecstatic"])


def test_lengths_and_precision_are_respected_across_calls(engine):
    create(engine, EVERY_TYPE)
    for salt in ("r0001:before", "r0001:at", "r0002:before"):
        assert seed(engine, rows=200, salt=salt).problems == []
    [(code, label, initials)] = fetch(
        engine, "SELECT max(char_length(code)), max(char_length(label)), max(char_length(initials)) FROM everything"
    )
    assert code <= 4 and label <= 12 and initials <= 3
    [(codes, rows)] = fetch(engine, "SELECT count(DISTINCT code), count(*) FROM everything")
    assert codes == rows == 600


def test_self_reference_points_to_earlier_rows(engine):
    create(engine, MODELS)
    seed(engine, salt="a")
    seed(engine, salt="b")
    pairs = fetch(engine, "SELECT id, parent_id FROM models")
    assert len(pairs) == 40
    assert any(parent is None for _, parent in pairs)
    children = [(child, parent) for child, parent in pairs if parent is not None]
    assert len(children) > 10 and all(parent < child for child, parent in children)


def test_foreign_key_cycle_is_broken_through_the_nullable_key(engine):
    create(engine, TEAMS_AND_USERS)
    result = seed(engine)
    assert result.problems == []
    assert result.inserted == {"teams": 20, "users": 20, "memberships": 20, "profiles": 20}
    [(owners, orphans)] = fetch(
        engine,
        "SELECT count(owner_id), count(*) FILTER (WHERE owner_id IS NOT NULL "
        "AND owner_id NOT IN (SELECT id FROM users)) FROM teams",
    )
    assert owners > 10 and orphans == 0
    [(teams_used,)] = fetch(engine, "SELECT count(DISTINCT team_id) FROM users")
    assert teams_used > 5  # spread over the parents, not all on one


def test_one_row_per_parent_until_every_parent_has_one(engine):
    create(engine, TEAMS_AND_USERS)
    for salt in ("a", "b", "c"):
        assert seed(engine, salt=salt).problems == []
    assert fetch(engine, "SELECT count(*), count(DISTINCT user_id) FROM profiles") == [(60, 60)]


def test_composite_foreign_key_matches_whole_parent_rows(engine):
    create(engine, ACCOUNTS)
    assert seed(engine).problems == []
    assert seed(engine, salt="other").problems == []
    [(payments, matching)] = fetch(
        engine, "SELECT count(*), count(a.tenant) FROM payments p LEFT JOIN accounts a USING (tenant, number)"
    )
    assert payments == matching == 40


def test_unique_and_check_constraints_hold(engine):
    create(engine, ORDERS)
    for salt in ("a", "b"):
        result = seed(engine, rows=100, salt=salt)
        assert result.problems == [] and result.inserted == {"orders": 100}
    [(statuses, ratings)] = fetch(
        engine,
        "SELECT array_agg(DISTINCT status ORDER BY status), array_agg(DISTINCT rating ORDER BY rating) FROM orders",
    )
    assert statuses == ["new", "paid", "sent"]
    assert ratings == [1, 2, 3, 4, 5, None]


def test_repeated_calls_add_rows_to_every_table(engine):
    create(engine, FILLABLE)
    first = seed(engine, salt="r0003:before")
    second = seed(engine, salt="r0003:at")
    assert first.problems == second.problems == []
    assert set(second.inserted.values()) == {20}
    assert fetch(engine, "SELECT count(*) FROM users") == [(40,)]


def test_same_seed_and_salt_give_the_same_data(database_url, engine):
    other_url = sa.make_url(database_url).set(database=sa.make_url(database_url).database + "_twin")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{other_url.database}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{other_url.database}"')
    twin = sa.create_engine(other_url)
    try:
        snapshots = []
        for each in (engine, twin):
            create(each, FILLABLE)
            seed(each, salt="r0001:before")
            snapshots.append(
                {
                    table: fetch(each, f"SELECT t::text FROM {table} t ORDER BY 1")
                    for table in sa.inspect(each).get_table_names()
                }
            )
        assert snapshots[0] == snapshots[1]
        assert all(len(rows) == 20 for rows in snapshots[0].values())
    finally:
        twin.dispose()


def test_tables_that_cannot_be_filled_are_reported(engine):
    create(engine, UNFILLABLE)
    result = seed(engine, rows=5)
    reasons = {problem.table: problem.reason for problem in result.problems}
    assert set(reasons) == {"impossible", "unsupported", "egg", "chicken"}
    assert 'check constraint "impossible_check"' in reasons["impossible"]
    assert "pair" in reasons["unsupported"]
    assert "cycle" in reasons["chicken"] or "cycle" in reasons["egg"]
    assert result.inserted["fine"] == 5


def test_fixture_rows_come_first_and_bad_ones_are_reported(engine):
    create(engine, TEAMS_AND_USERS)
    fixtures = {
        "teams": [{"id": 100, "name": "Fixture team"}],
        "users": [
            {"id": 100, "team_id": 100, "email": "fixture@example.com"},
            {"id": 101, "team_id": 999, "email": "orphan@example.com"},
        ],
    }
    result = seed(engine, rows=5, fixtures=fixtures)
    assert fetch(engine, "SELECT team_id FROM users WHERE email = 'fixture@example.com'") == [(100,)]
    assert [problem.table for problem in result.problems] == ["users"]
    assert "fixture row 1" in result.problems[0].reason
    assert result.inserted["users"] == 6


def test_ten_thousand_rows_per_table_all_fit(engine):
    # Unique keys and CHECKs still met at a rehearsal's size; how long it takes is bench/run.py's to say.
    create(engine, EVERY_TYPE + MODELS + TEAMS_AND_USERS)
    result = seed(engine, rows=10_000)
    assert result.problems == []
    assert set(result.inserted.values()) == {10_000}


def test_only_fills_the_named_tables_pointing_at_rows_already_there(engine):
    create(engine, TEAMS_AND_USERS)
    seed(engine, salt="a")
    result = seed(engine, salt="b", only={"users"})
    assert result.problems == [] and result.inserted == {"users": 20}
    assert fetch(engine, "SELECT count(*), count(DISTINCT team_id) > 5 FROM users") == [(40, True)]
    assert fetch(engine, "SELECT count(*) FROM teams") == [(20,)]


def test_an_enum_without_labels_gets_nulls_or_is_reported_not_a_crash(engine):
    create(
        engine,
        """
        CREATE TYPE nothing AS ENUM ();
        CREATE TABLE maybe (id serial PRIMARY KEY, state nothing);
        CREATE TABLE never (id serial PRIMARY KEY, state nothing NOT NULL);
    """,
    )
    result = seed(engine, rows=3)

    assert fetch(engine, "SELECT count(*), count(state) FROM maybe") == [(3, 0)]
    assert [problem.table for problem in result.problems] == ["never"]
    assert "cannot generate" in result.problems[0].reason


def test_a_unique_index_that_a_foreign_key_points_at_still_gets_unique_values(engine):
    create(
        engine,
        """
        CREATE TABLE country (id serial PRIMARY KEY, code smallint NOT NULL CHECK (code BETWEEN 1 AND 40));
        CREATE UNIQUE INDEX country_code ON country (code);
        CREATE TABLE city (id serial PRIMARY KEY, country_code smallint REFERENCES country (code));
    """,
    )
    result = seed(engine, rows=30)

    assert result.problems == []
    assert fetch(engine, "SELECT count(*), count(DISTINCT code) FROM country") == [(30, 30)]


def test_rows_written_at_a_revision_point_only_at_rows_written_with_them(engine):
    create(engine, TEAMS_AND_USERS)
    seed(engine, rows=5)
    old_users = {row[0] for row in fetch(engine, "SELECT id FROM users")}
    pointed_at_before = {
        table: set(fetch(engine, f"SELECT user_id FROM {table}")) for table in ("profiles", "memberships")
    }

    result = seed(engine, rows=5, salt="r0002:at", only={"profiles", "memberships"}, new_parents_only=True)

    assert result.problems == []
    for table, before in pointed_at_before.items():
        pointed_at = {row[0] for row in set(fetch(engine, f"SELECT user_id FROM {table}")) - before}
        assert pointed_at and not pointed_at & old_users, table
    assert len(old_users) < len(fetch(engine, "SELECT id FROM users"))  # the parents were written with them
