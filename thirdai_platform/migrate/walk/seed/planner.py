"""The rows to insert into one table, planned in Python from what the database already holds (PlanState).

Planning is apart from writing: the filler reads the state once, the planner makes rows that fit it (unique
keys unused, parents that exist, CHECK constraints met as far as the seeder can evaluate them), and the
database has the last word on each row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from random import Random

from thirdai_platform.migrate.walk.seed.catalog import Column, ForeignKey, Table
from thirdai_platform.migrate.walk.seed.domain import Check, Domain
from thirdai_platform.migrate.walk.seed.draw import draw
from thirdai_platform.migrate.walk.seed.fakes import Fakes, kind_of_column
from thirdai_platform.migrate.walk.values import (
    INTEGER_MAX,
    NUMBER_KINDS,
    ORDERED_KINDS,
    TEXT_KINDS,
    PgType,
    number_step,
    random_value,
    unique_after,
    unique_from_token,
)

NULL_SHARE = 0.2  # of the rows of a nullable column, besides the one that is always NULL
DEDUPE_TRIES = 20
CHECK_DRAWS = 40  # new values for a CHECK's columns before the row is left to the database
CHECK_NULL_SHARE = 0.3
NO_LIMITS = Domain()
UUID_TYPE = PgType("uuid")


@dataclass
class PlanState:
    """What new rows must fit with, read from the database before planning starts."""

    existing_rows: int
    maxima: dict[str, object]  # of ordered unique columns
    parent_keys: dict[str, list[tuple]]  # by foreign key name
    used: dict[tuple[str, ...], set[tuple]]  # by unique key
    free_parents: dict[str, list[tuple]]  # parents a one-to-one key has not used


@dataclass
class TablePlan:
    """How a table's columns are filled; fixed by the schema alone."""

    table: Table
    generated: list[Column]  # columns given a value here, not through a foreign key
    direct_keys: list[ForeignKey]  # foreign keys set at insert time
    deferred_keys: list[ForeignKey]  # left NULL, filled after every table has rows
    unique_columns: set[str]  # generated unique: counted up or built from a token
    dedupe_keys: list[tuple[str, ...]]  # unique keys kept apart by checking used values


def plan_table(table: Table, deferred: set[tuple[str, str]], insert_columns: list[Column]) -> TablePlan:
    deferred_keys = [key for key in table.foreign_keys if (table.name, key.name) in deferred]
    direct_keys = [key for key in table.foreign_keys if key not in deferred_keys]
    key_columns = {name for key in table.foreign_keys for name in key.columns}
    generated = [c for c in insert_columns if c.name not in key_columns]
    unique_columns = {
        c.name
        for c in generated
        if c.type
        and c.type.uniquable
        and made_unique(table, c.name)
        and any(c.name in key for key in table.unique_keys)
    }
    # Unique keys no generated unique value or database-filled column keeps apart (foreign keys, booleans,
    # enums, columns a CHECK limits): their values are checked against the ones already used.
    inserted_names = {c.name for c in insert_columns}
    dedupe_keys = [
        key
        for key in table.unique_keys
        if set(key) <= inserted_names and not any(name in unique_columns for name in key)
    ]
    return TablePlan(table, generated, direct_keys, deferred_keys, unique_columns, dedupe_keys)


def made_unique(table: Table, name: str) -> bool:
    """Whether the column's values are made unique (counted up, or built from a token), not drawn and checked
    against used ones: not when a CHECK lists its values or gives a pattern, and when it bounds them (e.g.
    rating BETWEEN 1 AND 10), only for a key of that column alone."""
    domain = table.domains.get(name)
    if domain is None:
        return True
    if domain.choices is not None or domain.patterns:
        return False
    bounded = any(limit is not None for limit in (domain.low, domain.high, domain.min_length, domain.max_length))
    return not bounded or (name,) in table.unique_keys


