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
from thirdai_platform.migrate.data import DataCopies, live
from thirdai_platform.migrate.drift import model_drift
from thirdai_platform.migrate.findings import FAILURE, NOTE, Finding, RevisionResult, WalkReport
from thirdai_platform.migrate.runner import Runner, StepFailed
from thirdai_platform.migrate.schema import SchemaSnapshot, compare_schemas, schema_snapshot
from thirdai_platform.migrate.seed import seed_database

UPGRADE, DOWNGRADE, UPGRADE_AGAIN = "upgrade", "downgrade", "upgrade again"
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


def column_type(schema: SchemaSnapshot, table: str, column: str) -> str:
    description = schema.objects["column"][f"{table}.{column}"]
    return description.split(" NOT NULL")[0].split(" NULL")[0]


class RevisionWalk:
    """The three legs of one revision, each followed by its checks."""

    def __init__(self, runner: Runner, script: Script, options: WalkOptions):
        self.runner, self.script, self.options = runner, script, options
        self.connection = runner.connection
        self.lost_on_upgrade, self.lost_on_downgrade = Declared(script, "upgrade"), Declared(script, "downgrade")
        self.result = RevisionResult(script.revision, (script.doc or "").strip())
        self.copies: list[DataCopies] = []

    def lost_either_way(self, table: str, column: str | None = None) -> bool:
        """Back at the parent, what the upgrade lost is as gone as what the downgrade lost."""
        return self.lost_on_upgrade.covers(table, column) or self.lost_on_downgrade.covers(table, column)

    def find(self, leg: str, message: str, severity: str = FAILURE, **where) -> None:
        self.result.findings.append(Finding(self.script.revision, leg, severity, message, **where))

    def copy(self, schema: SchemaSnapshot) -> DataCopies:
        copies = DataCopies(self.connection, schema.columns)
        self.copies.append(copies)
        return copies

    def seed(self, when: str) -> None:
        outcome = seed_database(self.connection, rows=self.options.rows, seed=self.options.seed,
                                salt=f"{self.script.revision}:{when}", fixtures=fixtures(self.script, when))
        for problem in outcome.problems:
            self.find("seed", f"cannot fill table {problem.table}: {problem.reason}", table=problem.table)

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
            for copies in self.copies:
                copies.drop()
            self.result.seconds = time.perf_counter() - started
        return self.result

    def walk(self) -> None:
        parent = schema_snapshot(self.connection)
        self.seed("before")
        before = self.copy(parent)
        if not self.leg(UPGRADE, self.runner.upgrade):
            return
        at_revision = schema_snapshot(self.connection)
        self.check_upgrade(before, parent, at_revision)
        after_upgrade = self.copy(at_revision)
        self.seed("at")
        written = self.copy(at_revision)
        self.result.rows_checked = sum(c.count for c in before.tables.values()) + sum(c.count for c in written.tables.values())
        if not self.leg(DOWNGRADE, self.runner.downgrade):
            return
        self.check_schema(DOWNGRADE, parent)
        self.check_downgrade(before, after_upgrade, written)
        if not self.leg(UPGRADE_AGAIN, self.runner.upgrade):
            return
        self.check_schema(UPGRADE_AGAIN, at_revision)
        self.check_upgrade_again(parent, after_upgrade, written)

    # -- checks -----------------------------------------------------------------------------------------------

    def check_schema(self, leg: str, expected: SchemaSnapshot) -> None:
        for difference in compare_schemas(expected, schema_snapshot(self.connection)):
            severity = NOTE if difference.kind == "column_order" else FAILURE
            self.find(leg, f"schema differs from before: {difference}", severity)

    def check_upgrade(self, before: DataCopies, parent: SchemaSnapshot, now: SchemaSnapshot) -> None:
        """Nothing of the parent's data may vanish: rows stay, dropped columns' values must be found somewhere."""
        new_places = [(t, c) for t, cols in now.columns.items() for c in cols if c not in parent.columns.get(t, [])]
        old_places = [(t, c) for t, cols in now.columns.items() for c in cols if c in parent.columns.get(t, [])]
        for table, copy in before.tables.items():
            if self.lost_on_upgrade.covers(table):
                continue
            if table in now.columns:
                remaining = data.count_rows(self.connection, live(table))
                if remaining < copy.count:
                    self.find(UPGRADE, f"upgrade removed {copy.count - remaining} of {copy.count} rows of {table}",
                              table=table, rows=copy.count - remaining)
            for column in copy.columns:
                if column in now.columns.get(table, []):
                    self.check_type_change(before, parent, now, table, column)
                elif not self.lost_on_upgrade.covers(table, column):
                    dropped = f"column {table}.{column}" if table in now.columns else f"table {table} (column {column})"
                    self.check_moved(copy, table, column, dropped, new_places + old_places)

    def check_moved(self, copy: data.TableCopy, table: str, column: str, dropped: str, places: list[tuple[str, str]]) -> None:
        values = data.distinct_values(self.connection, copy.rows, column)
        if values == 0 or data.values_found_in(self.connection, copy.rows, column, places):
            return
        rows = data.count_values(self.connection, copy.rows, column)
        sample = data.row_with_value(self.connection, copy.rows, list(copy.columns), column)
        self.find(UPGRADE, f"upgrade dropped {dropped} holding {values} distinct values in {rows} of {copy.count} rows "
                           "that are found nowhere at this revision: move the data, or declare the loss in data_loss",
                  table=table, column=column, rows=rows, sample=sample)

    def check_type_change(self, before: DataCopies, parent: SchemaSnapshot, now: SchemaSnapshot, table: str, column: str) -> None:
        old, new = column_type(parent, table, column), column_type(now, table, column)
        if old == new:
            return
        key = parent.primary_key_columns.get(table) or []
        compared = [c for c in key if c in now.columns[table] and c != column] + [column]
        changed = data.missing_rows(self.connection, before.tables[table].rows, live(table), compared)
        if changed.count:
            self.find(UPGRADE, f"changing {table}.{column} from {old} to {new} altered {changed.count} of "
                               f"{before.tables[table].count} values{self.changed_columns(table, compared, changed.sample)}",
                      table=table, column=column, rows=changed.count, sample=changed.sample)

    def check_downgrade(self, before: DataCopies, after_upgrade: DataCopies, written: DataCopies) -> None:
        """Back at the parent: every row as it was before the upgrade, and the rows written at r still there."""
        tables_now = schema_snapshot(self.connection).columns
        for table, copy in before.tables.items():
            if table not in tables_now or self.lost_either_way(table):
                continue
            columns = [c for c in copy.columns if c in tables_now[table] and not self.lost_either_way(table, c)]
            missing = data.missing_rows(self.connection, copy.rows, live(table), columns)
            if missing.count:
                self.find(DOWNGRADE, f"{missing.count} of {copy.count} rows of {table} are not as they were before the "
                                     f"upgrade{self.changed_columns(table, columns, missing.sample)}",
                          table=table, rows=missing.count, sample=missing.sample)
        for table, copy in written.tables.items():
            if table not in before.tables or table not in tables_now or self.lost_either_way(table):
                continue
            written_here = copy.count - after_upgrade.tables[table].count
            kept = data.count_rows(self.connection, live(table)) - before.tables[table].count
            if kept < written_here:
                self.find(DOWNGRADE, f"downgrade removed {written_here - kept} of the {written_here} rows written into "
                                     f"{table} at this revision", table=table, rows=written_here - kept)

    def changed_columns(self, table: str, columns: list[str], sample: dict | None) -> str:
        """', changed: a, b' for the sample row, found again by its primary key (when the table has one)."""
        key = schema_snapshot(self.connection).primary_key_columns.get(table) or []
        if not sample or not key or any(k not in sample for k in key):
            return ""
        now = data.row_by_key(self.connection, live(table), columns, {k: sample[k] for k in key})
        if now is None:
            return " (the row is gone)"
        changed = [c for c in columns if now.get(c) != sample.get(c)]
        return f"; changed: {', '.join(f'{c} {sample.get(c)!r} → {now.get(c)!r}' for c in changed[:3])}" if changed else ""

    def check_upgrade_again(self, parent: SchemaSnapshot, after_upgrade: DataCopies, written: DataCopies) -> None:
        """Up again: the parent's rows exactly as after the first upgrade; rows written at r as far as p can carry them."""
        for table, copy in after_upgrade.tables.items():
            if self.lost_on_downgrade.covers(table):
                continue
            columns = [c for c in copy.columns if not self.lost_on_downgrade.covers(table, c)]
            missing = data.missing_rows(self.connection, copy.rows, live(table), columns)
            if missing.count:
                self.find(UPGRADE_AGAIN, f"{missing.count} of {copy.count} rows of {table} differ from the first upgrade"
                                         f"{self.changed_columns(table, columns, missing.sample)}",
                          table=table, rows=missing.count, sample=missing.sample)
                continue
            written_here = written.tables[table].count - copy.count
            if table not in parent.columns:
                if written_here:
                    self.find(UPGRADE_AGAIN, f"the {written_here} rows written at this revision into {table}, a table "
                                             "that does not exist at the parent, are gone after the round trip", NOTE,
                              table=table, rows=written_here)
                continue
            carried = [c for c in columns if c in parent.columns[table]]
            written_copy = written.tables[table].rows
            lost = data.missing_rows(self.connection, written_copy, live(table), carried, minus=copy.rows)
            if lost.count:
                self.find(UPGRADE_AGAIN, f"{lost.count} rows written into {table} at this revision did not survive the "
                                         "downgrade and upgrade", table=table, rows=lost.count, sample=lost.sample)
            elif len(carried) < len(columns):
                only_here = data.missing_rows(self.connection, written_copy, live(table), columns, minus=copy.rows)
                if only_here.count:
                    self.find(UPGRADE_AGAIN, f"values written at this revision into {table}."
                                             f"{{{', '.join(c for c in columns if c not in carried)}}} cannot exist at the "
                                             "parent and are gone after the round trip", NOTE, table=table, rows=only_here.count)


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


