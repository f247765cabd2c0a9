"""Fill every table of the current database with generated rows, parents before children.

The migration walk calls seed_database() at each revision so that every migration meets real-looking data:
every column type, NULLs, non-ASCII text, extreme numbers, and foreign keys that point to real rows.
Calls with different salts add rows next to the earlier ones without colliding with them.
"""
from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from random import Random

import psycopg2
from psycopg2.extras import execute_values
from sqlalchemy import column, insert, literal_column, text
from sqlalchemy import table as table_clause
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from thirdai_platform.migrate.schema import catalog_query
from thirdai_platform.migrate.values import (
    NUMBER_KINDS,
    ORDERED_KINDS,
    TEXT_KINDS,
    PgType,
    array_literal,
    bounded_number,
    number_step,
    random_value,
    scalar_type,
    unique_after,
    unique_from_token,
)

BATCH_ROWS = 1000
RETRIES = 3                 # fresh values for a row a constraint rejects, before defaults/NULLs are tried
MAX_FAILURES_IN_A_ROW = 10  # then the table is reported rather than every remaining row tried
NULL_SHARE = 0.2            # of the rows of a nullable column, besides the one that is always NULL
DEDUPE_TRIES = 20


@dataclass
class SeedProblem:
    table: str
    reason: str


@dataclass
class SeedResult:
    inserted: dict[str, int]
    problems: list[SeedProblem]


def seed_database(connection: Connection, *, rows: int, seed: int, salt: str,
                  fixtures: dict[str, list[dict]] | None = None, only: set[str] | None = None) -> SeedResult:
    """Insert the fixtures' rows, then `rows` generated rows, into every table of schema public (or only into the
    tables named in `only`); commit."""
    fixtures = fixtures or {}
    if only is not None and not only and not fixtures:
        return SeedResult(inserted={}, problems=[])  # nothing to write: no need to read the schema
    tables = read_schema(connection, None if only is None else set(only) | set(fixtures))
    problems = [SeedProblem(name, "fixtures name a table that does not exist")
                for name in sorted(set(fixtures) - set(tables))]
    order, deferred, on_not_null_cycle = insertion_order(tables)
    fillers = []
    for name in order:
        filler = TableFiller(connection, tables[name], deferred, seed=seed, salt=salt,
                             on_not_null_cycle=name in on_not_null_cycle)
        filler.insert_fixtures(fixtures.get(name, []))
        filler.insert_generated(rows if only is None or name in only else 0)
        fillers.append(filler)
    for filler in fillers:  # now every parent has rows: fill the foreign keys left NULL to break cycles
        filler.fill_deferred_keys()
    connection.commit()
    return SeedResult(inserted={filler.table.name: filler.inserted for filler in fillers},
                      problems=problems + [problem for filler in fillers for problem in filler.problems])


# ---- the schema, from pg_catalog

@dataclass
class Column:
    name: str
    sql_type: str             # as format_type() spells it, for casts
    type: PgType | None       # None: a type we cannot generate values for
    nullable: bool
    has_default: bool
    filled_by_database: bool  # identity, serial (nextval default) or generated column


@dataclass
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