class RowPlanner:
    def __init__(self, plan: TablePlan, state: PlanState, *, random_prefix: str, salt_tag: str, rows_wanted: int):
        self.plan, self.state, self.table = plan, state, plan.table
        self.random_prefix, self.salt_tag, self.rows_wanted = random_prefix, salt_tag, rows_wanted
        self.fakes = Fakes(random_prefix)
        self.kinds = {c.name: kind_of_column(c.name) for c in plan.generated if c.type and c.type.kind in TEXT_KINDS}
        self.checks = [check for check in self.table.checks if check.test is not None]
        self.domains = {c.name: self.table.domains.get(c.name, NO_LIMITS) for c in plan.generated}
        self.drawers = {c.name: self.drawer(c) for c in plan.generated if c.type}

    def make_row(self, index: int, attempt: int) -> dict:
        rng = Random(f"{self.random_prefix}|{index}|{attempt}")
        row = {c.name: self.column_value(c, index, attempt, rng) for c in self.plan.generated}
        for key in self.plan.direct_keys:
            self.pick_parent(row, key, rng, may_be_null=is_null_row(self.table.can_be_null(key), 1, index, rng))
        for key in self.plan.deferred_keys:
            row.update(dict.fromkeys(key.columns))
        self.meet_checks(row, rng)
        self.dedupe(row, rng)
        return row

    def column_value(self, c: Column, index: int, attempt: int, rng: Random) -> object:
        pg_type = c.type
        if pg_type is None:
            return None
        domain = self.domains[c.name]
        # Enum columns show every label before the first NULL.
        if not domain.not_null and is_null_row(c.nullable, len(pg_type.labels) or 1, index, rng):
            return None
        if c.name in self.plan.unique_columns:
            return self.unique_value(c, index + attempt * self.rows_wanted, rng)
        if pg_type.kind == "enum" and attempt == 0 and domain is NO_LIMITS:
            return pg_type.labels[index % len(pg_type.labels)]
        return self.drawers[c.name](rng)

    def drawer(self, c: Column) -> Callable[[Random], object]:
        """How to draw a value of the column (not a unique one): a realistic one when its name tells what it
        holds, within what its CHECKs allow."""
        kind, domain, pg_type, name = self.kinds.get(c.name), self.domains[c.name], c.type, c.name

        def plain(rng: Random) -> object:
            if kind is not None and (value := fitting(self.fakes.value(kind, rng), c)):
                return value
            return random_value(pg_type, rng, name)

        if domain is NO_LIMITS:
            return plain
        return lambda rng: draw(pg_type, domain, rng, lambda: plain(rng))

    def unique_value(self, c: Column, step: int, rng: Random) -> object:
        """Retries (step past the rows wanted) never reuse the values of other rows."""
        if c.type.kind in ORDERED_KINDS:
            return unique_after(c.type, self.count_from(c), step + 1)
        token = self.salt_tag + base36(self.state.existing_rows + step)
        # The scope keeps generated keys (UUIDs...) apart across tables: data copied between them never collides.
        scope = f"{self.table.name}.{c.name}"
        kind = self.kinds.get(c.name)
        if kind == "uuid":  # a text column holding UUIDs
            return fitting(unique_from_token(UUID_TYPE, token, rng, scope=scope), c) or token
        if kind and (value := fitting(self.fakes.unique_value(kind, token, rng), c)):
            return value
        pg_type = c.type
        if (longest := self.table.domains.get(c.name, NO_LIMITS).max_length) is not None:
            pg_type = replace(pg_type, length=min(longest, pg_type.length or longest))
        return unique_from_token(pg_type, token, rng, c.name, scope=scope)

    def count_from(self, c: Column) -> object:
        """Where unique numbers count up from: the column's maximum, or just under a CHECK's lower bound."""
        current, domain = self.state.maxima.get(c.name), self.domains[c.name]
        if domain.low is None or c.type.kind not in NUMBER_KINDS:
            return current
        below = Decimal(str(domain.low)) - (number_step(c.type) if domain.low_inclusive else 0)
        if c.type.kind in INTEGER_MAX:
            below = int(below.to_integral_value(rounding="ROUND_CEILING" if domain.low_inclusive else "ROUND_FLOOR"))
        return below if current is None or current < below else current

    def meet_checks(self, row: dict, rng: Random) -> None:
        """Draw new values for the columns of a CHECK the row breaks, until it passes (or give up)."""
        for check in self.checks:
            if check.test(row) is not False:
                continue
            columns = [
                c
                for c in self.plan.generated
                if c.name in check.columns and c.type and c.name not in self.plan.unique_columns
            ]
            for _ in range(CHECK_DRAWS if columns else 0):
                self.redraw(row, columns, check, rng)
                if check.test(row) is not False:
                    break

    def redraw(self, row: dict, columns: list[Column], check: Check, rng: Random) -> None:
        """New values for the columns, each OR of the check taking one of its alternatives at random."""
        chosen: dict[str, Domain] = {}
        for alternatives in check.alternatives:
            chosen.update(alternatives[rng.randrange(len(alternatives))])
        for c in columns:
            domain = chosen.get(c.name) or self.domains[c.name]
            if c.nullable and not domain.not_null and rng.random() < CHECK_NULL_SHARE:
                row[c.name] = None
            elif c.name in chosen:
                row[c.name] = draw(c.type, domain, rng, lambda: self.drawers[c.name](rng))
            else:
                row[c.name] = self.drawers[c.name](rng)

    def pick_parent(self, row: dict, key: ForeignKey, rng: Random, may_be_null: bool) -> None:
        pool = self.state.parent_keys[key.name]
        if may_be_null or not pool:
            row.update(dict.fromkeys(key.columns))
        elif key.name in self.state.free_parents:
            free = self.state.free_parents[key.name]
            # Every parent taken: repeat one and let the database name the unique key that forbids it.
            row.update(zip(key.columns, free.pop() if free else pool[rng.randrange(len(pool))]))
        else:
            row.update(zip(key.columns, pool[rng.randrange(len(pool))]))

    def dedupe(self, row: dict, rng: Random) -> None:
        for unique_key in self.plan.dedupe_keys:
            used = self.state.used[unique_key]
            for _ in range(DEDUPE_TRIES):
                values = freeze(row[name] for name in unique_key)
                if None in values or values not in used:
                    break
                for key in self.plan.direct_keys:
                    if set(key.columns) & set(unique_key):
                        self.pick_parent(row, key, rng, may_be_null=False)
                for c in self.plan.generated:
                    if c.name in unique_key and c.type:
                        row[c.name] = self.drawers[c.name](rng)
            else:  # every try was taken: NULL never collides, else let the database report it
                for name in unique_key:
                    if self.table.columns[name].nullable:
                        row[name] = None
            used.add(freeze(row[name] for name in unique_key))


def fitting(value: str | None, c: Column) -> str | None:
    """A realistic value when it fits the column's length, else None (the plain generator takes over)."""
    if value is None or (c.type.length is not None and len(value) > c.type.length):
        return None
    return value


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
