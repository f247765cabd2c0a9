"""The rows to insert into one table, planned in Python from what the database already holds (PlanState).

Planning is apart from writing: the filler reads the state once, the planner makes rows that fit it (unique
keys unused, parents that exist, CHECK constraints met as far as the seeder can evaluate them), and the
database has the last word on each row.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from random import Random

from thirdai_platform.migrate.seed.catalog import Column, ForeignKey, Table
from thirdai_platform.migrate.seed.checks import Domain
from thirdai_platform.migrate.seed.draw import draw
from thirdai_platform.migrate.seed.fakes import Fakes, kind_of_column
from thirdai_platform.migrate.values import ORDERED_KINDS, TEXT_KINDS, random_value, unique_after, unique_from_token

NULL_SHARE = 0.2      # of the rows of a nullable column, besides the one that is always NULL
DEDUPE_TRIES = 20
CHECK_DRAWS = 40      # new values for a CHECK's columns before the row is left to the database
CHECK_NULL_SHARE = 0.3
NO_LIMITS = Domain()


@dataclass
class PlanState:
    """What new rows must fit with, read from the database before planning starts."""
    existing_rows: int = 0
    maxima: dict[str, object] = field(default_factory=dict)          # of ordered unique columns
    parent_keys: dict[str, list[tuple]] = field(default_factory=dict)  # by foreign key name
    used: dict[tuple[str, ...], set[tuple]] = field(default_factory=dict)  # by unique key
    free_parents: dict[str, list[tuple]] = field(default_factory=dict)  # parents a one-to-one key has not used


@dataclass
class TablePlan:
    """How a table's columns are filled; fixed by the schema alone."""
    table: Table
    generated: list[Column]           # columns given a value here, not through a foreign key
    direct_keys: list[ForeignKey]     # foreign keys set at insert time
    deferred_keys: list[ForeignKey]   # left NULL, filled after every table has rows
    unique_columns: set[str]          # generated unique: counted up or built from a token
    dedupe_keys: list[tuple[str, ...]]  # unique keys kept apart by checking used values


def plan_table(table: Table, deferred: set[tuple[str, str]], insert_columns: list[Column]) -> TablePlan:
    deferred_keys = [key for key in table.foreign_keys if (table.name, key.name) in deferred]
    direct_keys = [key for key in table.foreign_keys if key not in deferred_keys]
    key_columns = {name for key in table.foreign_keys for name in key.columns}
    generated = [c for c in insert_columns if c.name not in key_columns]
    unique_columns = {c.name for c in generated if c.type and c.type.uniquable and drawn_freely(table, c.name)
                      and any(c.name in key for key in table.unique_keys)}
    # Unique keys no generated unique value or database-filled column keeps apart (foreign keys, booleans,
    # enums, columns a CHECK limits): their values are checked against the ones already used.
    inserted_names = {c.name for c in insert_columns}
    dedupe_keys = [key for key in table.unique_keys if set(key) <= inserted_names
                   and not any(name in unique_columns for name in key)]
    return TablePlan(table, generated, direct_keys, deferred_keys, unique_columns, dedupe_keys)


def drawn_freely(table: Table, name: str) -> bool:
    """Whether any value of the type will do: no CHECK lists the column's values or gives it a pattern."""
    domain = table.domains.get(name)
    return domain is None or (domain.choices is None and not domain.patterns)


class RowPlanner:
    def __init__(self, plan: TablePlan, state: PlanState, *, random_prefix: str, salt_tag: str, rows_wanted: int):
        self.plan, self.state, self.table = plan, state, plan.table
        self.random_prefix, self.salt_tag, self.rows_wanted = random_prefix, salt_tag, rows_wanted
        self.fakes = Fakes(random_prefix)
        self.kinds = {c.name: kind_of_column(c.name) for c in plan.generated if c.type and c.type.kind in TEXT_KINDS}
        self.checks = [check for check in self.table.checks if check.test is not None]
        self.generated_names = {c.name for c in plan.generated}

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
        domain = self.table.domains.get(c.name, NO_LIMITS)
        # Enum columns show every label before the first NULL.
        if not domain.not_null and is_null_row(c.nullable, len(pg_type.labels) or 1, index, rng):
            return None
        if c.name in self.plan.unique_columns:
            return self.unique_value(c, index + attempt * self.rows_wanted, rng)
        if pg_type.kind == "enum" and attempt == 0 and domain is NO_LIMITS:
            return pg_type.labels[index % len(pg_type.labels)]
        return self.draw(c, domain, rng)

    def draw(self, c: Column, domain: Domain, rng: Random) -> object:
        kind = self.kinds.get(c.name)
        if kind is None:
            plain = lambda: random_value(c.type, rng, c.name)  # noqa: E731
        else:
            plain = lambda: fitting(self.fakes.value(kind, rng), c) or random_value(c.type, rng, c.name)  # noqa: E731
        return plain() if domain is NO_LIMITS else draw(c.type, domain, rng, plain)

    def unique_value(self, c: Column, step: int, rng: Random) -> object:
        """Retries (step past the rows wanted) never reuse the values of other rows."""
        if c.type.kind in ORDERED_KINDS:
            return unique_after(c.type, self.state.maxima.get(c.name), step + 1)
        token = self.salt_tag + base36(self.state.existing_rows + step)
        kind = self.kinds.get(c.name)
        if kind and (value := fitting(self.fakes.unique_value(kind, token, rng), c)):
            return value
        # The scope keeps generated keys (UUIDs...) apart across tables: data copied between them never collides.
        pg_type = c.type
        if (longest := self.table.domains.get(c.name, NO_LIMITS).max_length) is not None:
            pg_type = replace(pg_type, length=min(longest, pg_type.length or longest))
        return unique_from_token(pg_type, token, rng, c.name, scope=f"{self.table.name}.{c.name}")

    def meet_checks(self, row: dict, rng: Random) -> None:
        """Draw new values for the columns of a CHECK the row breaks, until it passes (or give up)."""
        for check in self.checks:
            if check.test(row) is not False:
                continue
            columns = [c for c in self.plan.generated if c.name in check.columns and c.type
                       and c.name not in self.plan.unique_columns]
            for _ in range(CHECK_DRAWS if columns else 0):
                for c in columns:
                    domain = self.table.domains.get(c.name, NO_LIMITS)
                    may_be_null = c.nullable and not domain.not_null and rng.random() < CHECK_NULL_SHARE
                    row[c.name] = None if may_be_null else self.draw(c, domain, rng)
                if check.test(row) is not False:
                    break

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
                        row[c.name] = self.draw(c, self.table.domains.get(c.name, NO_LIMITS), rng)
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
