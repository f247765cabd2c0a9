"""Comparing table contents inside the database: fingerprints decide equality, EXCEPT ALL finds what is missing."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, pool, text

from thirdai_platform.migrate.walk.data import Comparison, DataCopies, live, missing_rows, same_rows
from thirdai_platform.migrate.walk.value_search import place_holding


@pytest.fixture
def connection(database_url):
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE t (id int, name text)"))
        connection.execute(text("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (2, 'b'), (3, NULL)"))
        connection.commit()
        yield connection
    engine.dispose()


def copy_of_t(connection) -> DataCopies:
    return DataCopies(connection, {"t": ["id", "name"]})


def test_same_rows_in_another_order_are_the_same(connection):
    copy = copy_of_t(connection)
    connection.execute(text("DELETE FROM t WHERE id = 1; INSERT INTO t VALUES (1, 'a')"))

    assert same_rows(connection, {"t": (copy.tables["t"].rows, live("t"), ["id", "name"])}) == {"t"}


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE t SET name = 'c' WHERE id = 1",
        "UPDATE t SET name = '' WHERE id = 3",  # NULL and the empty string differ
        "UPDATE t SET name = CASE id WHEN 1 THEN NULL ELSE 'a' END WHERE id IN (1, 3)",  # each column keeps its values
        "DELETE FROM t WHERE ctid = (SELECT min(ctid) FROM t WHERE id = 2); INSERT INTO t VALUES (1, 'a')",  # a duplicate moved
    ],
)
def test_any_change_of_the_rows_makes_them_differ(connection, change):
    copy = copy_of_t(connection)
    connection.execute(text(change))

    assert same_rows(connection, {"t": (copy.tables["t"].rows, live("t"), ["id", "name"])}) == set()


def test_a_comparison_likely_equal_still_finds_the_missing_rows_when_they_differ(connection):
    copy = copy_of_t(connection)
    connection.execute(text("DELETE FROM t WHERE id = 2"))
    comparisons = {
        "equal": Comparison(copy.tables["t"].rows, copy.tables["t"].rows, ["id", "name"], likely_equal=True),
        "t": Comparison(copy.tables["t"].rows, live("t"), ["id", "name"], likely_equal=True),
    }

    found = missing_rows(connection, comparisons)

    assert found["equal"].count == 0
    assert found["t"].count == 2 and found["t"].sample == {"id": "2", "name": "b"}


def test_values_are_found_in_the_first_place_holding_them_all_among_many(connection):
    """Places are looked at many per query: still the first in order that holds every value wins."""
    connection.execute(text(";".join(f"CREATE TABLE p{i} (v text); INSERT INTO p{i} VALUES ('a')" for i in range(100))))
    connection.execute(text("INSERT INTO p70 VALUES ('b'); INSERT INTO p90 VALUES ('b')"))
    places = [(f"p{i}", "v") for i in range(100)]
    values = "SELECT DISTINCT name AS v FROM t WHERE name IS NOT NULL"  # 'a' and 'b'

    assert place_holding(connection, values, 2, places) == ("p70", "v")
    assert place_holding(connection, values, 2, places[:70] + places[71:90]) is None
    assert place_holding(connection, "SELECT 'a' AS v", 1, places[3:]) == ("p3", "v")
