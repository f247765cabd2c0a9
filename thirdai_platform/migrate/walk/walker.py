"""The walk: every revision goes up, down and up again on one database filling up with data, and must keep it.

For each revision r with parent state p, in topological order:
  at p: seed rows, copy the data (before)     → upgrade → check nothing vanished, copy (after upgrade)
  at r: seed rows, copy (written at r)        → downgrade → schema and data must equal `before`
                                              → upgrade again → schema and data must equal `after upgrade`
A failing leg is a finding; the walk starts again where it started (an empty database, or the dump restored anew),
climbs to the next revision's parent (climb.py) and goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alembic.script import Script
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection

from thirdai_platform.errors import UserError
from thirdai_platform.migrate import history
from thirdai_platform.migrate.drift import model_drift
from thirdai_platform.migrate.findings import FAILURE, LIMIT, NOTE, Finding, RevisionResult, WalkReport
from thirdai_platform.migrate.session import Session
from thirdai_platform.migrate.walk.climb import CannotStartAgain, Climber
from thirdai_platform.migrate.walk.deploy.probe import Probe
from thirdai_platform.migrate.walk.revision_walk import RevisionWalk, WalkOptions
from thirdai_platform.migrate.walk.roundtrip import LEGS, UPGRADE
from thirdai_platform.migrate.walk.runner import Runner, StepFailed
from thirdai_platform.migrate.walk.schema import schema_snapshot


def ensure_empty(connection: Connection) -> None:
    tables = connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one()
    if tables:
        raise UserError(f"the walk needs an empty database, this one has {tables} tables")


@dataclass(frozen=True)
class Part:
    """Some consecutive revisions of the history, walked on a database of their own (see parallel.py). A part that
    does not start at base starts as the walk does after a failure: its first parent climbed to from the walk's start
    (its database is given empty, or a copy of the dump)."""

    revisions: tuple[str, ...]
    first: bool  # starts at base: checks the heads
    last: bool  # ends at the head: checks the models for drift


def walk(
    runner: Runner,
    options: WalkOptions = WalkOptions(),
    on_revision: Callable[[RevisionResult], None] | None = None,
    part: Part | None = None,
) -> WalkReport:
    """Walk every revision (or those of `part`); with options.dump, only those after the revisions the database
    already has (the dump, restored), else the database must be empty."""
    started = time.perf_counter()
    connection = runner.connection
    # The catalog queries of the schema snapshots are prepared once; planning them anew each time costs more than
    # running them, so let PostgreSQL keep one plan. It changes how queries are planned, never what they return.
    connection.execute(text("SET plan_cache_mode = force_generic_plan"))
    connection.commit()
    applied = already_applied(runner, options.dump is not None)
    report = WalkReport()

    def record(result: RevisionResult) -> None:
        report.revisions.append(result)
        if on_revision:
            on_revision(result)

    heads = runner.script.get_heads()
    if len(heads) > 1 and (part is None or part.first):
        report.findings.append(several_heads(heads))
    order = [script for script in history.in_order(runner.script) if script.revision not in applied]
    if part is not None:
        order = [script for script in order if script.revision in part.revisions]
    # a later part's database is the walk's start as given: its first revision's parent is climbed to from it
    climber = Climber(runner, options.dump, applied, as_given=part is not None and not part.first)
    with probing(runner.url, options.probe) as probe:
        broken = walk_revisions(runner, order, options, part, record, probe, climber)
    if probe is not None and probe.problem:
        report.findings.append(probe_stopped(probe.problem))
    if options.check_drift and not broken and len(heads) == 1 and (part is None or part.last):
        report.findings += drift(runner.session)
    report.seconds = time.perf_counter() - started
    return report


def already_applied(runner: Runner, from_dump: bool) -> set[str]:
    """The revisions the database has (a restored dump), not walked again; without a dump, none: the database must
    be empty. A restored dump without alembic_version is the schema an application made before its first revision
    (create_all): every revision is walked on top of it."""
    if from_dump:
        return history.ancestors(runner.script, runner.heads())
    ensure_empty(runner.connection)
    return set()


def several_heads(heads: list[str]) -> Finding:
    return Finding(
        None,
        "heads",
        FAILURE,
        f"the history has {len(heads)} heads: {', '.join(heads)}; join them with `inv db.merge`",
    )


def probe_stopped(problem: str) -> Finding:
    return Finding(
        None,
        "deploy probe",
        LIMIT,
        f"how long live traffic waits for the migrations' locks is not measured past the probe's failure: {problem}",
    )


@contextmanager
def probing(url: URL, wanted: bool) -> Iterator[Probe | None]:
    """The walk's one probe: its connections are opened at its first leg and closed at the end of the walk."""
    probe = Probe(url) if wanted else None
    try:
        yield probe
    finally:
        if probe is not None:
            probe.close()


