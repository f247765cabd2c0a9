"""The walk: every revision goes up, down and up again on one database filling up with data, and must keep it.

For each revision r with parent state p, in topological order (see NOTES "the data-survival check"):
  at p: seed rows, copy the data (before)     → upgrade → check nothing vanished, copy (after upgrade)
  at r: seed rows, copy (written at r)        → downgrade → schema and data must equal `before`
                                              → upgrade again → schema and data must equal `after upgrade`
A failing leg is a finding; the walk resets the database, climbs back to the next revision's parent and goes on.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from alembic.config import Config
from alembic.script import Script
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection

from thirdai_platform.errors import UserError
from thirdai_platform.migrate import data
from thirdai_platform.migrate.data import Comparison, DataCopies, TableCopy, live
from thirdai_platform.migrate.drift import model_drift
from thirdai_platform.migrate.findings import FAILURE, NOTE, Finding, RevisionResult, WalkReport
from thirdai_platform.migrate.runner import Runner, StepFailed
from thirdai_platform.migrate.scope import revision_reach, tables_in_scope
from thirdai_platform.migrate.schema import (TABLE_PARTS, SchemaSnapshot, column_type, column_type_name, compare_schemas,
                                             merged, restricted, schema_snapshot)
from thirdai_platform.migrate.seed import seed_database

UPGRADE, DOWNGRADE, UPGRADE_AGAIN = "upgrade", "downgrade", "upgrade again"
# Rows "the new version writes" at a revision prove what a round trip does to them; past this many, more rows only
# make a production-size rehearsal (--rows 100000) slower without proving more.
MOST_ROWS_WRITTEN_AT_REVISION = 1000
LEGS = (UPGRADE, DOWNGRADE, UPGRADE_AGAIN)


@dataclass(frozen=True)
class WalkOptions:
    rows: int = 5
    seed: int = 0
    check_drift: bool = True
    from_current: bool = False  # start from the revision the database is at (a restored dump) instead of empty


class Declared:
    """What a revision says it loses on purpose: `data_loss = {"upgrade": ["table", "table.column"], ...}`.

    A loss counts only for its direction; data a downgrade loses is also missing after the upgrade that follows."""

    def __init__(self, script: Script, direction: str):
        declared = getattr(script.module, "data_loss", None) or {}
        self.entries = set(declared.get(direction, []))

    def covers(self, table: str, column: str | None = None) -> bool:
        return table in self.entries or (column is not None and f"{table}.{column}" in self.entries)


def fixtures(script: Script, when: str) -> dict[str, list[dict]]:
    return (getattr(script.module, "fixtures", None) or {}).get(when, {})


def type_of(schema: SchemaSnapshot, table: str, column: str) -> str:
    return column_type(schema.objects["column"][f"{table}.{column}"])


class RevisionWalk:
    """The three legs of one revision, each followed by its checks. The checks cover the tables the revision acts on,
    each in one query for all of them, so a revision costs about the same at the 400th revision as at the 5th."""

    def __init__(self, runner: Runner, script: Script, options: WalkOptions, parent: SchemaSnapshot, seed_all: bool,
                 filled: set[str]):
        self.runner, self.script, self.options, self.parent = runner, script, options, parent
        # The tables its SQL names (and those they reach) are the ones read, copied and compared; None: every table.
        reach = revision_reach(runner.config, runner.script, script.revision)
        self.tables = None if reach is None else tables_in_scope(reach, [parent]) | reach.names
        self.seed_all = seed_all  # a freshly restored database: add rows to every table before the upgrade
        # Tables known to hold rows, that no revision has reached since: shared along the walk, so that finding the
        # empty tables costs what the revision reaches, not what the schema holds.
        self.filled = filled
        self.connection = runner.connection
        self.lost_on_upgrade, self.lost_on_downgrade = Declared(script, "upgrade"), Declared(script, "downgrade")
        self.result = RevisionResult(script.revision, (script.doc or "").strip())
        self.copies: list[DataCopies] = []
        self.touched: set[str] = set()  # tables whose schema or data the upgrade changed: rows are written there at r
        self.final_schema: SchemaSnapshot | None = None  # after the last leg: the next revision's parent

    def lost_either_way(self, table: str, column: str | None = None) -> bool:
        """Back at the parent, what the upgrade lost is as gone as what the downgrade lost."""
        return self.lost_on_upgrade.covers(table, column) or self.lost_on_downgrade.covers(table, column)

    def find(self, leg: str, message: str, severity: str = FAILURE, **where) -> None:
        self.result.findings.append(Finding(self.script.revision, leg, severity, message, **where))

    def snapshot(self) -> SchemaSnapshot:
        return schema_snapshot(self.connection, tables=self.tables)

    def copy(self, schema: SchemaSnapshot, unchanged: dict[str, TableCopy] | None = None) -> DataCopies:
        """A copy of the data of every table in schema; the `unchanged` tables' earlier copies stand for theirs."""
        lent = {t: c for t, c in (unchanged or {}).items() if t in schema.columns}
        copies = DataCopies(self.connection, {t: c for t, c in schema.columns.items() if t not in lent}, lent)
        self.copies.append(copies)
        return copies

    def seed(self, when: str, only: set[str] | None, rows: int) -> set[str]:
        """Returns the tables it could not fill."""
        outcome = seed_database(self.connection, rows=rows, seed=self.options.seed, only=only,
                                salt=f"{self.script.revision}:{when}", fixtures=fixtures(self.script, when))
        for problem in outcome.problems:
            self.find("seed", f"cannot fill table {problem.table}: {problem.reason}", table=problem.table)
        return {problem.table for problem in outcome.problems}

    def leg(self, name: str, step: Callable[[Script], None]) -> bool:
        started = time.perf_counter()
        try:
            step(self.script)
        except StepFailed as failure:
            self.result.legs[name] = "failed"
            self.find(name, f"{name} failed: {failure.error}", statement=failure.statement)
            return False
        finally:
            # At production size (--rows, --from-dump) these are the lock times a deploy would see.
            self.result.leg_seconds[name] = time.perf_counter() - started
        self.result.legs[name] = "ok"
        return True

    def run(self) -> RevisionResult:
        started = time.perf_counter()
        try:
            self.walk()
        finally:
            data.forget_copies(self.connection, self.copies)
            self.forget_reached_tables()
            self.result.seconds = time.perf_counter() - started
        return self.result

    def forget_reached_tables(self) -> None:
        """The legs may have emptied the tables this revision reached: the next revision looks at them again."""
        if self.tables is None:
            self.filled.clear()
        else:
            self.filled -= self.tables

    def walk(self) -> None:
        parent = self.parent if self.tables is None else restricted(self.parent, self.tables)
        # Tables keep what earlier revisions wrote; only empty ones get rows here (a table created by the previous
        # revision loses its rows in that revision's round trip). New rows go where this revision acts, at r.
        # Every empty table, in scope or not: a table's rows need parents to point to.
        unknown = [t for t in self.parent.columns if t not in self.filled]
        empty = None if self.seed_all else data.empty_tables(self.connection, unknown)
        not_filled = self.seed("before", only=empty, rows=self.options.rows)
        self.filled.update(set(self.parent.columns) - not_filled)
        before = self.copy(parent)
        if not self.leg(UPGRADE, self.runner.upgrade):
            return
        at_revision = self.snapshot()
        self.check_upgrade(before, parent, at_revision)
        self.touched = self.touched_tables(before, parent, at_revision)
        # The data of a table the upgrade did not touch is still its `before` copy, and no rows are written into it.
        after_upgrade = self.copy(at_revision, unchanged=self.untouched(before))
        self.seed("at", only=self.touched, rows=min(self.options.rows, MOST_ROWS_WRITTEN_AT_REVISION))
        written = self.copy(at_revision, unchanged=self.untouched(after_upgrade))
        self.result.rows_checked = sum(c.count for c in before.tables.values()) + sum(c.count for c in written.tables.values())
        if not self.leg(DOWNGRADE, self.runner.downgrade):
            return
        back = self.snapshot()
        self.check_schema(DOWNGRADE, parent, back)
        self.check_downgrade(before, after_upgrade, written, back)
        if not self.leg(UPGRADE_AGAIN, self.runner.upgrade):
            return
        again = self.snapshot()
        self.check_schema(UPGRADE_AGAIN, at_revision, again)
        self.check_upgrade_again(parent, after_upgrade, written, again)
        self.final_schema = again if self.tables is None else merged(self.parent, again, self.tables)

    def touched_tables(self, before: DataCopies, parent: SchemaSnapshot, now: SchemaSnapshot) -> set[str]:
        """Tables the upgrade created or changed in schema or data, and tables using an enum type it changed."""
        touched, enums = set(), set()
        for difference in compare_schemas(parent, now):
            if difference.kind == "enum":
                enums.add(difference.name)
            elif difference.kind in TABLE_PARTS or difference.kind == "table":
                touched.add(difference.name.split(".")[0])
        for name, description in now.objects["column"].items():
            if column_type_name(description) in enums:
                touched.add(name.split(".")[0])
        unchanged = [t for t in before.tables if t in now.columns and t not in touched]
        pairs = {t: (before.tables[t].rows, live(t), list(before.tables[t].columns)) for t in unchanged}
        changed = set(unchanged) - data.same_rows(self.connection, pairs)
        return (touched | changed) & set(now.columns)

    def untouched(self, copies: DataCopies) -> dict[str, TableCopy]:
        return {t: c for t, c in copies.tables.items() if t not in self.touched}

    # -- checks -----------------------------------------------------------------------------------------------

    def check_schema(self, leg: str, expected: SchemaSnapshot, now: SchemaSnapshot) -> None:
        for difference in compare_schemas(expected, now):
            severity = NOTE if difference.kind == "column_order" else FAILURE
            self.find(leg, f"schema differs from before: {difference}", severity)

    def check_upgrade(self, before: DataCopies, parent: SchemaSnapshot, now: SchemaSnapshot) -> None:
        """Nothing of the parent's data may vanish: rows stay, dropped columns' values must be found somewhere,
        a type change keeps every value."""
        kept_tables = [t for t in before.tables if t in now.columns and not self.lost_on_upgrade.covers(t)]
        for table, remaining in data.count_rows(self.connection, kept_tables).items():
            had = before.tables[table].count
            if remaining < had:
                self.find(UPGRADE, f"upgrade removed {had - remaining} of {had} rows of {table}", table=table, rows=had - remaining)
        retyped = {}
        for table in kept_tables:
            key = parent.primary_key_columns.get(table) or []
            for column in before.tables[table].columns:
                if column in now.columns[table] and type_of(parent, table, column) != type_of(now, table, column):
                    compared = [c for c in key if c in now.columns[table] and c != column] + [column]
                    retyped[(table, column)] = Comparison(before.tables[table].rows, live(table), compared)
        for (table, column), changed in data.missing_rows(self.connection, retyped).items():
            if changed.count:
                old, new = type_of(parent, table, column), type_of(now, table, column)
                self.find(UPGRADE, f"changing {table}.{column} from {old} to {new} altered {changed.count} of "
                                   f"{before.tables[table].count} values"
                                   f"{self.changed_columns(table, retyped[(table, column)].columns, changed.sample, now)}",
                          table=table, column=column, rows=changed.count, sample=changed.sample)
        places = [(t, c) for t, cols in now.columns.items() for c in cols]
        places.sort(key=lambda place: place[1] in parent.columns.get(place[0], []))  # new columns first
        for table, copy in before.tables.items():
            for column in copy.columns:
                if column not in now.columns.get(table, []) and not self.lost_on_upgrade.covers(table, column):
                    dropped = f"column {table}.{column}" if table in now.columns else f"table {table} (column {column})"
                    self.check_moved(copy, table, column, dropped, places)

    def check_moved(self, copy: data.TableCopy, table: str, column: str, dropped: str, places: list[tuple[str, str]]) -> None:
        values = data.distinct_values(self.connection, copy.rows, column)
        if values == 0 or data.values_found_in(self.connection, copy.rows, column, values, places):
            return
        rows = data.count_values(self.connection, copy.rows, column)
        sample = data.row_with_value(self.connection, copy.rows, list(copy.columns), column)
        self.find(UPGRADE, f"upgrade dropped {dropped} holding {values} distinct values in {rows} of {copy.count} rows "
                           "that are found nowhere at this revision: move the data, or declare the loss in data_loss",
                  table=table, column=column, rows=rows, sample=sample)

    def check_downgrade(self, before: DataCopies, after_upgrade: DataCopies, written: DataCopies, now: SchemaSnapshot) -> None:
        """Back at the parent: every row as it was before the upgrade, and the rows written at r still there."""
        restored = {}
        for table, copy in before.tables.items():
            if table in now.columns and not self.lost_either_way(table):
                columns = [c for c in copy.columns if c in now.columns[table] and not self.lost_either_way(table, c)]
                restored[table] = Comparison(copy.rows, live(table), columns, likely_equal=table not in self.touched)
        for table, missing in data.missing_rows(self.connection, restored).items():
            if missing.count:
                copy = before.tables[table]
                self.find(DOWNGRADE, f"{missing.count} of {copy.count} rows of {table} are not as they were before the "
                                     f"upgrade{self.changed_columns(table, restored[table].columns, missing.sample, now)}",
                          table=table, rows=missing.count, sample=missing.sample)
        carried_back = [t for t in written.tables if t in before.tables and t in now.columns and not self.lost_either_way(t)]
        for table, rows_now in data.count_rows(self.connection, carried_back).items():
            written_here = written.tables[table].count - after_upgrade.tables[table].count
            kept = rows_now - before.tables[table].count
            if kept < written_here:
                self.find(DOWNGRADE, f"downgrade removed {written_here - kept} of the {written_here} rows written into "
                                     f"{table} at this revision", table=table, rows=written_here - kept)

    def changed_columns(self, table: str, columns: list[str], sample: dict | None, now: SchemaSnapshot) -> str:
        """'; changed: a 'x' → 'y'' for the sample row, found again by its primary key (when the table has one)."""
        key = now.primary_key_columns.get(table) or []
        if not sample or not key or any(k not in sample for k in key):
            return ""
        current = data.row_by_key(self.connection, live(table), columns, {k: sample[k] for k in key})
        if current is None:
            return " (the row is gone)"
        changed = [c for c in columns if current.get(c) != sample.get(c)]
        return f"; changed: {', '.join(f'{c} {sample.get(c)!r} → {current.get(c)!r}' for c in changed[:3])}" if changed else ""

    def check_upgrade_again(self, parent: SchemaSnapshot, after_upgrade: DataCopies, written: DataCopies,
                            now: SchemaSnapshot) -> None:
        """Up again: the parent's rows exactly as after the first upgrade; rows written at r as far as p can carry them."""
        columns = {t: [c for c in copy.columns if not self.lost_on_downgrade.covers(t, c)]
                   for t, copy in after_upgrade.tables.items() if not self.lost_on_downgrade.covers(t)}
        same = {t: Comparison(after_upgrade.tables[t].rows, live(t), cols, likely_equal=t not in self.touched)
                for t, cols in columns.items()}
        differing = set()
        for table, missing in data.missing_rows(self.connection, same).items():
            if missing.count:
                differing.add(table)
                self.find(UPGRADE_AGAIN, f"{missing.count} of {after_upgrade.tables[table].count} rows of {table} differ "
                                         f"from the first upgrade{self.changed_columns(table, columns[table], missing.sample, now)}",
                          table=table, rows=missing.count, sample=missing.sample)
        carried, complete = {}, {}
        for table in columns.keys() - differing:
            written_here = written.tables[table].count - after_upgrade.tables[table].count
            if table not in parent.columns:
                if written_here:
                    self.find(UPGRADE_AGAIN, f"the {written_here} rows written at this revision into {table}, a table "
                                             "that does not exist at the parent, are gone after the round trip", NOTE,
                              table=table, rows=written_here)
                continue
            written_rows, earlier = written.tables[table].rows, after_upgrade.tables[table].rows
            carried[table] = Comparison(written_rows, live(table), [c for c in columns[table] if c in parent.columns[table]], earlier)
            complete[table] = Comparison(written_rows, live(table), columns[table], earlier)
        lost = data.missing_rows(self.connection, carried)
        for table, missing in lost.items():
            if missing.count:
                self.find(UPGRADE_AGAIN, f"{missing.count} rows written into {table} at this revision did not survive the "
                                         "downgrade and upgrade", table=table, rows=missing.count, sample=missing.sample)
        only_here = {t: c for t, c in complete.items() if not lost[t].count and len(c.columns) > len(carried[t].columns)}
        for table, missing in data.missing_rows(self.connection, only_here).items():
            if missing.count:
                gone = [c for c in only_here[table].columns if c not in carried[table].columns]
                self.find(UPGRADE_AGAIN, f"values written at this revision into {table}.{{{', '.join(gone)}}} cannot exist "
                                         "at the parent and are gone after the round trip", NOTE, table=table, rows=missing.count)