def walk(runner: Runner, options: WalkOptions = WalkOptions(),
         on_revision: Callable[[RevisionResult], None] | None = None) -> WalkReport:
    """Walk every revision; with options.from_current, only those after the revisions the database already has
    (a restored dump), else the database must be empty."""
    started = time.perf_counter()
    connection = runner.connection
    applied = already_applied(runner) if options.from_current else set()
    if not applied:
        ensure_empty(connection)
    report = WalkReport()

    def record(result: RevisionResult) -> None:
        report.revisions.append(result)
        if on_revision:
            on_revision(result)

    heads = runner.script.get_heads()
    if len(heads) > 1:
        report.findings.append(Finding(None, "heads", FAILURE, f"the history has {len(heads)} heads: {', '.join(heads)}; "
                                                               "join them with `inv db.merge`"))
    order = [script for script in runner.revisions() if script.revision not in applied]
    broken = False
    cannot_upgrade: set[str] = set()  # revisions already reported as failing to upgrade
    for script in order:
        if broken:
            reset_schema(connection)
            try:
                climb_to(runner, runner.revisions(), script)
            except StepFailed as failure:
                result = RevisionResult(script.revision, (script.doc or "").strip(), legs={leg: "skipped" for leg in LEGS})
                if failure.revision in cannot_upgrade:
                    result.findings.append(Finding(script.revision, "setup", NOTE, f"not walked: its ancestor "
                                                   f"{failure.revision} does not upgrade (reported there)"))
                else:
                    result.findings.append(Finding(script.revision, "setup", FAILURE, f"cannot reach its parent on a "
                                                   f"fresh database: {failure}", statement=failure.statement))
                    cannot_upgrade.add(failure.revision)
                record(result)
                continue
        result = RevisionWalk(runner, script, options).run()
        if result.legs.get(UPGRADE) == "failed":
            cannot_upgrade.add(script.revision)
        broken = len(result.legs) < len(LEGS) or "failed" in result.legs.values()
        record(result)
    if options.check_drift and not broken and len(heads) == 1:
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