def walk_revisions(
    runner: Runner,
    order: list[Script],
    options: WalkOptions,
    part: Part | None,
    record: Callable[[RevisionResult], None],
    probe: Probe | None,
    climber: Climber,
) -> bool:
    """Walks the revisions in order; True when the last one left the database broken (a failed or unfinished leg)."""
    broken, schema, filled, touched = part is not None and not part.first, None, set(), frozenset()
    cannot_upgrade: set[str] = set()  # revisions already reported as failing to upgrade
    for position, script in enumerate(order):
        if broken:
            schema, touched = None, frozenset()
            filled.clear()
            try:
                failure = climber.to_parent_of(script)
            except CannotStartAgain as error:
                for left in order[position:]:
                    record(not_walked(left, str(error)))
                return True
            if failure is not None:
                reported = already_reported(failure.revision, cannot_upgrade, part)
                if not reported:
                    cannot_upgrade.add(failure.revision)
                record(not_reached(script, failure, reported, options.dump is not None))
                continue
        revision_walk = RevisionWalk(
            runner,
            script,
            options,
            schema or schema_snapshot(runner.connection),
            seed_all=schema is None and options.dump is not None,  # a restored dump: add rows to all its tables too
            filled=filled,
            previously_touched=touched,
            probe=probe,
        )
        result = revision_walk.run()
        schema, touched = revision_walk.final_schema, frozenset(revision_walk.trip.touched)
        if result.legs.get(UPGRADE) == "failed":
            cannot_upgrade.add(script.revision)
        broken = len(result.legs) < len(LEGS) or "failed" in result.legs.values()
        record(result)
    return broken


def skipped(script: Script, finding: Finding) -> RevisionResult:
    """A revision whose legs were not run, and the finding that says why."""
    return RevisionResult(
        script.revision, (script.doc or "").strip(), legs={leg: "skipped" for leg in LEGS}, findings=[finding]
    )


def not_walked(script: Script, why: str) -> RevisionResult:
    """A revision the walk could not get to at all: what it did not check is a limit, not the revision's failure."""
    return skipped(script, Finding(script.revision, "setup", LIMIT, f"not walked: {why}"))


def already_reported(ancestor: str, cannot_upgrade: set[str], part: Part | None) -> bool:
    """The ancestor's failure to upgrade is reported already: earlier in this walk, or by the earlier part that
    walks it."""
    return ancestor in cannot_upgrade or (part is not None and ancestor not in part.revisions)


def not_reached(script: Script, failure: StepFailed, reported: bool, from_dump: bool) -> RevisionResult:
    """A revision whose parent could not be climbed to: its legs skipped, and why (a failure where it is first seen)."""
    if reported:
        finding = Finding(
            script.revision,
            "setup",
            NOTE,
            f"not walked: its ancestor {failure.revision} does not upgrade (reported there)",
        )
    else:
        start = "from the dump" if from_dump else "on a fresh database"
        finding = Finding(
            script.revision,
            "setup",
            FAILURE,
            f"cannot reach its parent {start}: {failure}",
            statement=failure.statement,
        )
    return skipped(script, finding)


def drift(session: Session) -> list[Finding]:
    """Model changes without a migration at head: what `alembic check` sees, and enum label changes it cannot."""
    try:
        differences = model_drift(session).lines()
    except CommandError as error:
        return [Finding(None, "drift", FAILURE, f"cannot compare models with the migrations: {error}")]
    return [
        Finding(None, "drift", FAILURE, f"models differ from the migrations at head: {line}") for line in differences
    ]