@dataclass
class Table:
    name: str
    columns: dict[str, Column]
    unique_keys: list[tuple[str, ...]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    check_columns: set[str] = field(default_factory=set)
    # Text columns a CHECK limits to a list of literals, e.g. CHECK (status IN ('new', 'done')).
    check_choices: dict[str, list[str]] = field(default_factory=dict)
    # Number columns a CHECK bounds, e.g. CHECK (rating >= 1 AND rating <= 5): inclusive (low, high).
    check_bounds: dict[str, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)

    def can_be_null(self, key: ForeignKey) -> bool:
        return all(self.columns[name].nullable for name in key.columns)


def column_names(relation: str, numbers: str) -> str:
    """SQL for the names of the columns listed by number in an int2 array, in that order."""
    return f"""ARRAY(SELECT a.attname::text FROM unnest({numbers}) WITH ORDINALITY k(num, pos)
                     JOIN pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.num ORDER BY k.pos)"""


# What the filler needs to know of the tables, in one round trip: four JSON arrays, of
#   types: the columns' types and the element and base types behind arrays and domains, enums with their labels;
#   columns: [table, column, type oid, typmod, type as SQL, NOT NULL, filled by the database, has a default];
#   constraints: [table, name, kind, columns, parent table, parent columns, definition (of CHECKs only)];
#   unique_indexes: [table, columns] of unique indexes made without a constraint, in creation order (expression
#   parts left out).
# The tables are those of the schema, all or those named; partitions are filled through their parent. Oids are
# cast to int8, which JSON gives as numbers.
SCHEMA_SQL = f"""
    WITH RECURSIVE tables AS (
        SELECT c.oid, c.relname FROM pg_class c
        WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = :schema) AND c.relkind IN ('r', 'p')
          AND NOT c.relispartition AND c.relname <> 'alembic_version' AND (:every_table OR c.relname = ANY(:tables))
    ),
    columns AS (
        SELECT t.relname, a.attname, a.attnum, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod) AS sql_type,
               a.attnotnull, a.attidentity <> '' OR a.attgenerated <> ''
                   OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%' AS filled_by_database,
               d.adbin IS NOT NULL AS has_default
        FROM pg_attribute a JOIN tables t ON t.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        -- = ANY(ARRAY(...)): read table by table through pg_attribute's index, where a join may scan all of it
        WHERE a.attrelid = ANY(ARRAY(SELECT oid FROM tables)) AND a.attnum > 0 AND NOT a.attisdropped
    ),
    used(oid) AS (
        SELECT atttypid FROM columns
        UNION
        SELECT behind FROM pg_type ty JOIN used ON ty.oid = used.oid, unnest(ARRAY[ty.typelem, ty.typbasetype]) AS behind
        WHERE behind <> 0
    )
    SELECT
        (SELECT coalesce(json_agg(ty), '[]') FROM (
            SELECT oid::int8 AS oid, typname, typtype, typcategory, typelem::int8 AS typelem,
                   typbasetype::int8 AS typbasetype, typtypmod, typnotnull,
                   ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = pg_type.oid
                         ORDER BY e.enumsortorder) AS labels
            FROM pg_type WHERE oid = ANY(ARRAY(SELECT oid FROM used))) ty) AS types,
        (SELECT coalesce(json_agg(json_build_array(relname, attname, atttypid::int8, atttypmod, sql_type, attnotnull,
                                                   filled_by_database, has_default)
                                  ORDER BY relname, attnum), '[]')
         FROM columns) AS columns,
        (SELECT coalesce(json_agg(json_build_array(t.relname, con.conname, con.contype,
                                                   {column_names("con.conrelid", "con.conkey")},
                                                   parent.relname, {column_names("con.confrelid", "con.confkey")},
                                                   -- pg_get_constraintdef costs catalog look-ups: only CHECKs need it
                                                   CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid) END)
                                  ORDER BY t.relname, con.conname), '[]')
         FROM tables t JOIN pg_constraint con ON con.conrelid = t.oid
         LEFT JOIN pg_class parent ON parent.oid = con.confrelid
         WHERE con.contype IN ('p', 'u', 'f', 'c')) AS constraints,
        (SELECT coalesce(json_agg(json_build_array(t.relname, {column_names("i.indrelid", "i.indkey::int2[]")})
                                  ORDER BY t.relname, i.indexrelid), '[]')
         FROM tables t JOIN pg_index i ON i.indrelid = t.oid
         -- left out when it backs a constraint of its own table (read above); a foreign key pointing at it does not count
         WHERE i.indisunique AND NOT EXISTS (SELECT FROM pg_constraint con WHERE con.conindid = i.indexrelid
                                             AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')))
         AS unique_indexes"""


def read_schema(connection: Connection, names: set[str] | None = None) -> dict[str, Table]:
    """The tables of schema public (only those named, when names are given) as the filler needs them."""
    type_rows, columns, constraints, unique_indexes = \
        catalog_query(connection, "seed_schema", SCHEMA_SQL, "public", names).one()
    types = {row["oid"]: row for row in type_rows}
    tables: dict[str, Table] = {}
    for name, column_name, type_oid, typmod, sql_type, not_null, by_database, has_default in columns:
        pg_type, domain_not_null = resolve_type(types, type_oid, typmod)
        table = tables.setdefault(name, Table(name, {}))
        table.columns[column_name] = Column(column_name, sql_type, pg_type, not (not_null or domain_not_null),
                                            has_default, by_database)
    for name, constraint, kind, columns, parent, parent_columns, definition in constraints:
        table = tables.get(name)
        if table is None:
            continue
        if kind in ("p", "u"):
            table.unique_keys.append(tuple(columns))
        elif kind == "f":
            table.foreign_keys.append(ForeignKey(constraint, name, tuple(columns), parent, tuple(parent_columns)))
        else:
            table.check_columns.update(columns)
            if len(columns) == 1 and table.columns[columns[0]].type:
                learn_from_check(table, table.columns[columns[0]], definition)
    for name, columns in unique_indexes:
        if name in tables and columns:
            tables[name].unique_keys.append(tuple(columns))
    return tables


def resolve_type(types: dict, oid: int, typmod: int) -> tuple[PgType | None, bool]:
    """The generatable type behind a column type (through domains), and whether a domain forbids NULL."""
    row, not_null = types[oid], False
    while row["typtype"] == "d":
        not_null = not_null or row["typnotnull"]
        typmod = row["typtypmod"] if typmod < 0 else typmod
        row = types[row["typbasetype"]]
    if row["typtype"] == "e":  # an enum without labels has no value to generate: NULL or nothing
        return (PgType("enum", labels=tuple(row["labels"])) if row["labels"] else None), not_null
    if row["typcategory"] == "A" and row["typelem"]:
        element, _ = resolve_type(types, row["typelem"], typmod)
        return (PgType("array", element=element) if element else None), not_null
    return scalar_type(row["typname"], typmod), not_null


def learn_from_check(table: Table, checked: Column, definition: str) -> None:
    """Remember the values a single-column CHECK allows, when it lists them or bounds a number."""
    kind = checked.type.kind
    if kind in TEXT_KINDS and (choices := literal_choices(definition)):
        table.check_choices[checked.name] = choices
    elif kind in NUMBER_KINDS and (bounds := number_bounds(definition, checked)):
        table.check_bounds[checked.name] = bounds


def number_bounds(definition: str, checked: Column) -> tuple[Decimal | None, Decimal | None] | None:
    """Inclusive bounds from comparisons with constants joined by AND, e.g. ((rating >= 1) AND (rating < 6))."""
    if re.search(r"\bOR\b|\bNOT\b|<>", definition):
        return None
    low = high = None
    step = number_step(checked.type)
    name = re.escape(checked.name)
    for operator, number in re.findall(rf'"?{name}"?\s*(>=|>|<=|<)\s*\(*\'?(-?\d+(?:\.\d+)?)', definition):
        limit = Decimal(number)
        if operator.startswith(">"):
            limit = limit + step if operator == ">" else limit
            low = limit if low is None else max(low, limit)
        else:
            limit = limit - step if operator == "<" else limit
            high = limit if high is None else min(high, limit)
    return (low, high) if low is not None or high is not None else None


def literal_choices(check_definition: str) -> list[str]:
    """The string literals of a CHECK that compares with a list of them (IN, = ANY, OR of =), else []."""
    if not re.search(r"= ANY|\bIN\b|\bOR\b", check_definition) or re.search(r"<>|!=|\bNOT\b", check_definition):
        return []
    return [literal.replace("''", "'") for literal in re.findall(r"'((?:[^']|'')*)'", check_definition)]


# ---- insertion order

def insertion_order(tables: dict[str, Table]) -> tuple[list[str], set[tuple[str, str]], set[str]]:
    """Tables parents first, the (table, foreign key) pairs to leave NULL and fill afterwards, and the
    tables on a cycle of NOT NULL foreign keys (inserted anyway: rows already in their parents may do)."""
    deferred = {(table.name, key.name) for table in tables.values() for key in table.foreign_keys
                if key.parent == key.table and table.can_be_null(key)}
    remaining, order, on_cycle = sorted(tables), [], set()

    def waits_on(name: str) -> list[ForeignKey]:
        return [key for key in tables[name].foreign_keys
                if key.parent in remaining and key.parent != name and (name, key.name) not in deferred]

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name == goal:
                return True
            if name not in seen:
                seen.add(name)
                todo.extend(key.parent for key in waits_on(name))
        return False

    while remaining:
        ready = [name for name in remaining if not waits_on(name)]
        if ready:
            order.append(ready[0])
            remaining.remove(ready[0])
            continue
        # Every remaining table waits on another: break a cycle at a nullable foreign key, if there is one.
        breakable = [key for name in remaining for key in waits_on(name)
                     if tables[name].can_be_null(key) and reaches(key.parent, name)]
        if breakable:
            deferred.add((breakable[0].table, breakable[0].name))
            continue
        stuck = next(name for name in remaining if any(reaches(key.parent, name) for key in waits_on(name)))
        on_cycle.add(stuck)
        order.append(stuck)
        remaining.remove(stuck)
    return order, deferred, on_cycle


# ---- filling one table

class TableFiller:
    def __init__(self, connection: Connection, table: Table, deferred: set[tuple[str, str]], *,
                 seed: int, salt: str, on_not_null_cycle: bool):
        self.connection, self.table, self.on_not_null_cycle = connection, table, on_not_null_cycle
        self.random_prefix = f"{seed}|{salt}|{table.name}"
        self.salt_tag = base36(zlib.crc32(f"{seed}|{salt}".encode()) % 36**5).rjust(5, "0")
        self.inserted, self.problems = 0, []
        self.deferred_keys = [key for key in table.foreign_keys if (table.name, key.name) in deferred]
        self.direct_keys = [key for key in table.foreign_keys if key not in self.deferred_keys]
        key_columns = {name for key in table.foreign_keys for name in key.columns}
        self.insert_columns = [c for c in table.columns.values()
                               if not (c.filled_by_database or (c.type is None and not c.nullable and c.has_default))]
        self.generated = [c for c in self.insert_columns if c.name not in key_columns]
        self.unique_columns = {c.name for c in self.generated if c.type and c.type.uniquable
                               and c.name not in table.check_choices
                               and any(c.name in key for key in table.unique_keys)}
        # Unique keys no generated unique value or database-filled column keeps apart (foreign keys, booleans,
        # enums): their values are checked against the ones already used.
        inserted_names = {c.name for c in self.insert_columns}
        self.dedupe_keys = [key for key in table.unique_keys if set(key) <= inserted_names
                            and not any(name in self.unique_columns for name in key)]
        self.self_key_columns = sorted({name for key in self.deferred_keys if key.parent == table.name
                                        for name in key.parent_columns})
        self.clause = table_clause(table.name, *(column(name) for name in table.columns), schema="public")
        self.new_rows: list[tuple] = []  # (ctid, *self_key_columns) of generated rows, to fill deferred keys

    def report(self, reason: str) -> None:
        self.problems.append(SeedProblem(self.table.name, reason))

    def insert_fixtures(self, rows: list[dict]) -> None:
        for number, row in enumerate(rows):
            unknown = sorted(set(row) - set(self.table.columns))
            if unknown:
                self.report(f"fixture row {number}: no column {', '.join(unknown)}")
                continue
            try:
                with self.connection.begin_nested():
                    self.connection.execute(insert(self.clause).values(self.as_sent(row)))
                self.inserted += 1
            except DBAPIError as error:
                self.report(f"fixture row {number}: {one_line(error)}")

    def as_sent(self, row: dict) -> dict:
        """Fixture values as psycopg2 can send them: JSON documents and lists as text."""
        sent = {}
        for name, value in row.items():
            pg_type = self.table.columns[name].type
            if isinstance(value, (dict, list)) and pg_type and pg_type.kind in ("json", "jsonb"):
                value = json.dumps(value, ensure_ascii=False)
            elif isinstance(value, list):
                value = array_literal(value)
            sent[name] = value
        return sent

    # -- generated rows

    def insert_generated(self, rows: int) -> None:
        if rows <= 0:
            return
        blocker = self.unfillable_column() or self.load_existing()
        if blocker:
            self.report(blocker)
            return
        self.rows_wanted = rows
        self.insert_all([self.make_row(index, attempt=0) for index in range(rows)])

    def unfillable_column(self) -> str | None:
        for c in self.insert_columns:
            if c.type is None and not c.nullable:
                return (f"column {c.name} has type {c.sql_type}, which the seeder cannot generate, "
                        "and is NOT NULL without a default")
        return None

    def load_existing(self) -> str | None:
        """Read what the new rows must fit with: row count, column maxima, parent keys, used key values."""
        quoted = self.quote_table()
        ordered = [name for name in sorted(self.unique_columns) if self.table.columns[name].type.kind in ORDERED_KINDS]
        maxima = [f"max({self.quote(name)}){'::numeric' if self.table.columns[name].type.kind == 'money' else ''}"
                  for name in ordered]
        selected = ", ".join(["count(*)", *maxima])  # one round trip for both
        self.existing_rows, *found = self.connection.execute(text(f"SELECT {selected} FROM {quoted}")).one()
        self.maxima = dict(zip(ordered, found))
        self.parent_keys = {key.name: self.read_parent_keys(key) for key in self.table.foreign_keys
                            if key in self.direct_keys or key.parent == self.table.name}
        for key in self.direct_keys:
            if not self.parent_keys[key.name] and not self.table.can_be_null(key):
                cycle = " (it is on a cycle of NOT NULL foreign keys)" if self.on_not_null_cycle else ""
                return f"foreign key {key.name} is NOT NULL but {key.parent} has no rows to point to{cycle}"
        self.used = {key: {freeze(row) for row in self.connection.execute(
            text(f"SELECT {', '.join(map(self.quote, key))} FROM {quoted}"))} for key in self.dedupe_keys}
        self.free_parents = self.unused_parents()
        return None

    def unused_parents(self) -> dict[str, list[tuple]]:
        """For a foreign key that is also unique (one row per parent at most): the parents still without one,
        shuffled. Random picks would keep hitting taken parents once most are taken."""
        free = {}
        for key in self.direct_keys:
            for unique_key in self.dedupe_keys:
                if set(unique_key) <= set(key.columns):
                    positions = [key.columns.index(name) for name in unique_key]
                    used = self.used[unique_key]
                    parents = [parent for parent in self.parent_keys[key.name]
                               if freeze(parent[i] for i in positions) not in used]
                    Random(f"{self.random_prefix}|{key.name}").shuffle(parents)
                    free[key.name] = parents
        return free

    def read_parent_keys(self, key: ForeignKey) -> list[tuple]:
        columns = ", ".join(map(self.quote, key.parent_columns))
        not_null = " AND ".join(f"{self.quote(name)} IS NOT NULL" for name in key.parent_columns)
        query = f"SELECT DISTINCT {columns} FROM public.{self.quote(key.parent)} WHERE {not_null} ORDER BY {columns}"
        return [tuple(row) for row in self.connection.execute(text(query))]

    def make_row(self, index: int, attempt: int) -> dict:
        rng = Random(f"{self.random_prefix}|{index}|{attempt}")
        row = {c.name: self.column_value(c, index, attempt, rng) for c in self.generated}
        for key in self.direct_keys:
            self.pick_parent(row, key, rng, may_be_null=is_null_row(self.table.can_be_null(key), 1, index, rng))
        for key in self.deferred_keys:
            row.update(dict.fromkeys(key.columns))
        self.dedupe(row, rng)
        return row

    def column_value(self, c: Column, index: int, attempt: int, rng: Random) -> object:
        pg_type = c.type
        if pg_type is None:
            return None
        # Enum columns show every label before the first NULL.
        if is_null_row(c.nullable, len(pg_type.labels) or 1, index, rng):
            return None
        if c.name in self.unique_columns:
            step = index + attempt * self.rows_wanted  # retries must not reuse the values of other rows
            if pg_type.kind in ORDERED_KINDS:
                return unique_after(pg_type, self.maxima.get(c.name), step + 1)
            return unique_from_token(pg_type, self.salt_tag + base36(self.existing_rows + step), rng, c.name)
        if pg_type.kind == "enum" and attempt == 0:
            return pg_type.labels[index % len(pg_type.labels)]
        if c.name in self.table.check_choices:
            return rng.choice(self.table.check_choices[c.name])
        if c.name in self.table.check_bounds:
            return bounded_number(pg_type, rng, *self.table.check_bounds[c.name])
        return random_value(pg_type, rng, c.name)

    def pick_parent(self, row: dict, key: ForeignKey, rng: Random, may_be_null: bool) -> None:
        pool = self.parent_keys[key.name]
        if may_be_null or not pool:
            row.update(dict.fromkeys(key.columns))
        elif key.name in self.free_parents:
            free = self.free_parents[key.name]
            # Every parent taken: repeat one and let the database name the unique key that forbids it.
            row.update(zip(key.columns, free.pop() if free else pool[rng.randrange(len(pool))]))
        else:
            row.update(zip(key.columns, pool[rng.randrange(len(pool))]))

    def dedupe(self, row: dict, rng: Random) -> None:
        for unique_key in self.dedupe_keys:
            used = self.used[unique_key]
            for _ in range(DEDUPE_TRIES):
                values = freeze(row[name] for name in unique_key)
                if None in values or values not in used:
                    break
                for key in self.direct_keys:
                    if set(key.columns) & set(unique_key):
                        self.pick_parent(row, key, rng, may_be_null=False)
                for c in self.generated:
                    if c.name in unique_key and c.type:
                        row[c.name] = random_value(c.type, rng, c.name)
            else:  # every try was taken: NULL never collides, else let the database report it
                for name in unique_key:
                    if self.table.columns[name].nullable:
                        row[name] = None
            used.add(freeze(row[name] for name in unique_key))

    def insert_all(self, rows: list[dict]) -> None:
        statement = self.insert_statement()
        done = failed = failures_in_a_row = 0
        first_error = ""
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start:start + BATCH_ROWS]
            try:
                with self.connection.begin_nested():
                    result = self.connection.execute(statement, batch)
                    self.new_rows.extend(result.all() if self.deferred_keys else [])
                done += len(batch)
                continue
            except DBAPIError:
                pass  # find the rows at fault one by one
            for index, row in enumerate(batch, start):
                error = self.insert_one(index, row)
                if error is None:
                    done, failures_in_a_row = done + 1, 0
                    continue
                failed, failures_in_a_row, first_error = failed + 1, failures_in_a_row + 1, first_error or error
                if failures_in_a_row == MAX_FAILURES_IN_A_ROW:
                    break
            if failures_in_a_row == MAX_FAILURES_IN_A_ROW:
                break
        self.inserted += done
        if done == 0:
            self.report(f"no generated row could be inserted: {first_error}")
        elif failed:
            self.report(f"{done} of {len(rows)} generated rows inserted, {failed} failed: {first_error}")

    def insert_statement(self):
        statement = insert(self.clause)
        if self.deferred_keys:
            statement = statement.returning(literal_column("ctid"), *(column(name) for name in self.self_key_columns))
        return statement

    def insert_one(self, index: int, row: dict) -> str | None:
        """Insert one row, with new values when a constraint rejects it; the last database error if none fit."""
        error = None
        for candidate in self.candidates(index, row):
            try:
                with self.connection.begin_nested():
                    result = self.connection.execute(self.insert_statement().values(candidate))
                    self.new_rows.extend(result.all() if self.deferred_keys else [])
                return None
            except DBAPIError as failure:
                if failure.connection_invalidated:
                    raise
                error = one_line(failure)
        return error

    def candidates(self, index: int, row: dict):
        yield row
        for attempt in range(1, RETRIES + 1):
            yield self.make_row(index, attempt)
        yield self.with_defaults(self.make_row(index, RETRIES + 1))

    def with_defaults(self, row: dict) -> dict:
        """Last resort for CHECK constraints: their columns take the column default, else NULL."""
        for name in self.table.check_columns:
            c = self.table.columns[name]
            if name in row and c.has_default:
                del row[name]
            elif name in row and c.nullable:
                row[name] = None
        return row

    # -- foreign keys left NULL at insert time

    def fill_deferred_keys(self) -> None:
        if not self.deferred_keys or not self.new_rows:
            return
        assigned: dict[str, dict[str, object]] = {row[0]: {} for row in self.new_rows}
        new_keys = [tuple(row[1:]) for row in self.new_rows]
        for key in self.deferred_keys:
            if key.parent == self.table.name:  # rows inserted earlier: existing ones, then earlier new ones
                earlier = self.parent_keys[key.name]
                self_positions = [self.self_key_columns.index(name) for name in key.parent_columns]
            else:
                earlier, self_positions = self.read_parent_keys(key), []
            for position, row in enumerate(self.new_rows):
                rng = Random(f"{self.random_prefix}|{key.name}|{position}")
                choices = len(earlier) + (position if self_positions else 0)
                if is_null_row(True, 1, position, rng) or choices == 0:
                    continue
                choice = rng.randrange(choices)
                parent = earlier[choice] if choice < len(earlier) else \
                    tuple(new_keys[choice - len(earlier)][i] for i in self_positions)
                assigned[row[0]].update(zip(key.columns, parent))
        self.update_rows(assigned)

    def update_rows(self, assigned: dict[str, dict[str, object]]) -> None:
        names = list(dict.fromkeys(name for key in self.deferred_keys for name in key.columns))
        rows = [(ctid, *(values.get(name) for name in names)) for ctid, values in assigned.items() if values]
        if not rows:
            return
        columns = ", ".join(map(self.quote, names))
        settings = ", ".join(f"{self.quote(name)} = v.{self.quote(name)}" for name in names)
        template = "(%s::tid, " + ", ".join(f"%s::{self.table.columns[name].sql_type}" for name in names) + ")"
        statement = (f"UPDATE {self.quote_table()} AS t SET {settings} FROM (VALUES %s) AS v(row_ctid, {columns}) "
                     "WHERE t.ctid = v.row_ctid")
        try:
            with self.connection.begin_nested(), self.connection.connection.cursor() as cursor:
                execute_values(cursor, statement, rows, template=template, page_size=BATCH_ROWS)
        except psycopg2.Error as error:
            self.report(f"could not fill foreign keys left NULL to break a cycle: {one_line(error)}")

    # -- helpers

    def quote(self, name: str) -> str:
        return self.connection.dialect.identifier_preparer.quote(name)

    def quote_table(self) -> str:
        return f"public.{self.quote(self.table.name)}"


def is_null_row(nullable: bool, first_nullable_row: int, index: int, rng: Random) -> bool:
    """Which rows of a nullable column are NULL: row `first_nullable_row` always, a share of later ones."""
    if not nullable or index < first_nullable_row:
        return False
    return index == first_nullable_row or rng.random() < NULL_SHARE


def freeze(values) -> tuple:
    """Key values as a hashable tuple (arrays come back from the database as lists)."""
    return tuple(tuple(value) if isinstance(value, list) else value for value in values)


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if number == 0:
            return text


def one_line(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__
