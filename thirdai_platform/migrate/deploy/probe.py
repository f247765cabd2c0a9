"""Blocking, measured: while a leg runs, the probe sends the traffic a live application sends to the tables in the
revision's scope, on connections of its own, and records how long each statement waited and on what.

Two connections send it, one thread each, in rounds every INTERVAL until the leg ends: the reader reads a row by
its primary key (the first row when the table has none); the writer, in transactions it always rolls back, inserts
(a zero-row INSERT ... SELECT: the same table and index locks as a real insert, without rows, sequence values or
constraint failures) and updates the first row's first column to itself (a row lock, as a real update takes).
A third connection, the watcher, asks PostgreSQL what a statement running past WAIT_THRESHOLD waits for
(pg_blocking_pids): the backend holding the lock, its mode and its query. Those statements are the waits: an
unblocked read or write of one row takes well under a millisecond, so a statement that is still running after
5 ms and that PostgreSQL shows waiting for another backend's lock waited; its whole time counts. Slower statements
that wait for no lock (a busy machine) are not waits. Consumers choose their own thresholds above that.

The probe never holds up the walk: a statement of the probe that waits while it holds a lock a migration's backend
waits for (an update waiting on a backfilled row, then the migration's ALTER waiting on the update's table lock)
is cancelled, before PostgreSQL's deadlock detection could pick the migration; the leg's end cancels what still
waits. Not seen: the locks an insert's foreign key check takes on the referenced table (ROW SHARE), as the probe
writes no row; reads of that table are probed when the revision's scope holds it.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import psycopg2
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL

from thirdai_platform.migrate.deploy.locks import MODES, PROBE, STATEMENT_LIMIT, STRENGTH

READ, WRITE = "read", "write"
INTERVAL = 0.025  # seconds between the rounds of each traffic connection
WAIT_THRESHOLD = 0.005  # a statement running longer than this is asked about: see the docstring
TICK = 0.0025  # how often the watcher looks at the statements in flight (in this process, no query)
RECHECK = 0.02  # while a statement waits, how often the watcher asks again whether it is in a migration's way
STOP_SECONDS = 5.0  # the longest the end of a leg waits for the probe's threads
ROW_LOCK = "row lock"  # the lock of a wait for a row another transaction changed (an UPDATE's backfill)
SETTINGS = ("SET statement_timeout = '10min'", "SET lock_timeout = 0",  # a net: the leg's end cancels before
            "SET application_name = 'thirdai deploy probe'")

# The tables of the public schema, or those named: their primary key's columns and the columns a write can set.
TARGETS_SQL = """
SELECT c.relname::text, c.oid::regclass::text,
    ARRAY(SELECT quote_ident(a.attname) FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
          WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.n),
    ARRAY(SELECT quote_ident(a.attname) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
          AND NOT a.attisdropped AND a.attidentity <> 'a' AND a.attgenerated = '' ORDER BY a.attnum)
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'alembic_version'
    AND ($1::text[] IS NULL OR c.relname = ANY($1::text[]))
ORDER BY c.relname
"""
# For each waiting probe statement, the other backends it waits for: the locks each holds (else queues for) on what
# it waits on, its query, and whether a backend other than the probe's waits for this probe backend in turn.
BLOCKERS_SQL = """
SELECT w.pid, w.locktype, held.modes, b.query,
    EXISTS (SELECT 1 FROM pg_locks o WHERE NOT o.granted AND o.pid <> ALL(%(probes)s)
            AND w.pid = ANY(pg_blocking_pids(o.pid)))
FROM pg_locks w
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocking(pid)
JOIN pg_stat_activity b ON b.pid = blocking.pid
LEFT JOIN LATERAL (SELECT array_agg(l.mode::text) AS modes, bool_or(l.granted) AS granted FROM pg_locks l
                   WHERE l.pid = b.pid AND l.locktype = w.locktype AND l.database IS NOT DISTINCT FROM w.database
                   AND l.relation IS NOT DISTINCT FROM w.relation AND l.transactionid IS NOT DISTINCT FROM w.transactionid
                   GROUP BY l.granted ORDER BY l.granted DESC LIMIT 1) AS held ON true
WHERE w.pid = ANY(%(waiting)s) AND NOT w.granted AND b.pid <> ALL(%(probes)s)
ORDER BY held.granted DESC NULLS LAST
"""


@dataclass(frozen=True)
class Target:
    """One table's probe statements."""

    table: str
    read: str
    writes: tuple[str, ...]

    def statements(self, kind: str) -> tuple[str, ...]:
        return (self.read,) if kind == READ else self.writes


def target(table: str, name: str, keys: list[str], columns: list[str]) -> Target:
    """name: the table as SQL names it (quoted where needed); keys: its primary key; columns: those a write sets."""
    if keys:
        key = ", ".join(keys)
        where = f"({key}) = (SELECT {key} FROM {name} LIMIT 1)"
        read = f"SELECT * FROM {name} WHERE {where}"
    else:
        where, read = f"ctid = (SELECT ctid FROM {name} LIMIT 1)", f"SELECT * FROM {name} LIMIT 1"
    if not columns:
        return Target(table, read, ())
    listed = ", ".join(columns)
    return Target(table, read, (f"INSERT INTO {name} ({listed}) SELECT {listed} FROM {name} WHERE false",
                                f"UPDATE {name} SET {columns[0]} = {columns[0]} WHERE {where}"))


