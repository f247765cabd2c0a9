"""The checks of one round trip (walk/checks/), run on tables a test changes by hand: no migration runs here.

Each test plays the part of a leg with plain SQL between copying the data and calling the check, and records the
leg's time window as the walk does."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, pool, text

from thirdai_platform.migrate.findings import FAILURE, NOTE
from thirdai_platform.migrate.walk.checks.compare import check_schema
from thirdai_platform.migrate.walk.checks.downgrade import check_downgrade
from thirdai_platform.migrate.walk.checks.upgrade import check_upgrade
from thirdai_platform.migrate.walk.checks.upgrade_again import check_upgrade_again
from thirdai_platform.migrate.walk.data import DataCopies
from thirdai_platform.migrate.walk.roundtrip import DOWNGRADE, UPGRADE, UPGRADE_AGAIN, Declared, RoundTrip, Window
from thirdai_platform.migrate.walk.schema import schema_snapshot

USERS = """
CREATE TABLE users (id int PRIMARY KEY, email text, budget numeric(7,2), profile varchar(200),
                    seen_at timestamptz, updated_at timestamp);
INSERT INTO users SELECT i, 'user' || i || '@example.com', i * 1000.25, 'name ' || i,
                         '2020-01-01'::timestamptz + i * interval '1 day', '2020-01-01'::timestamp + i * interval '1 hour'
