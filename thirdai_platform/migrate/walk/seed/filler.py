"""Filling one table: read what its new rows must fit with, insert the planned rows, fix up deferred keys."""

from __future__ import annotations

import json
import re
import zlib
from random import Random

import psycopg2
from psycopg2.extras import execute_values
from sqlalchemy import column, insert, literal_column
from sqlalchemy import table as table_clause
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from thirdai_platform.errors import message_line
from thirdai_platform.migrate.walk.data import run_sql
from thirdai_platform.migrate.walk.seed.catalog import ForeignKey, Table
from thirdai_platform.migrate.walk.seed.planner import PlanState, RowPlanner, base36, freeze, is_null_row, plan_table
from thirdai_platform.migrate.walk.seed.result import SeedProblem
from thirdai_platform.migrate.walk.values import ORDERED_KINDS, array_literal

BATCH_ROWS = 1000
RETRIES = 3  # fresh values for a row a constraint rejects, before defaults/NULLs are tried
MAX_FAILURES_IN_A_ROW = 10  # then the table is reported rather than every remaining row tried


class TableFiller:
    def __init__(
        self,
        connection: Connection,
        table: Table,
        deferred: set[tuple[str, str]],
        *,
        seed: int,
        salt: str,
        on_not_null_cycle: bool,
        parents_since: int | None = None,
    ):
        self.connection, self.table, self.on_not_null_cycle = connection, table, on_not_null_cycle
        self.parents_since = parents_since  # a transaction id: only parent rows written since then are pointed at
        self.random_prefix = f"{seed}|{salt}|{table.name}"
        self.salt_tag = base36(zlib.crc32(f"{seed}|{salt}".encode()) % 36**5).rjust(5, "0")
        self.inserted, self.problems = 0, []
        self.insert_columns = [
            c
            for c in table.columns.values()
            if not (c.filled_by_database or (c.type is None and not c.nullable and c.has_default))
        ]
        self.plan = plan_table(table, deferred, self.insert_columns)
        self.deferred_keys, self.direct_keys = self.plan.deferred_keys, self.plan.direct_keys
        self.self_key_columns = sorted(
            {name for key in self.deferred_keys if key.parent == table.name for name in key.parent_columns}
        )
        self.clause = table_clause(table.name, *(column(name) for name in table.columns), schema="public")
        # What fill_deferred_keys points the generated rows at: (ctid, *self_key_columns) of each, and the parent
        # keys read before they were inserted.
        self.new_rows: list[tuple] = []
        self.earlier_parent_keys: dict[str, list[tuple]] = {}

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
                self.report(f"fixture row {number}: {message_line(error)}")

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
        """Plan the rows from what the table holds now, then insert them."""
        if rows <= 0:
            return
        blocker = self.unfillable_column() or self.never_true_check()
        if blocker is None:
            state = self.read_state()
            blocker = self.missing_parent(state.parent_keys)
        if blocker:
            self.report(blocker)
            return
        self.earlier_parent_keys = state.parent_keys
        planner = RowPlanner(
            self.plan, state, random_prefix=self.random_prefix, salt_tag=self.salt_tag, rows_wanted=rows
        )
        try:
            planned = [planner.make_row(index, attempt=0) for index in range(rows)]
        except Exception as error:  # noqa: BLE001 - a schema the planner misreads must not stop the walk
            self.report(f"the seeder could not plan rows ({type(error).__name__}: {message_line(error)})")
            return
        self.insert_all(planner, planned)

    def unfillable_column(self) -> str | None:
        for c in self.insert_columns:
            if c.type is None and not c.nullable:
                return (
                    f"column {c.name} has type {c.sql_type}, which the seeder cannot generate, "
                    "and is NOT NULL without a default"
                )
        return None

    def never_true_check(self) -> str | None:
        """A CHECK that reads no column and is false, e.g. CHECK (false): no row can ever pass."""
        for check in self.table.checks:
            if not check.columns and check.test is not None and check.test({}) is False:
                return f'no row can pass check constraint "{check.name}": {check.definition}'
        return None

    def missing_parent(self, parent_keys: dict[str, list[tuple]]) -> str | None:
        """A NOT NULL foreign key whose parent table has no row to point to."""
        for key in self.direct_keys:
            if not parent_keys[key.name] and not self.table.can_be_null(key):
                cycle = " (it is on a cycle of NOT NULL foreign keys)" if self.on_not_null_cycle else ""
                return f"foreign key {key.name} is NOT NULL but {key.parent} has no rows to point to{cycle}"
        return None

    def read_state(self) -> PlanState:
        """Read what the new rows must fit with: row count, column maxima, parent keys, used key values."""
        existing_rows, maxima = self.read_count_and_maxima()
        parent_keys = {
            key.name: self.read_parent_keys(key)
            for key in self.table.foreign_keys
            if key in self.direct_keys or key.parent == self.table.name
        }
        used = {key: self.read_used(key) for key in self.plan.dedupe_keys}
        return PlanState(existing_rows, maxima, parent_keys, used, self.unused_parents(parent_keys, used))

    def read_count_and_maxima(self) -> tuple[int, dict[str, object]]:
        """The table's row count and the maxima of its ordered unique columns, in one round trip."""
        ordered = [
            name for name in sorted(self.plan.unique_columns) if self.table.columns[name].type.kind in ORDERED_KINDS
        ]
        maxima = [
            f"max({self.quote(name)}){'::numeric' if self.table.columns[name].type.kind == 'money' else ''}"
            for name in ordered
        ]
        selected = ", ".join(["count(*)", *maxima])
        count, *found = run_sql(self.connection, f"SELECT {selected} FROM {self.quote_table()}").one()
        return count, dict(zip(ordered, found))

    def read_used(self, key: tuple[str, ...]) -> set[tuple]:
        query = f"SELECT {', '.join(map(self.quote, key))} FROM {self.quote_table()}"
        return {freeze(row) for row in run_sql(self.connection, query)}

    def unused_parents(
        self, parent_keys: dict[str, list[tuple]], used: dict[tuple[str, ...], set[tuple]]
    ) -> dict[str, list[tuple]]:
        """For a foreign key that is also unique (one row per parent at most): the parents still without one,
        shuffled. Random picks would keep hitting taken parents once most are taken."""
        free = {}
        for key in self.direct_keys:
            for unique_key in self.plan.dedupe_keys:
                if set(unique_key) <= set(key.columns):
                    positions = [key.columns.index(name) for name in unique_key]
                    parents = [
                        parent
                        for parent in parent_keys[key.name]
                        if freeze(parent[i] for i in positions) not in used[unique_key]
                    ]
                    Random(f"{self.random_prefix}|{key.name}").shuffle(parents)
                    free[key.name] = parents
        return free

    def read_parent_keys(self, key: ForeignKey) -> list[tuple]:
        columns = ", ".join(map(self.quote, key.parent_columns))
        not_null = " AND ".join(f"{self.quote(name)} IS NOT NULL" for name in key.parent_columns)
        if self.parents_since is not None:
            not_null += f" AND xmin::text::bigint >= {int(self.parents_since)}"
        query = f"SELECT DISTINCT {columns} FROM public.{self.quote(key.parent)} WHERE {not_null} ORDER BY {columns}"
        return [tuple(row) for row in run_sql(self.connection, query)]

    def insert_all(self, planner: RowPlanner, rows: list[dict]) -> None:
        statement = self.insert_statement()
        done = failed = failures_in_a_row = 0
        first_error = ""
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start : start + BATCH_ROWS]
            try:
                with self.connection.begin_nested():
                    result = self.connection.execute(statement, batch)
                    self.new_rows.extend(result.all() if self.deferred_keys else [])
                done += len(batch)
                continue
            except DBAPIError:
                pass  # find the rows at fault one by one
            for index, row in enumerate(batch, start):
                error = self.insert_one(planner, index, row)
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

    def insert_one(self, planner: RowPlanner, index: int, row: dict) -> str | None:
        """Insert one row, with new values when a constraint rejects it; the last database error if none fit."""
        error = None
        for candidate in self.candidates(planner, index, row):
            try:
                with self.connection.begin_nested():
                    result = self.connection.execute(self.insert_statement().values(candidate))
                    self.new_rows.extend(result.all() if self.deferred_keys else [])
                return None
            except DBAPIError as failure:
                if failure.connection_invalidated:
                    raise
                error = self.explained(message_line(failure))
        return error

    def explained(self, error: str) -> str:
        """The database's one line, with the definition of the CHECK it names."""
        named = re.search(r'violates check constraint "([^"]+)"', error)
        check = next((check for check in self.table.checks if named and check.name == named[1]), None)
        return f"{error}: {check.definition}" if check else error

    def candidates(self, planner: RowPlanner, index: int, row: dict):
        yield row
        for attempt in range(1, RETRIES + 1):
            yield planner.make_row(index, attempt)
        yield self.with_defaults(planner.make_row(index, RETRIES + 1))

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
                earlier = self.earlier_parent_keys[key.name]
                self_positions = [self.self_key_columns.index(name) for name in key.parent_columns]
            else:
                earlier, self_positions = self.read_parent_keys(key), []
            for position, row in enumerate(self.new_rows):
                rng = Random(f"{self.random_prefix}|{key.name}|{position}")
                choices = len(earlier) + (position if self_positions else 0)
                if is_null_row(True, 1, position, rng) or choices == 0:
                    continue
                choice = rng.randrange(choices)
                parent = (
                    earlier[choice]
                    if choice < len(earlier)
                    else tuple(new_keys[choice - len(earlier)][i] for i in self_positions)
                )
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
        statement = (
            f"UPDATE {self.quote_table()} AS t SET {settings} FROM (VALUES %s) AS v(row_ctid, {columns}) "
            "WHERE t.ctid = v.row_ctid"
        )
        try:
            with self.connection.begin_nested(), self.connection.connection.cursor() as cursor:
                execute_values(cursor, statement, rows, template=template, page_size=BATCH_ROWS)
        except psycopg2.Error as error:
            self.report(f"could not fill foreign keys left NULL to break a cycle: {message_line(error)}")

    # -- helpers

    def quote(self, name: str) -> str:
        return self.connection.dialect.identifier_preparer.quote(name)

    def quote_table(self) -> str:
        return f"public.{self.quote(self.table.name)}"