@dataclass(frozen=True)
class Wait:
    table: str
    kind: str  # READ or WRITE
    seconds: float
    lock: str  # the blocker's mode as the documentation names it (ACCESS EXCLUSIVE), or ROW_LOCK
    statement: str  # the blocker's query as PostgreSQL showed it then


@dataclass
class InFlight:
    started: float
    blocker: tuple[str, str] | None = None  # (lock, statement), set by the watcher


@dataclass
class Leg:
    tables: set[str] | None  # None: every table
    targets: list[Target] = field(default_factory=list)  # those that exist, found by the watcher as the leg starts
    stopped: threading.Event = field(default_factory=threading.Event)
    waits: list[Wait] = field(default_factory=list)


def normalized(statement: str | None) -> str:
    return " ".join((statement or "").split())[:STATEMENT_LIMIT]


def one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def lock_name(locktype: str, modes: list[str] | None) -> str:
    """The strongest of the blocker's modes on what the statement waits for (its granted ones, else those it
    queues for), as the documentation names it."""
    if locktype in ("tuple", "transactionid"):
        return ROW_LOCK
    named = max((MODES.get(mode, mode) for mode in modes or ()), key=lambda mode: STRENGTH.get(mode, -1),
                default="unknown")
    return named if locktype == "relation" else f"{locktype} {named}"


class Worker:
    """One probe connection and the thread using it, parked between legs on its queue of legs."""

    def __init__(self, url: URL, autocommit: bool) -> None:
        self.engine = create_engine(url, poolclass=pool.NullPool)
        self.connection = self.engine.connect()
        self.connection.info[PROBE] = True  # the lock observer leaves it out
        self.dbapi = self.connection.connection.dbapi_connection
        self.dbapi.autocommit = True
        self.pid = self.query("SELECT pg_backend_pid()")[0][0]
        for setting in SETTINGS:
            self.query(setting)
        self.dbapi.autocommit = autocommit
        self.legs: queue.Queue[Leg | None] = queue.Queue()
        self.problem: str | None = None
        self.thread = threading.Thread(target=self.serve, daemon=True, name=f"deploy probe {self.pid}")
        self.thread.start()

    def query(self, sql: str, parameters: dict | None = None) -> list[tuple]:
        with self.dbapi.cursor() as cursor:
            cursor.execute(sql, parameters)
            return cursor.fetchall() if cursor.description else []

    def serve(self) -> None:
        while (leg := self.legs.get()) is not None:
            try:
                if self.problem is None:
                    self.during(leg)
            except Exception as error:  # a lost connection: this probe measures no more
                self.problem = one_line(error)

    def during(self, leg: Leg) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.legs.put(None)
        self.thread.join(STOP_SECONDS)
        self.connection.close()
        self.engine.dispose()


class Traffic(Worker):
    """The reader or the writer."""

    def __init__(self, url: URL, kind: str) -> None:
        self.kind = kind
        self.in_flight: InFlight | None = None
        super().__init__(url, autocommit=kind == READ)

    def during(self, leg: Leg) -> None:
        # A leg shorter than the threshold cannot make traffic wait longer: the first round waits that long.
        pause = WAIT_THRESHOLD
        while not leg.stopped.wait(pause):
            pause = INTERVAL
            for target in leg.targets:
                for statement in target.statements(self.kind):
                    if leg.stopped.is_set():
                        return
                    self.send(leg, target.table, statement)

    def send(self, leg: Leg, table: str, statement: str) -> None:
        flight = InFlight(time.perf_counter())
        self.in_flight = flight
        try:
            self.query(statement)
        except psycopg2.Error:
            pass  # a constraint, a table or column the migration dropped, a cancel: the wait before it counts
        finally:
            if flight.blocker is not None:  # before in_flight is cleared: stop() waits for it
                leg.waits.append(Wait(table, self.kind, time.perf_counter() - flight.started, *flight.blocker))
            self.in_flight = None
            self.roll_back()

    def roll_back(self) -> None:
        try:
            self.dbapi.rollback()  # nothing is sent when no transaction is open (the reader's)
        except psycopg2.Error:
            pass

    def waiting(self, now: float) -> InFlight | None:
        flight = self.in_flight
        return flight if flight is not None and now - flight.started > WAIT_THRESHOLD else None

    def cancel(self) -> None:
        try:
            self.dbapi.cancel()
        except psycopg2.Error:
            pass