FROM generate_series(1, 5) i;
"""


def declared(**data_loss) -> Declared:
    return Declared(SimpleNamespace(module=SimpleNamespace(data_loss=data_loss)), "upgrade")


@pytest.fixture
def connection(database_url):
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text(USERS))
        connection.commit()
        yield connection
    engine.dispose()


def copy(connection) -> DataCopies:
    schema = schema_snapshot(connection)
    return DataCopies(connection, dict(schema.columns))


def leg(trip: RoundTrip, name: str, sql: str) -> None:
    """Run `sql` as the leg `name` would run its migration, and note when it ran."""
    window = Window.starting_now()
    trip.connection.execute(text(sql))
    trip.connection.commit()
    trip.windows[name] = window.ended()


def upgraded(connection, sql: str, lost_on_upgrade: Declared | None = None) -> tuple[RoundTrip, list]:
    parent = schema_snapshot(connection)
    trip = RoundTrip(connection, "r", lost_on_upgrade or declared(), declared(), parent, before=copy(connection))
    leg(trip, UPGRADE, sql)
    trip.at_revision = schema_snapshot(connection)
    trip.touched = {"users"}
    return trip, check_upgrade(trip, trip.at_revision)


def severities(findings) -> list[tuple[str, str | None, str | None]]:
    return [(f.severity, f.table, f.column) for f in findings]


def test_a_kept_column_emptied_by_the_upgrade_is_a_loss(connection):
    _, findings = upgraded(connection, "UPDATE users SET email = NULL WHERE id > 2")

    assert severities(findings) == [(FAILURE, "users", "email")]
    assert "5 → 2 rows with a value" in findings[0].message


def test_values_merged_into_fewer_distinct_ones_are_a_loss_unless_declared(connection):
    merge = "UPDATE users SET profile = 'everyone'"

    _, findings = upgraded(connection, merge)
    assert severities(findings) == [(FAILURE, "users", "profile")]
    assert "5 → 1 distinct values" in findings[0].message

    connection.execute(text("DROP TABLE users"))
    connection.execute(text(USERS))
    connection.commit()
    _, findings = upgraded(connection, merge, declared(upgrade=["users.profile"]))
    assert findings == []


def test_values_changed_one_to_one_are_no_loss(connection):
    _, findings = upgraded(connection, "UPDATE users SET email = upper(email), profile = profile || '!'")

    assert findings == []


def test_a_timestamp_set_to_the_current_time_by_the_upgrade_is_a_note(connection):
    trip, findings = upgraded(connection, "UPDATE users SET seen_at = now(), updated_at = localtimestamp")

    assert severities(findings) == [(NOTE, "users", "seen_at"), (NOTE, "users", "updated_at")]
    assert trip.stamped_by_upgrade == {("users", "seen_at"), ("users", "updated_at")}


def test_a_timestamp_set_to_another_time_is_still_a_loss(connection):
    _, findings = upgraded(connection, "UPDATE users SET seen_at = '2001-01-01'")

    assert severities(findings) == [(FAILURE, "users", "seen_at")]


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE users ALTER COLUMN budget TYPE numeric(9,3)",  # 1000.25 → 1000.250: the same number
        "ALTER TABLE users ALTER COLUMN profile TYPE jsonb USING to_jsonb(profile)",  # a string became a JSON string
        "ALTER TABLE users ALTER COLUMN profile TYPE text",
    ],
)
def test_a_type_change_that_keeps_every_value_is_no_alteration(connection, change):
    _, findings = upgraded(connection, change)

    assert findings == []


@pytest.mark.parametrize(
    "change, column",
    [
        ("ALTER TABLE users ALTER COLUMN budget TYPE numeric(8,0) USING budget * 10", "budget"),  # scaled
        ("ALTER TABLE users ALTER COLUMN profile TYPE varchar(4) USING profile::varchar(4)", "profile"),  # cut
        ("ALTER TABLE users ALTER COLUMN profile TYPE jsonb USING jsonb_build_object('v', profile)", "profile"),
    ],
)
def test_a_type_change_that_alters_values_is_a_loss(connection, change, column):
    _, findings = upgraded(connection, change)

    assert severities(findings) == [(FAILURE, "users", column)]
    assert "altered 5 of 5 values" in findings[0].message


def round_trip(connection, upgrade: str, downgrade: str, upgrade_again: str) -> tuple[list, list]:
    """Both checks after the legs: the downgrade's findings and the upgrade again's."""
    trip, _ = upgraded(connection, upgrade)
    trip.after_upgrade = copy(connection)
    trip.written = trip.after_upgrade
    leg(trip, DOWNGRADE, downgrade)
    after_downgrade = check_downgrade(trip, schema_snapshot(connection))
    leg(trip, UPGRADE_AGAIN, upgrade_again)
    return after_downgrade, check_upgrade_again(trip, schema_snapshot(connection))


def test_a_stamp_on_each_upgrade_is_a_note_and_the_other_columns_are_still_compared(connection):
    stamp = "UPDATE users SET updated_at = localtimestamp"
    downgrade, again = round_trip(connection, stamp, "SELECT 1", stamp + ", email = NULL WHERE id = 1")

    assert downgrade == []  # the upgrade's stamp is not expected back
    assert severities(again) == [(NOTE, "users", "updated_at"), (FAILURE, "users", None)]
    assert "1 of 5 rows of users differ from the first upgrade: the upgrade is not repeatable" in again[1].message
    assert "changed: email 'user1@example.com' → None" in again[1].message


def test_a_difference_after_a_lossy_downgrade_is_not_called_unrepeatable(connection):
    downgrade, again = round_trip(connection, "SELECT 1", "UPDATE users SET email = NULL WHERE id = 1", "SELECT 1")

    assert severities(downgrade) == [(FAILURE, "users", None)]
    assert "not repeatable" not in again[0].message


def test_values_moved_out_of_a_kept_column_are_no_loss(connection):
    move = (
        "CREATE TABLE contacts (user_id int PRIMARY KEY, email text);"
        "INSERT INTO contacts SELECT id, email FROM users; UPDATE users SET email = NULL"
    )
    _, findings = upgraded(connection, move)

    assert findings == []


def test_an_enum_label_the_downgrade_cannot_drop_is_a_note_and_a_lost_one_a_failure(connection):
    connection.execute(text("CREATE TYPE state AS ENUM ('pending', 'done')"))
    connection.commit()
    parent = schema_snapshot(connection)
    trip = RoundTrip(connection, "r", declared(), declared(), parent)

    connection.execute(text("ALTER TYPE state ADD VALUE 'crashed'"))
    connection.commit()
    left = check_schema(trip, DOWNGRADE, parent, schema_snapshot(connection))
    assert severities(left) == [(NOTE, None, None)] and "cannot drop an enum label" in left[0].message

    connection.execute(text("DROP TYPE state; CREATE TYPE state AS ENUM ('pending', 'crashed')"))
    connection.commit()
    assert severities(check_schema(trip, DOWNGRADE, parent, schema_snapshot(connection))) == [(FAILURE, None, None)]
