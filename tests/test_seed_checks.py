"""seed_database() against CHECK constraints, composite unique keys, realistic values and keys across tables."""

from __future__ import annotations

import re
import zoneinfo

import pytest
import sqlalchemy as sa
from test_seed import create, engine, fetch  # noqa: F401, F811 (engine is a fixture)
from test_seed import seed as seed_rows

from thirdai_platform.migrate.walk.seed import SeedResult

ROWS = 40
# One table per CHECK form; every checked column NOT NULL, so that a NULL cannot pass the check for it.
CHECK_FORMS = {
    "in_text": "status text NOT NULL CHECK (status IN ('new', 'paid', 'sent'))",
    "any_varchar": "kind varchar(8) NOT NULL CHECK (kind = ANY (ARRAY['x'::varchar, 'y'::character varying]))",
    "in_integer": "level integer NOT NULL CHECK (level IN (10, 20, 30))",
    "any_numeric": "ratio numeric NOT NULL CHECK (ratio = ANY (ARRAY[0.5, 1.5]::numeric[]))",
    "above_constant": "quantity integer NOT NULL CHECK (quantity > 900000)",
    "below_constant": "score real NOT NULL CHECK (score < -5)",
    "between": "share numeric(5, 2) NOT NULL CHECK (share BETWEEN 0.25 AND 0.75)",
    "date_constant": "born date NOT NULL CHECK (born > '2031-06-01'::date)",
    "column_order": "starts date NOT NULL, ends date NOT NULL, CHECK (ends >= starts)",
    "timestamp_order": "opened timestamptz NOT NULL, closed timestamptz, CHECK (closed > opened)",
    "length_between": "code text NOT NULL CHECK (char_length(code) BETWEEN 5 AND 6)",
    "length_at_least": "tag varchar(20) NOT NULL CHECK (length(tag) >= 15)",
    "regex": "sku text NOT NULL CHECK (sku ~ '^[A-Z]{3}-[0-9]{4}$')",
    "regex_unique": "ref varchar(7) NOT NULL UNIQUE CHECK (ref ~ '^R[0-9]{6}$')",
    "regex_posix": "word text NOT NULL CHECK (word ~* '^[[:alpha:]]+$')",
    "one_of_two": "a integer, b integer, CHECK ((a IS NOT NULL) OR (b IS NOT NULL))",
    "exactly_one": "x integer, y text, z date, CHECK (num_nonnulls(x, y, z) = 1)",
    "and_or": "plan text NOT NULL, price numeric(6, 2) NOT NULL, "
    "CHECK ((plan = 'free' AND price = 0) OR (plan = 'paid' AND price > 100))",
    "not_in": "letter char(1) NOT NULL CHECK (letter NOT IN ('A', 'B')) CHECK (letter ~ '^[A-D]$')",
    "enum_check": "feeling mood NOT NULL CHECK (feeling <> 'sad'::mood)",
    "beyond_the_evaluator": "day date NOT NULL CHECK (extract(dow FROM day) <> 0)",
}


def seed(engine: sa.Engine, rows: int = ROWS, salt: str = "r0001:before", **options) -> SeedResult:
    return seed_rows(engine, rows=rows, salt=salt, **options)


def check_tables() -> str:
    tables = [f"CREATE TABLE {name} (id serial PRIMARY KEY, {columns});" for name, columns in CHECK_FORMS.items()]
    return "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n" + "\n".join(tables)


@pytest.mark.parametrize("salts", [("r0001:before",), ("r0001:before", "r0002:at")])
def test_every_check_form_gets_every_row(engine, salts):
    create(engine, check_tables())
    for salt in salts:
        result = seed(engine, salt=salt)
        assert result.problems == []
        assert result.inserted == dict.fromkeys(CHECK_FORMS, ROWS)


def test_checks_leave_room_for_variety(engine):
    create(engine, check_tables())
    seed(engine)
    [(statuses,)] = fetch(engine, "SELECT array_agg(DISTINCT status ORDER BY status) FROM in_text")
    assert statuses == ["new", "paid", "sent"]
    [(plans,)] = fetch(engine, "SELECT array_agg(DISTINCT plan ORDER BY plan) FROM and_or")
    assert plans == ["free", "paid"]
    [(single_x, single_y, single_z)] = fetch(engine, "SELECT count(x), count(y), count(z) FROM exactly_one")
    assert min(single_x, single_y, single_z) > 0  # each of the three takes a turn
    [(later_closed, never_closed)] = fetch(
        engine, "SELECT count(closed), count(*) - count(closed) FROM timestamp_order"
    )
    assert later_closed > 0 and never_closed > 0


