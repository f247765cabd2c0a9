"""Table contents kept inside the database and compared there, so no row travels to Python unless it is a sample.

A copy is a temp table of the live table's columns cast to text: text survives every type change and enum type
drop a migration may do, and text has equality where json and friends do not. Temp tables live in pg_temp, out of
sight of the schema comparison and of autogenerate, for as long as the walk's one connection lives. Every
statement here covers all the tables it is given at once: a check costs one round trip, not one per table.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from sqlalchemy import text
from sqlalchemy.engine import Connection

SCHEMA = "public"


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

    def __init__(self, connection: Connection, columns: dict[str, list[str]], unchanged: dict[str, TableCopy] | None = None):
        temps = {table: f"walk_copy_{next(_copy_numbers)}" for table in columns}
        counts = {}
        if temps:
            connection.execute(text(";".join(f"CREATE TEMP TABLE {temps[t]} AS {live(t).select(columns[t])}" for t in temps)))
            counts = dict(connection.execute(text(union_all([f"SELECT {i}, count(*) FROM {temp}"
                                                              for i, temp in enumerate(temps.values())]))).all())
        self.tables = {**(unchanged or {}),
                       **{table: TableCopy(Rows(temp, live=False), tuple(columns[table]), counts[i])
                          for i, (table, temp) in enumerate(temps.items())}}
        connection.commit()


def forget_copies(connection: Connection, copies: list[DataCopies]) -> None:
    temps = list(dict.fromkeys(copy.rows.relation for copies_of_tables in copies for copy in copies_of_tables.tables.values()))
    if temps:
        connection.execute(text(f"DROP TABLE IF EXISTS {', '.join(temps)}"))
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
    equal = same_rows(connection, {name: (c.source, c.target, c.columns) for name, c in comparisons.items()
                                    if c.likely_equal and c.minus is None})
    names = [name for name in comparisons if name not in equal]
    if not names:
        return {name: NONE_MISSING for name in comparisons}
    counts = dict(connection.execute(text(union_all([f"SELECT {i}, count(*) FROM ({comparisons[n].gone()}) gone"
                                                      for i, n in enumerate(names)]))).all())
    found = {name: NONE_MISSING for name in equal}
    for i, name in enumerate(names):
        if counts[i] == 0:
            found[name] = NONE_MISSING
            continue
        sample = connection.execute(text(f"SELECT row_to_json(gone) FROM ({comparisons[name].gone()}) gone LIMIT 1")).scalar()
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
    compared = union_all([f"SELECT {i}, a.n = b.n AND a.h IS NOT DISTINCT FROM b.h FROM ({fingerprint(left, columns)}) a, "
                          f"({fingerprint(right, columns)}) b" for i, (left, right, columns) in enumerate(pairs.values())])
    return {names[i] for i, same in connection.execute(text(compared)).all() if same}


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


def values_found_in(connection: Connection, rows: Rows, column: str, wanted: int,
                    places: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The first (table, column) of the live database holding all `wanted` distinct non-NULL values of rows.column."""
    values = f"SELECT DISTINCT {quote(column)} AS v FROM ({rows.select([column])}) r WHERE {quote(column)} IS NOT NULL"
    for table, other in places:
        query = f"SELECT count(*) FROM ({values}) w WHERE w.v IN (SELECT {quote(other)}::text FROM {qualified(table)})"
        if connection.execute(text(query)).scalar_one() == wanted:
            return table, other
    return None