def reset_schema(connection: Connection) -> None:
    connection.rollback()
    connection.execute(text("DROP SCHEMA public CASCADE"))
    connection.execute(text("CREATE SCHEMA public"))
    connection.commit()


def ensure_empty(connection: Connection) -> None:
    tables = connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one()
    if tables:
        raise UserError(f"the walk needs an empty database, this one has {tables} tables")


def climb_to(runner: Runner, order: list[Script], target: Script) -> None:
    """From an empty schema, apply every ancestor of target (no checks): the state the target's walk starts from."""
    ancestors = {r.revision for r in runner.script.revision_map.iterate_revisions(target.revision, "base")} - {target.revision}
    for revision in order:
        if revision.revision in ancestors:
            runner.upgrade(revision)


@dataclass(frozen=True)
class Part:
    """Some consecutive revisions of the history, walked on a database of their own (see parallel.py). A part that
    does not start at base starts as the walk does after a failure: its first parent climbed to on an empty schema."""

    revisions: tuple[str, ...]
    first: bool  # starts at base: checks the heads
    last: bool  # ends at the head: checks the models for drift


def walk(runner: Runner, options: WalkOptions = WalkOptions(),
         on_revision: Callable[[RevisionResult], None] | None = None, part: Part | None = None) -> WalkReport:
    """Walk every revision (or those of `part`); with options.from_current, only those after the revisions the
    database already has (a restored dump), else the database must be empty."""
    started = time.perf_counter()
    connection = runner.connection
    # The catalog queries of the schema snapshots are prepared once; planning them anew each time costs more than
    # running them, so let PostgreSQL keep one plan. It changes how queries are planned, never what they return.
    connection.execute(text("SET plan_cache_mode = force_generic_plan"))
    connection.commit()
    applied = already_applied(runner) if options.from_current else set()
    if not applied:
        ensure_empty(connection)
    report = WalkReport()

    def record(result: RevisionResult) -> None:
        report.revisions.append(result)
        if on_revision:
            on_revision(result)

    heads = runner.script.get_heads()
    if len(heads) > 1 and (part is None or part.first):
        report.findings.append(Finding(None, "heads", FAILURE, f"the history has {len(heads)} heads: {', '.join(heads)}; "
                                                               "join them with `inv db.merge`"))
    order = [script for script in runner.revisions() if script.revision not in applied]
    if part is not None:
        order = [script for script in order if script.revision in part.revisions]
    broken, schema, filled = part is not None and not part.first, None, set()
    cannot_upgrade: set[str] = set()  # revisions already reported as failing to upgrade
    for script in order:
        if broken:
            reset_schema(connection)
            schema = None
            filled.clear()
            try:
                climb_to(runner, runner.revisions(), script)
            except StepFailed as failure:
                result = RevisionResult(script.revision, (script.doc or "").strip(), legs={leg: "skipped" for leg in LEGS})
                # an ancestor walked by an earlier part: reported by that part
                if failure.revision in cannot_upgrade or (part is not None and failure.revision not in part.revisions):
                    result.findings.append(Finding(script.revision, "setup", NOTE, f"not walked: its ancestor "
                                                   f"{failure.revision} does not upgrade (reported there)"))
                else:
                    result.findings.append(Finding(script.revision, "setup", FAILURE, f"cannot reach its parent on a "
                                                   f"fresh database: {failure}", statement=failure.statement))
                    cannot_upgrade.add(failure.revision)
                record(result)
                continue
        fresh = schema is None and options.from_current  # a restored dump: add generated rows to all its tables too
        revision_walk = RevisionWalk(runner, script, options, schema or schema_snapshot(connection), seed_all=fresh,
                                     filled=filled)
        result = revision_walk.run()
        schema = revision_walk.final_schema
        if result.legs.get(UPGRADE) == "failed":
            cannot_upgrade.add(script.revision)
        broken = len(result.legs) < len(LEGS) or "failed" in result.legs.values()
        record(result)
    if options.check_drift and not broken and len(heads) == 1 and (part is None or part.last):
        report.findings += drift(runner.config)
    report.seconds = time.perf_counter() - started
    return report


def already_applied(runner: Runner) -> set[str]:
    """The database's current revisions and all their ancestors."""
    current = runner.heads()
    if not current:
        return set()
    return {script.revision for script in runner.script.revision_map.iterate_revisions(current, "base")}


def drift(config: Config) -> list[Finding]:
    """Model changes without a migration at head: what `alembic check` sees, and enum label changes it cannot."""
    try:
        differences = model_drift(config).lines()
    except CommandError as error:
        return [Finding(None, "drift", FAILURE, f"cannot compare models with the migrations: {error}")]
    return [Finding(None, "drift", FAILURE, f"models differ from the migrations at head: {line}") for line in differences]
