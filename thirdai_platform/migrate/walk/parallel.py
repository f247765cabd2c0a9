"""The walk split across processes: each walks some consecutive revisions on a database of its own.

A part after the first starts as the walk does after a failure: its database, empty or a copy of the dump, climbs to
the parent of the part's first revision with plain upgrades (climb.py), tables get generated rows, and from there
every revision of the part is walked with all its checks. From an empty database, the data a part starts with is
generated at that revision instead of carried up from base; everything else is the same walk. On two cores two
parts walk a long history in about half the time.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Sequence

from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy.engine import URL

from thirdai_platform.database.connection import connected
from thirdai_platform.errors import UserError
from thirdai_platform.migrate import history
from thirdai_platform.migrate.findings import RevisionResult, WalkReport
from thirdai_platform.migrate.session import Session, load_session
from thirdai_platform.migrate.walk.runner import Runner
from thirdai_platform.migrate.walk.walker import Part, WalkOptions, walk

# A part climbs to its start with plain upgrades (~10 ms a revision) and pays for a process and a database: below
# this many revisions a part costs more than it saves.
FEWEST_REVISIONS_PER_PART = 25
# What a plain upgrade costs next to a walked revision (~11 ms against ~90 ms).
CLIMB_SHARE = 0.12


def parts_for(revisions: int, jobs: int | None = None) -> int:
    """`jobs` parts when asked for; else one per CPU, as long as each part has a useful length."""
    if jobs is not None:
        return max(1, min(jobs, revisions))
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1  # Windows: a part is a forked process
    cpus = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )  # macOS has no affinity
    return max(1, min(cpus, revisions // FEWEST_REVISIONS_PER_PART))


def split(revisions: Sequence[str], parts: int) -> list[Part]:
    """Consecutive runs in history order, each about the same work: a later part first climbs to its start with
    plain upgrades, so it gets fewer revisions to walk."""

    def lengths(work: float) -> list[float]:
        result, start = [], 0.0
        for _ in range(parts):
            result.append(max(0.0, work - CLIMB_SHARE * start))
            start += result[-1]
        return result

    low, high = len(revisions) / parts, float(len(revisions))
    for _ in range(40):  # the work per part at which the lengths add up to the history
        middle = (low + high) / 2
        low, high = (middle, high) if sum(lengths(middle)) < len(revisions) else (low, middle)
    ends = [round(end) for end in itertools.accumulate(lengths(high))][:-1] + [len(revisions)]
    for index in range(parts):  # rounded, a short part could come out empty: each walks one revision at least
        ends[index] = min(max(ends[index], (ends[index - 1] if index else 0) + 1), len(revisions) - (parts - 1 - index))
    return [
        Part(tuple(revisions[start:end]), first=index == 0, last=index == parts - 1)
        for index, (start, end) in enumerate(zip([0, *ends], ends))
    ]


def walk_database(
    session: Session,
    url: URL,
    options: WalkOptions,
    on_revision: Callable[[RevisionResult], None] | None = None,
    part: Part | None = None,
) -> WalkReport:
    """The walk on one database, over a connection of its own."""
    with connected(url) as connection:
        return walk(Runner(session.on(url, connection)), options, on_revision, part)


def after_dump(url: URL, session: Session, order: list[str]) -> list[str]:
    """The revisions a walk from the dump restored at url walks: those after the ones it records."""
    with connected(url) as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    try:
        applied = history.ancestors(session.scripts, heads)
    except CommandError:  # a revision this checkout does not have: the walk says so
        return order
    return [revision for revision in order if revision not in applied]


def _walk_part(ini: str, url: URL, options: WalkOptions, part: Part, queue) -> None:
    """In a worker process: walk the part, sending each revision's result as soon as it is known."""
    try:
        session = load_session(ini, url=url)  # the part's own, not the parent's
        report = walk_database(session, url, options, lambda result: queue.put(("revision", result)), part)
        # The SQL the part rendered for its scopes, so that the lint in the parent does not render it again.
        queue.put(("done", (report.findings, session.rendered)))
    except BaseException as error:  # whatever it is, the parent must hear of it instead of waiting forever
        queue.put(("error", error if isinstance(error, UserError) else f"{type(error).__name__}: {error}"))


class ParallelWalk:
    """Starts one process per part at once (before any thread of the caller's progress display exists: forking a
    process with threads running can copy a lock held by one of them); `collect` waits for their results."""

    def __init__(self, session: Session, databases: list[URL], options: WalkOptions, order: list[str]):
        context = multiprocessing.get_context("fork")  # the parent's imports and loaded modules come along for free
        self.started = time.perf_counter()
        self.session, self.databases, self.options, self.order = session, databases, options, order
        self.queue = context.Queue()
        self.workers = []
        if len(databases) > 1:  # one part is walked in this process, by collect
            ini = session.config.config_file_name
            self.workers = [
                context.Process(target=_walk_part, args=(ini, url, options, part, self.queue), daemon=True)
                for url, part in zip(databases, split(order, len(databases)))
            ]
        for worker in self.workers:
            worker.start()

    def collect(self, on_revision: Callable[[RevisionResult], None] | None = None) -> WalkReport:
        if not self.workers:
            return walk_database(self.session, self.databases[0], self.options, on_revision)
        try:
            return self.collected(on_revision)
        except BaseException:  # Ctrl-C, or a part that failed: the others stop before their databases are dropped
            self.stop_parts()
            raise

    def stop_parts(self) -> None:
        """Ends the parts still running: one left running while its database is dropped prints the connection
        pool's traceback as it tries to connect again."""
        for worker in self.workers:
            if worker.is_alive():
                worker.kill()
        for worker in self.workers:
            worker.join(timeout=5)

    def collected(self, on_revision: Callable[[RevisionResult], None] | None) -> WalkReport:
        report, running, errors = WalkReport(), len(self.workers), []
        while running:
            try:
                kind, payload = self.queue.get(timeout=1)
            except queue.Empty:
                # A part always reports before it exits, unless it was killed (out of memory, a signal).
                if killed := [worker.exitcode for worker in self.workers if worker.exitcode not in (None, 0)]:
                    raise RuntimeError(f"a part of the walk ended without a word (exit code {killed[0]})") from None
                continue
            if kind == "revision":
                report.revisions.append(payload)
                if on_revision:
                    on_revision(payload)
            else:
                running -= 1
                if kind == "done":
                    findings, rendered = payload
                    report.findings += findings
                    self.session.rendered.update(rendered)
                else:
                    errors.append(payload)
        for worker in self.workers:
            worker.join()
        if errors:
            if isinstance(errors[0], UserError):
                raise errors[0]
            raise RuntimeError(f"a part of the walk failed: {errors[0]}")
        position = {revision: index for index, revision in enumerate(self.order)}
        report.revisions.sort(key=lambda result: position[result.revision])
        report.seconds = time.perf_counter() - self.started
        return report
