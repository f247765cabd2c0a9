"""Table contents kept inside the database and compared there, so no row travels to Python unless it is a sample.

A copy is a temp table of the live table's columns cast to text: text survives every type change and enum type
drop a migration may do, and text has equality where json and friends do not. Temp tables live in pg_temp, out of
sight of the schema comparison and of autogenerate, for as long as the walk's one connection lives. Every
statement here covers all the tables it is given at once: a check costs one round trip, not one per table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import count

from sqlalchemy import text
from sqlalchemy.engine import Connection, CursorResult

SCHEMA = "public"


def run_sql(connection: Connection, sql: str) -> CursorResult:
    """Run SQL that takes no parameters as the driver gets it. These statements name tables and columns, so nearly
    each is new to SQLAlchemy's statement cache, and compiling it would cost more than its round trip."""
    return connection.exec_driver_sql(sql, execution_options={"no_parameters": True})  # a % stays a %


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(table: str) -> str:
    return f"{SCHEMA}.{quote(table)}"


@dataclass(frozen=True)
class Rows:
    """Where rows are read from: a live table (cast to text on the way) or a copy (already text)."""

    relation: str
    live: bool

    def select(self, columns: list[str]) -> str:
        if not columns:  # still counts rows: one constant per row
            return f"SELECT 1 AS one FROM {self.relation}"
        cast = "::text" if self.live else ""
        return "SELECT " + ", ".join(f"{quote(c)}{cast} AS {quote(c)}" for c in columns) + f" FROM {self.relation}"


def live(table: str) -> Rows:
    return Rows(qualified(table), live=True)


@dataclass(frozen=True)
class TableCopy:
    rows: Rows
    columns: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class Missing:
    """Rows of one side that the other side lacks (as a multiset), with one of them as a sample."""

    count: int
    sample: dict | None


NONE_MISSING = Missing(0, None)
_copy_numbers = count()


def union_all(selects: list[str]) -> str:
    return " UNION ALL ".join(f"({select})" for select in selects)


class DataCopies:
    """A copy of the current data of the given tables: one temp table each, all made by one statement.

    `unchanged` lends the copies of tables whose data is known to be the same as in an earlier copy: a temp table
    costs its catalog rows, and most tables a revision reaches are not changed by it."""

    def __init__(
        self, connection: Connection, columns: dict[str, list[str]], unchanged: dict[str, TableCopy] | None = None
    ):
        temps = {table: f"walk_copy_{next(_copy_numbers)}" for table in columns}
        counts = {}
        if temps:  # the copies and their row counts in one round trip: the result is the last statement's
            creates = [f"CREATE TEMP TABLE {temps[t]} AS {live(t).select(columns[t])}" for t in temps]
            counted = union_all([f"SELECT {i}, count(*) FROM {temp}" for i, temp in enumerate(temps.values())])
            counts = dict(run_sql(connection, ";".join([*creates, counted])).all())
        self.tables = {
            **(unchanged or {}),
            **{
                table: TableCopy(Rows(temp, live=False), tuple(columns[table]), counts[i])
                for i, (table, temp) in enumerate(temps.items())
            },
        }
        connection.commit()


def forget_copies(connection: Connection, copies: list[DataCopies]) -> None:
    temps = list(
        dict.fromkeys(copy.rows.relation for copies_of_tables in copies for copy in copies_of_tables.tables.values())
    )
    if temps:
        run_sql(connection, f"DROP TABLE IF EXISTS {', '.join(temps)}")
        connection.commit()


@dataclass(frozen=True)
class Comparison:
    """Which rows of source (less those of `minus`) does target lack, compared on these columns?"""

    source: Rows
    target: Rows
    columns: list[str]
    minus: Rows | None = None
    # Both sides should hold the same rows: when their fingerprints agree, nothing is missing and no sort is needed.
    likely_equal: bool = False

    def gone(self) -> str:
        left = self.source.select(self.columns)
        if self.minus is not None:
            left = f"({left}) EXCEPT ALL ({self.minus.select(self.columns)})"
        return f"({left}) EXCEPT ALL ({self.target.select(self.columns)})"


