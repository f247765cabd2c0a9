"""Table contents kept inside the database and compared there, so no row travels to Python unless it is a sample.

A copy of the data is a set of rows in one temp table, walk_copies (copy number, table, row as JSON of the columns
cast to text): text survives every type change and enum type drop a migration may do, and text has equality where
json and friends do not. One table for every copy keeps a copy to one statement, whatever the number of tables.
Temp tables live in pg_temp, out of sight of the schema comparison and of autogenerate, for as long as the walk's
one connection lives.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from sqlalchemy import text
from sqlalchemy.engine import Connection

SCHEMA = "public"
COPIES = "walk_copies"
JSON_PAIRS_PER_CALL = 50  # jsonb_build_object takes at most 100 arguments


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Rows:
    """Rows of a live table (cast to text on the way), or of a table in one copy."""

    table: str
    copy: int | None = None  # None: the live table

    def select(self, columns: list[str]) -> str:
        if self.copy is None:
            values, source = [f"{quote(c)}::text" for c in columns], qualified(self.table)
        else:
            values = [f"row->>{literal(c)}" for c in columns]
            source = f"{COPIES} WHERE copy = {self.copy} AND tbl = {literal(self.table)}"
        if not columns:  # still counts rows: one constant per row
            return f"SELECT 1 AS one FROM {source}"
        return "SELECT " + ", ".join(f"{v} AS {quote(c)}" for v, c in zip(values, columns)) + f" FROM {source}"


def live(table: str) -> Rows:
    return Rows(table)


def qualified(table: str) -> str:
    return f"{SCHEMA}.{quote(table)}"


def as_json(columns: list[str]) -> str:
    """The columns of a row, cast to text, as one jsonb value."""
    pairs = [f"{literal(c)}, {quote(c)}::text" for c in columns]
    chunks = [pairs[i:i + JSON_PAIRS_PER_CALL] for i in range(0, len(pairs), JSON_PAIRS_PER_CALL)] or [[]]
    return " || ".join(f"jsonb_build_object({', '.join(chunk)})" for chunk in chunks)


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
_copy_numbers = count(1)


def union_all(selects: list[str]) -> str:
    return " UNION ALL ".join(f"({select})" for select in selects)


class DataCopies:
    """A copy of the current data of the given tables, under a number of its own, in one statement."""

    def __init__(self, connection: Connection, columns: dict[str, list[str]]):
        self.connection, self.number = connection, next(_copy_numbers)
        connection.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {COPIES} (copy int, tbl text, row jsonb);"
                                f"CREATE INDEX IF NOT EXISTS {COPIES}_copy_tbl ON {COPIES} (copy, tbl)"))
        if columns:
            connection.execute(text(f"INSERT INTO {COPIES} " + union_all(
                [f"SELECT {self.number}, {literal(t)}, {as_json(cols)} FROM {qualified(t)}" for t, cols in columns.items()])))
        counts = dict(connection.execute(text(f"SELECT tbl, count(*) FROM {COPIES} WHERE copy = {self.number} GROUP BY tbl")).all())
        self.tables = {t: TableCopy(Rows(t, self.number), tuple(cols), counts.get(t, 0)) for t, cols in columns.items()}
        connection.commit()


def forget_copies(connection: Connection) -> None:
    connection.execute(text(f"TRUNCATE {COPIES}"))
    connection.commit()


@dataclass(frozen=True)
class Comparison:
    """Which rows of source (less those of `minus`) does target lack, compared on these columns?"""

    source: Rows
    target: Rows
    columns: list[str]
    minus: Rows | None = None

    def gone(self) -> str:
        left = self.source.select(self.columns)
        if self.minus is not None:
            left = f"({left}) EXCEPT ALL ({self.minus.select(self.columns)})"
        return f"({left}) EXCEPT ALL ({self.target.select(self.columns)})"


def missing_rows(connection: Connection, comparisons: dict[str, Comparison]) -> dict[str, Missing]:
    """Every comparison's missing rows: the counts in one query, a sample row only where something is missing."""
    names = list(comparisons)
    if not names:
        return {}
    counts = dict(connection.execute(text(union_all([f"SELECT {i}, count(*) FROM ({comparisons[n].gone()}) gone"
                                                      for i, n in enumerate(names)]))).all())
    found = {}
    for i, name in enumerate(names):
        if counts[i] == 0:
            found[name] = NONE_MISSING
            continue
        sample = connection.execute(text(f"SELECT row_to_json(gone) FROM ({comparisons[name].gone()}) gone LIMIT 1")).scalar()
        found[name] = Missing(counts[i], sample)
    return found


def count_rows(connection: Connection, tables: list[str]) -> dict[str, int]:
    """Rows in each live table, in one query."""
    if not tables:
        return {}
    counts = dict(connection.execute(text(union_all([f"SELECT {i}, count(*) FROM {qualified(t)}"
                                                      for i, t in enumerate(tables)]))).all())
    return {table: counts[i] for i, table in enumerate(tables)}


def empty_tables(connection: Connection, tables: list[str]) -> set[str]:
    """The tables without a single row, in one query."""
    if not tables:
        return set()
    empty = connection.execute(text(union_all([f"SELECT {i} WHERE NOT EXISTS (SELECT FROM {qualified(t)})"
                                                for i, t in enumerate(tables)]))).scalars().all()
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
    return connection.execute(text(query)).scalar_one()


def count_values(connection: Connection, rows: Rows, column: str) -> int:
    """How many rows hold a value (not NULL) in the column."""
    query = f"SELECT count({quote(column)}) FROM ({rows.select([column])}) r"
    return connection.execute(text(query)).scalar_one()


def row_with_value(connection: Connection, rows: Rows, columns: list[str], column: str) -> dict | None:
    """One row whose `column` is not NULL, as a sample for a finding."""
    query = f"SELECT row_to_json(r) FROM ({rows.select(columns)}) r WHERE {quote(column)} IS NOT NULL LIMIT 1"
    return connection.execute(text(query)).scalar()


def values_found_in(connection: Connection, rows: Rows, column: str, places: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The first (table, column) of the live database holding every distinct non-NULL value of rows.column."""
    wanted = distinct_values(connection, rows, column)
    if wanted == 0:
        return None
    values = f"SELECT DISTINCT {quote(column)} AS v FROM ({rows.select([column])}) r WHERE {quote(column)} IS NOT NULL"
    for table, other in places:
        query = f"SELECT count(*) FROM ({values}) w WHERE w.v IN (SELECT {quote(other)}::text FROM {qualified(table)})"
        if connection.execute(text(query)).scalar_one() == wanted:
            return table, other
    return None