class Watcher(Worker):
    """Asks what the traffic's long statements wait for, and cancels one that holds up a migration."""

    def __init__(self, url: URL, traffic: list[Traffic]) -> None:
        self.traffic = traffic
        self.probes = [t.pid for t in traffic]
        self.prepared = False
        super().__init__(url, autocommit=True)
        self.probes.append(self.pid)

    def during(self, leg: Leg) -> None:
        leg.targets = self.targets(leg.tables)  # here, not on the walk's path: the traffic waits a while anyway
        asked = 0.0
        while not leg.stopped.wait(TICK):
            now = time.perf_counter()
            waiting = {t.pid: (t, flight) for t in self.traffic if (flight := t.waiting(now))}
            if waiting and (now - asked > RECHECK or any(f.blocker is None for _, f in waiting.values())):
                self.look(waiting)
                asked = now

    def look(self, waiting: dict[int, tuple[Traffic, InFlight]]) -> None:
        rows = self.query(BLOCKERS_SQL, {"waiting": list(waiting), "probes": self.probes})
        for pid, locktype, modes, statement, in_the_way in rows:
            traffic, flight = waiting[pid]
            if flight.blocker is None:
                flight.blocker = (lock_name(locktype, modes), normalized(statement))
            if in_the_way:
                traffic.cancel()

    def targets(self, tables: set[str] | None) -> list[Target]:
        if not self.prepared:  # planning the catalog query costs more than running it: once per walk
            self.query(f"PREPARE deploy_probe_targets(text[]) AS {TARGETS_SQL}")
            self.prepared = True
        names = None if tables is None else sorted(tables)
        return [target(*row) for row in self.query("EXECUTE deploy_probe_targets(%(names)s)", {"names": names})]


class Probe:
    """Created once per walk; `start(tables)` before a leg's step, `stop()` after it; `close()` at the end."""

    def __init__(self, url: URL) -> None:
        self.url = url.set(drivername="postgresql+psycopg2")  # its cancel() stops a waiting statement from here
        self.traffic: list[Traffic] = []
        self.watcher: Watcher | None = None
        self.leg: Leg | None = None
        self.problem: str | None = None  # why it measures nothing (it could not connect, it lost a connection)

    def workers(self) -> list[Worker]:
        return [*self.traffic, *([self.watcher] if self.watcher else [])]

    def connect(self) -> None:
        if self.watcher is None:
            self.traffic = [Traffic(self.url, READ), Traffic(self.url, WRITE)]
            self.watcher = Watcher(self.url, self.traffic)

    def start(self, tables: set[str] | None) -> bool:
        """Probes the tables (None: every table) that exist now, until stop(); False when it probes nothing."""
        self.leg = None
        if self.problem is not None or (tables is not None and not tables):
            return False
        try:
            self.connect()
        except Exception as error:  # any failure to connect: the walk reports it as a limit and goes on
            self.problem = one_line(error)
            return False
        self.leg = Leg(tables)
        for worker in self.workers():
            worker.legs.put(self.leg)
        return True

    def stop(self) -> list[Wait] | None:
        """The waits of the leg; None when it probed nothing. Waits only for statements that may be waits (still
        running past the threshold: the leg's locks are gone, so they end now) and cancels them if they do not; the
        others end on their own, unblocked, and the threads take the next leg when they are done."""
        leg, self.leg = self.leg, None
        if leg is None:
            return None
        leg.stopped.set()
        deadline = cancelled = time.perf_counter()
        deadline += STOP_SECONDS
        while slow := [traffic for traffic in self.traffic if traffic.waiting(now := time.perf_counter())]:
            if now > deadline:
                self.problem = f"its statements did not stop within {STOP_SECONDS:g} s of the end of a leg"
                break
            if now - cancelled > 0.05:  # what it waits for outlived the leg (another session's lock): give up
                for traffic in slow:
                    traffic.cancel()
                cancelled = now
            time.sleep(0.001)
        self.problem = self.problem or next((w.problem for w in self.workers() if w.problem), None)
        return list(leg.waits)

    def close(self) -> None:
        for worker in self.workers():
            worker.close()
        self.traffic, self.watcher = [], None


def statement_taking(statements: list[dict], table: str, lock: str) -> str | None:
    """The first statement of the leg (deploy/locks.py) that took this lock on the table; for a row lock, the first
    that wrote to it (ROW EXCLUSIVE)."""
    wanted = f"{table} {'ROW EXCLUSIVE' if lock == ROW_LOCK else lock}"
    return next((s["statement"] for s in statements if wanted in s["acquired"]), None)


def blocked(waits: list[Wait], statements: list[dict]) -> list[dict]:
    """Per table and kind, the waits of a leg as RevisionResult.blocked holds them, longest first. The statement is
    the migration's that took the lock (the observer saw it), else the blocker's query then (a LOCK TABLE followed
    by a long statement shows the latter)."""
    groups: dict[tuple[str, str], list[Wait]] = {}
    for wait in waits:
        groups.setdefault((wait.table, wait.kind), []).append(wait)
    summary = []
    for (table, kind), group in groups.items():
        longest = max(group, key=lambda wait: wait.seconds)
        summary.append({"table": table, "kind": kind, "longest": round(longest.seconds, 6),
                        "total": round(sum(wait.seconds for wait in group), 6), "waits": len(group),
                        "lock": longest.lock,
                        "statement": statement_taking(statements, table, longest.lock) or longest.statement})
    return sorted(summary, key=lambda row: (-row["longest"], row["table"], row["kind"]))
