"""One revision's round trip: its three legs, each followed by its checks (checks/), on a database that keeps
the rows earlier revisions left. walker.py sequences the revisions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from alembic.script import Script

from thirdai_platform.migrate.findings import FAILURE, LIMIT, NOTE, Finding, RevisionResult
from thirdai_platform.migrate.static_checks import whole_schema_limit
from thirdai_platform.migrate.walk import data
from thirdai_platform.migrate.walk.checks.compare import check_schema
from thirdai_platform.migrate.walk.checks.downgrade import check_downgrade
from thirdai_platform.migrate.walk.checks.upgrade import check_upgrade
from thirdai_platform.migrate.walk.checks.upgrade_again import check_upgrade_again
from thirdai_platform.migrate.walk.data import DataCopies, TableCopy, live
from thirdai_platform.migrate.walk.deploy import rolling
from thirdai_platform.migrate.walk.deploy.locks import LockObserver
from thirdai_platform.migrate.walk.deploy.probe import Probe, blocked
from thirdai_platform.migrate.walk.dump import Dump
from thirdai_platform.migrate.walk.phases import Phases
from thirdai_platform.migrate.walk.roundtrip import DOWNGRADE, UPGRADE, UPGRADE_AGAIN, Declared, RoundTrip, Window
from thirdai_platform.migrate.walk.runner import Runner, StepFailed
from thirdai_platform.migrate.walk.schema import (
    TABLE_PARTS,
    SchemaSnapshot,
    column_type_name,
    compare_schemas,
    merged,
    restricted,
    schema_snapshot,
)
from thirdai_platform.migrate.walk.scope import cannot_render, revision_reach, tables_in_scope
from thirdai_platform.migrate.walk.seed import seed_database
from thirdai_platform.migrate.walk.trial import trial_reach

# Rows "the new version writes" at a revision prove what a round trip does to them; past this many, more rows only
# make a production-size rehearsal (--rows 100000) slower without proving more.
MOST_ROWS_WRITTEN_AT_REVISION = 1000


@dataclass(frozen=True)
class WalkOptions:
    rows: int = 5
    seed: int = 0
    check_drift: bool = True
    # the dump restored into the database, which the walk starts from instead of an empty one (and again after a
    # broken leg): the revisions after those it has are walked
    dump: Dump | None = None
    rolling_deploys: bool = False  # a running version that breaks on the new schema fails the revision (else a note)
    probe: bool = True  # live traffic during each leg, and how long it waited (deploy/probe.py)


def fixtures(script: Script, when: str) -> dict[str, list[dict]]:
    return (getattr(script.module, "fixtures", None) or {}).get(when, {})


class RevisionWalk:
    """The three legs of one revision, each followed by its checks (checks/). The checks cover the tables the
    revision acts on, each in one query for all of them, so a revision costs about the same at the 400th revision as
    at the 5th."""

    def __init__(
        self,
        runner: Runner,
        script: Script,
        options: WalkOptions,
        parent: SchemaSnapshot,
        seed_all: bool,
        filled: set[str],
        previously_touched: frozenset[str] = frozenset(),
        probe: Probe | None = None,
    ):
        self.runner, self.script, self.options, self.parent = runner, script, options, parent
        self.started = time.perf_counter()
        self.result = RevisionResult(script.revision, (script.doc or "").strip())
        self.phases = Phases(self.result.phase_seconds)
        self.probe = probe
        # The tables its SQL names (and those they reach) are the ones read, copied and compared; None: every table.
        with self.phases.timed("render"):
            reach = revision_reach(runner.session, script.revision)
        self.tables = None if reach is None else tables_in_scope(reach, [parent]) | reach.names
        self.scoped_by_sql = reach is not None  # its SQL renders offline (scope_by_trial may scope it otherwise)
        self.seed_all = seed_all  # a freshly restored database: add rows to every table before the upgrade
        # Tables known to hold rows, that no revision has reached since: shared along the walk, so that finding the
        # empty tables costs what the revision reaches, not what the schema holds.
        self.filled = filled
        # Tables the previous revision changed: their old rows lost the values of its new columns in its round trip
        # (a column added there is NULL in every row it did not write again), so they get new rows here.
        self.previously_touched = previously_touched
        self.connection = runner.connection
        self.trip = RoundTrip(
            self.connection,
            script.revision,
            *self.declarations(script),
            parent if self.tables is None else restricted(parent, self.tables),
        )
        self.copies: list[DataCopies] = []
        self.sent: dict[str, bytes | None] = {}  # leg → what it sent (LockObserver.what_was_sent)
        self.final_schema: SchemaSnapshot | None = None  # after the last leg: the next revision's parent

    @property
    def rolling_severity(self) -> str:
        return FAILURE if self.options.rolling_deploys else NOTE

    def declarations(self, script: Script) -> tuple[Declared, Declared]:
        """The script's data_loss for each direction; a malformed one is the script's failure, and declares nothing."""
        try:
            return Declared(script, UPGRADE), Declared(script, DOWNGRADE)
        except (ValueError, TypeError, AttributeError) as error:
            self.find("declaration", str(error))
            return Declared.nothing(UPGRADE), Declared.nothing(DOWNGRADE)

    def find(self, leg: str, message: str, severity: str = FAILURE, **where) -> None:
        self.result.findings.append(Finding(self.script.revision, leg, severity, message, **where))

    def snapshot(self) -> SchemaSnapshot:
        with self.phases.timed("snapshot"):
            return schema_snapshot(self.connection, tables=self.tables)

    def copy(self, schema: SchemaSnapshot, unchanged: dict[str, TableCopy] | None = None) -> DataCopies:
        """A copy of the data of every table in schema; the `unchanged` tables' earlier copies stand for theirs."""
        lent = {t: c for t, c in (unchanged or {}).items() if t in schema.columns}
        with self.phases.timed("copy"):
            copies = DataCopies(self.connection, {t: c for t, c in schema.columns.items() if t not in lent}, lent)
        self.copies.append(copies)
        return copies

    def seed(self, when: str, only: set[str] | None, rows: int, salt: str = "") -> set[str]:
        """Returns the tables it could not fill.

        Rows written at the revision point only at rows also written there: a downgrade may then carry what the new
        version wrote back into its own parent rows (a note moved back into its user), which is what a good
        downgrade does, while every row that existed before the upgrade must still come back exactly as it was."""
        with self.phases.timed("seed"):
            outcome = seed_database(
                self.connection,
                rows=rows,
                seed=self.options.seed,
                only=only,
                salt=f"{self.script.revision}:{when}{salt}",
                fixtures={} if salt else fixtures(self.script, when),
                new_parents_only=when == "at",
            )
        unchecked = (
            "is not checked at this revision (it holds no rows)"
            if when == "before"
            else "gets no rows written by the new version at this revision"
        )
        for problem in outcome.problems:
            self.find(
                "seed",
                f"table {problem.table} {unchecked}: the walk cannot fill it: {problem.reason}",
                LIMIT,
                table=problem.table,
            )
        return {problem.table for problem in outcome.problems}

    def leg(self, name: str, step: Callable[[Script], None]) -> bool:
        probing = self.probe is not None and self.probe.start(self.tables)
        started, window, observer = time.perf_counter(), Window.starting_now(), LockObserver(self.connection)
        try:
            with observer:
                step(self.script)
        except StepFailed as failure:
            self.result.legs[name] = "failed"
            self.find(name, f"{name} failed: {failure.error}", statement=failure.statement)
            return False
        finally:
            # At production size (--rows, --from-dump) these are the lock times a deploy would see.
            self.result.leg_seconds[name] = time.perf_counter() - started
            self.trip.windows[name] = window.ended()  # a value stamped with the current time falls inside
            waits = self.probe.stop() if probing else None
            self.result.locks[name], self.result.statements[name] = observer.summary()
            self.sent[name] = observer.what_was_sent()
            self.phases.add("locks", observer.seconds)
            self.phases.add("leg", self.result.leg_seconds[name] - observer.seconds)
            if waits is not None:  # no entry: not probed (no table in scope, or the probe turned off)
                self.result.blocked[name] = blocked(waits, self.result.statements[name])
        self.result.legs[name] = "ok"
        return True

    def check(self, phase: str, check: Callable[..., list[Finding]], *arguments) -> None:
        with self.phases.timed(phase):
            self.result.findings += check(*arguments)

    def run(self) -> RevisionResult:
        try:
            self.walk()
        finally:
            with self.phases.timed("copy"):
                data.forget_copies(self.connection, self.copies)
            self.forget_reached_tables()
            self.result.seconds = time.perf_counter() - self.started
            for name, seconds in self.result.phase_seconds.items():
                self.result.phase_seconds[name] = round(seconds, 6)
        return self.result

    def forget_reached_tables(self) -> None:
        """The legs may have emptied the tables this revision reached: the next revision looks at them again."""
        if self.tables is None:
            self.filled.clear()
        else:
            self.filled -= self.tables

    def walk(self) -> None:
        trip, parent = self.trip, self.trip.parent
        self.fill_before_upgrade()
        if self.tables is None:
            self.scope_by_trial()
            parent = trip.parent
        trip.before = self.copy(parent)
        if not self.leg(UPGRADE, self.runner.upgrade):
            return
        trip.at_revision = self.snapshot()
        self.check("rolling", rolling.old_version_meets_upgrade, trip, trip.at_revision, self.rolling_severity)
        with self.phases.timed("compare"):
            trip.touched = self.touched_tables(trip.before, parent, trip.at_revision)
        self.check("compare", check_upgrade, trip, trip.at_revision)
        # The data of a table the upgrade did not touch is still its `before` copy, and no rows are written into it.
        trip.after_upgrade = self.copy(trip.at_revision, unchanged=self.untouched(trip.before))
        self.seed("at", only=trip.touched, rows=min(self.options.rows, MOST_ROWS_WRITTEN_AT_REVISION))
        trip.written = self.copy(trip.at_revision, unchanged=self.untouched(trip.after_upgrade))
        self.result.rows_checked = sum(c.count for c in trip.before.tables.values()) + sum(
            c.count for c in trip.written.tables.values()
        )
        if not self.leg(DOWNGRADE, self.runner.downgrade):
            return
        back = self.snapshot()
        self.check("rolling", rolling.new_version_meets_downgrade, trip, back, self.rolling_severity)
        self.check("compare", check_schema, trip, DOWNGRADE, parent, back)
        self.check("compare", check_downgrade, trip, back)
        if not self.leg(UPGRADE_AGAIN, self.runner.upgrade):
            return
        again = trip.at_revision if self.upgrade_repeated(parent, back) else self.snapshot()
        self.check("compare", check_schema, trip, UPGRADE_AGAIN, trip.at_revision, again)
        self.check("compare", check_upgrade_again, trip, again)
        self.final_schema = again if self.tables is None else merged(self.parent, again, self.tables)

    def upgrade_repeated(self, parent: SchemaSnapshot, back: SchemaSnapshot) -> bool:
        """Whether the upgrade again made the schema the upgrade made, known without reading it: the downgrade gave
        the parent's schema back exactly, and the upgrade again sent the very statements and parameters the upgrade
        sent (DDL does the same on the same schema). Only for a revision whose SQL renders offline: one that needs
        its connection may act through the driver's own cursor, which no statement event shows."""
        sent = self.sent.get(UPGRADE)
        if not self.scoped_by_sql or sent is None or sent != self.sent.get(UPGRADE_AGAIN):
            return False
        with self.phases.timed("compare"):
            return not compare_schemas(parent, back)

    def scope_by_trial(self) -> None:
        """A revision that cannot be rendered offline is scoped by the tables a trial of it names (trial.py), tried
        on the rows just written; else it is checked on every table, and a LIMIT says why."""
        reach = None
        if cannot_render(self.runner.session, self.script.revision):
            with self.phases.timed("render"):
                reach = trial_reach(self.runner, self.script)
        if reach is None:
            if limit := whole_schema_limit(self.runner.session, self.script.revision):
                self.result.findings.insert(0, limit)  # first: it tells what the other findings cover
            return
        self.tables = tables_in_scope(reach, [self.parent]) | reach.names
        self.trip.parent = restricted(self.parent, self.tables)

    def fill_before_upgrade(self) -> None:
        """Tables keep what earlier revisions wrote; only empty ones get rows here (a table created by the previous
        revision loses its rows in that revision's round trip), and so do the tables the previous revision changed.
        New rows go where this revision acts, at r."""
        # Every empty table, in scope or not: a table's rows need parents to point to.
        unknown = [t for t in self.parent.columns if t not in self.filled]
        with self.phases.timed("seed"):
            empty = None if self.seed_all else data.empty_tables(self.connection, unknown)
        not_filled = self.seed("before", only=empty, rows=self.options.rows)
        self.filled.update(set(self.parent.columns) - not_filled)
        seeded = set(self.parent.columns) if empty is None else empty
        refill = self.previously_touched & set(self.trip.parent.columns) - seeded
        if refill:
            self.seed("before", only=refill, rows=min(self.options.rows, MOST_ROWS_WRITTEN_AT_REVISION), salt=":refill")

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
        return {t: c for t, c in copies.tables.items() if t not in self.trip.touched}