def missing_rows(connection: Connection, comparisons: dict[str, Comparison]) -> dict[str, Missing]:
    """Every comparison's missing rows: the counts in one query, a sample row only where something is missing."""
    equal = same_rows(
        connection,
        {
            name: (c.source, c.target, c.columns)
            for name, c in comparisons.items()
            if c.likely_equal and c.minus is None
        },
    )
    names = [name for name in comparisons if name not in equal]
    if not names:
        return {name: NONE_MISSING for name in comparisons}
    counts = dict(
        run_sql(
            connection,
            union_all([f"SELECT {i}, count(*) FROM ({comparisons[n].gone()}) gone" for i, n in enumerate(names)]),
        ).all()
    )
    found = {name: NONE_MISSING for name in equal}
    for i, name in enumerate(names):
        if counts[i] == 0:
            found[name] = NONE_MISSING
            continue
        sample = run_sql(
            connection, f"SELECT row_to_json(gone) FROM ({comparisons[name].gone()}) gone LIMIT 1"
        ).scalar()
        found[name] = Missing(counts[i], sample)
    return found


def same_rows(connection: Connection, pairs: dict[str, tuple[Rows, Rows, list[str]]]) -> set[str]:
    """The names of the pairs whose two sides hold the same rows (as multisets) on the given columns.

    Each side is reduced to its row count and a sum of row hashes in one scan: no sort, no row leaves the database.
    The hash is 64 bits wide, so two different contents look the same only by a chance too small to matter."""
    if not pairs:
        return set()

    def fingerprint(rows: Rows, columns: list[str]) -> str:
        values = ", ".join(f"{quote(c)}{'::text' if rows.live else ''}" for c in columns) or "NULL::text"
        return f"SELECT count(*) AS n, sum(hashtextextended(ROW({values})::text, 0)) AS h FROM {rows.relation}"

    names = list(pairs)
    compared = union_all(
        [
            f"SELECT {i}, a.n = b.n AND a.h IS NOT DISTINCT FROM b.h FROM ({fingerprint(left, columns)}) a, "
            f"({fingerprint(right, columns)}) b"
            for i, (left, right, columns) in enumerate(pairs.values())
        ]
    )
    return {names[i] for i, same in run_sql(connection, compared).all() if same}


def count_rows(connection: Connection, tables: list[str]) -> dict[str, int]:
    """Rows in each live table, in one query."""
    if not tables:
        return {}
    counts = dict(
        run_sql(
            connection, union_all([f"SELECT {i}, count(*) FROM {qualified(t)}" for i, t in enumerate(tables)])
        ).all()
    )
    return {table: counts[i] for i, table in enumerate(tables)}


def empty_tables(connection: Connection, tables: list[str]) -> set[str]:
    """The tables without a single row, in one query."""
    if not tables:
        return set()
    empty = (
        run_sql(
            connection,
            union_all([f"SELECT {i} WHERE NOT EXISTS (SELECT FROM {qualified(t)})" for i, t in enumerate(tables)]),
        )
        .scalars()
        .all()
    )
    return {tables[i] for i in empty}


def row_by_key(connection: Connection, rows: Rows, columns: list[str], key: dict[str, str]) -> dict | None:
    """The row of `rows` whose key columns have the given text values, to show what a change did to it."""
    if not key:
        return None
    where = " AND ".join(f"{quote(c)}::text = :k{i}" for i, c in enumerate(key))
    query = f"SELECT row_to_json(r) FROM ({rows.select(columns)}) r WHERE {where} LIMIT 1"
    return connection.execute(text(query), {f"k{i}": v for i, v in enumerate(key.values())}).scalar()


def distinct_values(connection: Connection, rows: Rows, column: str) -> int:
    query = f"SELECT count(DISTINCT {quote(column)}) FROM ({rows.select([column])}) r"
    return run_sql(connection, query).scalar_one()


def count_values(connection: Connection, rows: Rows, column: str) -> int:
    """How many rows hold a value (not NULL) in the column."""
    query = f"SELECT count({quote(column)}) FROM ({rows.select([column])}) r"
    return run_sql(connection, query).scalar_one()


def row_with_value(connection: Connection, rows: Rows, columns: list[str], column: str) -> dict | None:
    """One row whose `column` is not NULL, as a sample for a finding."""
    query = f"SELECT row_to_json(r) FROM ({rows.select(columns)}) r WHERE {quote(column)} IS NOT NULL LIMIT 1"
    return run_sql(connection, query).scalar()