def test_composite_unique_keys_get_distinct_tuples(engine):
    create(
        engine,
        """
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic');
        CREATE TABLE combos (flag boolean NOT NULL, level smallint NOT NULL CHECK (level BETWEEN 1 AND 10),
                             feeling mood NOT NULL, note text, UNIQUE (flag, level, feeling));
        CREATE TABLE members (tenant integer NOT NULL CHECK (tenant IN (1, 2)), email text NOT NULL);
        CREATE UNIQUE INDEX members_email ON members (tenant, lower(email));
        CREATE TABLE slots (room smallint NOT NULL CHECK (room BETWEEN 1 AND 3), hour smallint NOT NULL
                            CHECK (hour BETWEEN 8 AND 17), cancelled boolean NOT NULL);
        CREATE UNIQUE INDEX slots_live ON slots (room, hour) WHERE NOT cancelled;
    """,
    )
    result = seed(engine, rows=60)
    assert result.problems == []
    assert fetch(engine, "SELECT count(*), count(DISTINCT (flag, level, feeling)) FROM combos") == [(60, 60)]
    assert fetch(engine, "SELECT count(*), count(DISTINCT (tenant, lower(email))) FROM members") == [(60, 60)]
    # 30 (room, hour) pairs for 60 rows: the partial index leaves the cancelled ones free to repeat a pair
    assert result.inserted["slots"] == 60


def test_values_look_like_what_the_column_holds(engine):
    create(
        engine,
        """
        CREATE TABLE preferences (id serial PRIMARY KEY, time_zone text NOT NULL, tz varchar(64),
                                  email varchar(120) NOT NULL UNIQUE, backup_email text, country_code char(2),
                                  currency varchar(3), website text, ip_address text, slug text UNIQUE,
                                  colour varchar(7), locale text, first_name text, last_name text)
    """,
    )
    assert seed(engine, rows=200).problems == []
    zones = fetch(engine, "SELECT time_zone FROM preferences UNION SELECT tz FROM preferences WHERE tz IS NOT NULL")
    assert len(zones) > 20
    for (zone,) in zones:
        zoneinfo.ZoneInfo(zone)  # raises for a name that is not a real IANA time zone
    for email, backup in fetch(engine, "SELECT email, backup_email FROM preferences"):
        for address in filter(None, (email, backup)):
            assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", address), address
    [(codes, colours, urls)] = fetch(
        engine,
        "SELECT bool_and(country_code ~ '^[A-Z]{2}$'), "
        "bool_and(colour ~ '^#[0-9a-f]{6}$'), bool_and(website ~ '^https?://') "
        "FROM preferences",
    )
    assert codes and colours and urls
    [(addresses,)] = fetch(engine, "SELECT count(*) FROM preferences WHERE ip_address::inet IS NOT NULL")
    assert addresses > 100


def test_generated_uuid_keys_never_repeat_across_tables(engine):
    create(
        engine,
        """
        CREATE TABLE documents (id uuid PRIMARY KEY, title text);
        CREATE TABLE archived_documents (id uuid PRIMARY KEY, title text);
        CREATE TABLE events (id uuid NOT NULL UNIQUE, document_id uuid REFERENCES documents);
        CREATE TABLE legacy_documents (id serial PRIMARY KEY, document_uuid varchar(36) NOT NULL UNIQUE);
    """,
    )
    for salt in ("r0001:before", "r0001:at"):
        assert seed(engine, rows=50, salt=salt).problems == []
    [(overlap,)] = fetch(
        engine, "SELECT count(*) FROM (SELECT id FROM documents INTERSECT SELECT id FROM archived_documents) shared"
    )
    [(events_overlap,)] = fetch(engine, "SELECT count(*) FROM events e JOIN documents d ON d.id = e.id")
    [(text_overlap,)] = fetch(
        engine, "SELECT count(*) FROM legacy_documents l JOIN documents d ON d.id = l.document_uuid::uuid"
    )  # a text column of UUIDs: real ones
    assert text_overlap == 0
    assert fetch(engine, "SELECT count(*) FROM documents") == [(100,)]
    assert overlap == 0 and events_overlap == 0


