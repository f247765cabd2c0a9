"""Where a column's values went: looking for all of them in one column of the live database, many columns per
query, as the upgrade check does for a dropped column (or the values that left a kept one) before calling them lost.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from thirdai_platform.migrate.walk.data import Rows, qualified, quote, run_sql, union_all


def distinct_non_null(rows: Rows, column: str) -> str:
    return f"SELECT DISTINCT {quote(column)} AS v FROM ({rows.select([column])}) r WHERE {quote(column)} IS NOT NULL"


# Places looked at per query: a few first (a moved column is usually among the first, the new columns), then many
# in one round trip (values found nowhere are looked for in every column at the revision: thousands of queries).
FIRST_PLACES, PLACES_PER_QUERY = 4, 64


def place_holding(
    connection: Connection, values: str, wanted: int, places: list[tuple[str, str]]
) -> tuple[str, str] | None:
    """The first (table, column) of the live database holding all `wanted` values of the query `values` (column v)."""
    start, size = 0, FIRST_PLACES
    while start < len(places):
        batch = places[start : start + size]
        counts = dict(
            run_sql(
                connection,
                f"WITH w AS MATERIALIZED ({values}) "
                + union_all(
                    [
                        f"SELECT {i}, count(*) FROM w WHERE w.v IN (SELECT {quote(other)}::text FROM {qualified(table)})"
                        for i, (table, other) in enumerate(batch)
                    ]
                ),
            ).all()
        )
        for i, place in enumerate(batch):
            if counts[i] == wanted:
                return place
        start, size = start + size, PLACES_PER_QUERY
    return None


def values_found_in(
    connection: Connection, rows: Rows, column: str, wanted: int, places: list[tuple[str, str]]
) -> tuple[str, str] | None:
    """The first (table, column) of the live database holding all `wanted` distinct non-NULL values of rows.column."""
    return place_holding(connection, distinct_non_null(rows, column), wanted, places)


def vanished_values_found(
    connection: Connection, before: Rows, table: str, column: str, places: list[tuple[str, str]]
) -> bool:
    """Are the non-NULL values that left table.column (there before, not now) all found in one of the places?"""
    vanished = f"{distinct_non_null(before, column)} EXCEPT SELECT {quote(column)}::text FROM {qualified(table)}"
    wanted = run_sql(connection, f"SELECT count(*) FROM ({vanished}) w").scalar_one()
    if wanted == 0:
        return False  # the same values, on fewer rows: rows lost their value
    return place_holding(connection, vanished, wanted, places) is not None