def column_fingerprints(
    connection: Connection, sides: dict[str, Rows], columns: dict[str, list[str]]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(table, column) → (rows with a value, sum of the values' hashes): one scan of each side's rows."""
    selects, places = [], []
    for table, rows in sides.items():
        for column in columns.get(table, []):
            value = f"{quote(column)}{'::text' if rows.live else ''}"
            selects.append(
                f"SELECT {len(places)}, count({value}), coalesce(sum(hashtextextended({value}, 0)), 0) "
                f"FROM {rows.relation}"
            )
            places.append((table, column))
    if not selects:
        return {}
    return {places[i]: (n, int(h)) for i, n, h in run_sql(connection, union_all(selects)).all()}


# Is a value read before a type change (as text) the same value as the one read after it, under the new type?
# (compared without the type's length or precision, which a cast would silently apply)
# Only rows that differ as text ask, so the per-row dynamic cast costs nothing on the common path. A value that does
# not cast is not the same; a string that became a JSON string is.
_EQUAL_UNDER_TYPE = """
CREATE OR REPLACE FUNCTION pg_temp.thirdai_equal_under_type(old text, new text, type_name text) RETURNS boolean
LANGUAGE plpgsql AS $body$
DECLARE same boolean;
BEGIN
    IF old IS NOT DISTINCT FROM new THEN RETURN true; END IF;
    IF old IS NULL OR new IS NULL THEN RETURN false; END IF;
    IF type_name IN ('json', 'jsonb') THEN
        IF to_jsonb(old) = new::jsonb THEN RETURN true; END IF;
        type_name := 'jsonb';
    END IF;
    EXECUTE format('SELECT $1::%s = $2::%s', type_name, type_name) INTO same USING old, new;
    RETURN coalesce(same, false);
EXCEPTION WHEN others THEN
    RETURN false;
END
$body$
"""


def changed_under_type(
    connection: Connection, before: Rows, table: str, key: list[str], column: str, new_type: str
) -> Missing:
    """The rows (matched by key) whose value of `column` is not the same under its new type as before."""
    run_sql(connection, _EQUAL_UNDER_TYPE)
    selected = key + [column]
    joined = " AND ".join(f"b.{quote(k)} IS NOT DISTINCT FROM a.{quote(k)}" for k in key)
    query = (
        f"SELECT count(*), (array_agg(row_to_json(b)))[1] FROM ({before.select(selected)}) b "
        f"JOIN ({live(table).select(selected)}) a ON {joined} "
        f"WHERE NOT pg_temp.thirdai_equal_under_type(b.{quote(column)}, a.{quote(column)}, :type)"
    )
    # Without its length or precision: a cast to varchar(10) or numeric(7,2) would cut the old value to fit.
    unbounded = re.sub(r"\(\d+(?:,\s*\d+)?\)", "", new_type)
    count_changed, sample = connection.execute(text(query), {"type": unbounded}).one()
    return Missing(count_changed, sample if count_changed else None)


def _in_window(value: str) -> str:
    # now() of a timestamp column is the migrating session's local time; a naive Python stamp is often UTC
    return (
        f"({value}::timestamptz BETWEEN :start AND :end "
        f"OR ({value}::timestamp AT TIME ZONE 'UTC') BETWEEN :start AND :end)"
    )


def stamped_columns(connection: Connection, comparison: Comparison, columns: list[str], window) -> list[str]:
    """Of these timestamp columns, those whose values changed (target against source) only into the window's
    time: the migration set them to the current time."""
    if not columns:
        return []
    selects = []
    for i, column in enumerate(columns):
        changed = f"({comparison.target.select([column])}) EXCEPT ALL ({comparison.source.select([column])})"
        if comparison.minus is not None:
            changed = f"({changed}) EXCEPT ALL ({comparison.minus.select([column])})"
        v = f"d.{quote(column)}"
        selects.append(
            f"SELECT {i}, count(*), count(*) FILTER (WHERE {v} IS NULL OR NOT {_in_window(v)}) FROM ({changed}) d"
        )
    rows = connection.execute(text(union_all(selects)), {"start": window.start, "end": window.end}).all()
    return [columns[i] for i, changed, outside in rows if changed and not outside]