def test_a_table_no_row_can_enter_is_one_clear_problem(engine):
    create(
        engine,
        """
        CREATE TABLE never (id serial PRIMARY KEY, note text, CHECK (false));
        CREATE TABLE contradiction (id serial PRIMARY KEY, n integer NOT NULL, CONSTRAINT n_range
                                    CHECK (n > 10 AND n < 5));
        CREATE TABLE child_of_never (id serial PRIMARY KEY, never_id integer NOT NULL REFERENCES never);
        CREATE TABLE fine (id serial PRIMARY KEY, n integer CHECK (n > 10 AND n < 50));
    """,
    )
    result = seed(engine, rows=5)
    reasons = {problem.table: problem.reason for problem in result.problems}
    assert sorted(reasons) == ["child_of_never", "contradiction", "never"]
    assert 'check constraint "never_check"' in reasons["never"]
    assert 'check constraint "n_range"' in reasons["contradiction"]
    assert "never has no rows" in reasons["child_of_never"]
    assert all("\n" not in reason and "Traceback" not in reason for reason in reasons.values())
    assert result.inserted["fine"] == 5


def test_same_seed_and_salt_give_the_same_checked_and_realistic_values(engine):
    create(engine, check_tables() + "CREATE TABLE people (id uuid PRIMARY KEY, email text UNIQUE, full_name text);")
    seed(engine, rows=10)
    first = {table: fetch(engine, f"SELECT t::text FROM {table} t ORDER BY id") for table in [*CHECK_FORMS, "people"]}
    with engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE " + ", ".join([*CHECK_FORMS, "people"]) + " RESTART IDENTITY")
    seed(engine, rows=10)
    second = {table: fetch(engine, f"SELECT t::text FROM {table} t ORDER BY id") for table in [*CHECK_FORMS, "people"]}
    assert first == second


def test_checks_of_domain_types_hold(engine):
    create(
        engine,
        """
        CREATE DOMAIN percent AS numeric(5, 2) CHECK (VALUE BETWEEN 0 AND 100);
        CREATE DOMAIN big_percent AS percent CHECK (VALUE > 90);
        CREATE DOMAIN code AS text NOT NULL CHECK (VALUE ~ '^[a-z]{2}[0-9]$');
        CREATE TABLE grades (id serial PRIMARY KEY, mark big_percent NOT NULL, course code);
    """,
    )
    result = seed(engine)
    assert result.problems == [] and result.inserted == {"grades": ROWS}
    [(lowest, highest)] = fetch(engine, "SELECT min(mark), max(mark) FROM grades")
    assert 90 < lowest <= highest <= 100


ODD_CHECKS = {
    "text_bound_on_number": "price numeric NOT NULL CHECK (price > '5')",
    "array_overlap": "tags text[] NOT NULL CHECK (tags && '{a,b}'::text[] OR cardinality(tags) >= 0)",
    "jsonb_key": "doc jsonb NOT NULL CHECK (doc ? 'id')",
    "column_in_array": "pick text, options text[], CHECK (pick IS NULL OR pick = ANY (options))",
    "lower_equals": "code varchar(12) NOT NULL CHECK (lower(code) = code)",
    "sum_bound": "a integer NOT NULL, b integer NOT NULL, CHECK (a + b > 10)",
    "not_in_future": "created timestamptz NOT NULL CHECK (created <= now() + interval '100 years')",
    "short_span": "starts timestamp NOT NULL, ends timestamp NOT NULL, CHECK (ends - starts < interval '1000 days')",
    "like_prefix": "path text NOT NULL CHECK (path LIKE '/%%')",  # %% for the driver: LIKE '/%'
    "trimmed": "title text NOT NULL CHECK (btrim(title) <> '' AND title = btrim(title))",
}


def test_odd_checks_are_met_or_left_to_the_database_without_a_crash(engine):
    create(
        engine,
        "\n".join(f"CREATE TABLE {name} (id serial PRIMARY KEY, {columns});" for name, columns in ODD_CHECKS.items()),
    )
    result = seed(engine)
    assert result.problems == []
    assert result.inserted == dict.fromkeys(ODD_CHECKS, ROWS)
