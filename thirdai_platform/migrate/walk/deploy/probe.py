"""Blocking, measured: while a leg runs, the probe sends the traffic a live application sends to the tables in the
revision's scope, on connections of its own, and records how long each statement waited and on what.

Two connections send it, one thread each, in rounds every INTERVAL until the leg ends: the reader reads a row by
its primary key (the first row when the table has none); the writer, in one transaction it rolls back at once, inserts
(a zero-row INSERT ... SELECT: the same table and index locks as a real insert, without rows, sequence values or
constraint failures) and updates the first row's first column to itself (a row lock, as a real update takes).

A wait is a statement PostgreSQL made wait more than WAIT_THRESHOLD for a lock: each statement runs with that
lock_timeout first (an unblocked read or write of one row takes well under a millisecond, so 5 ms keeps the noise
of a walk at --rows 5 out, and a busy machine's slow statements that wait for no lock never count). One that times
out is a wait: the probe reads which backend holds the lock (pg_locks: its mode, pg_stat_activity: its query), then
tries again in slices of SLICE until it runs or the leg ends, and the wait's time is from its first try to its
last. Between slices it holds nothing: an update waiting for a backfilled row holds its table's ROW EXCLUSIVE, which
the migration's next ALTER would wait for, and PostgreSQL's deadlock detection could then cancel the migration. So
the probe never holds up a migration longer than a slice, and it stops within one when the leg ends.

Not seen: the locks an insert's foreign key check takes on the referenced table (ROW SHARE), as the probe writes no
row; reads of that table are probed when the revision's scope holds it.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import psycopg2
from psycopg2.errors import LockNotAvailable
from sqlalchemy.engine import URL

from thirdai_platform.database.connection import engine_for
from thirdai_platform.errors import one_line
from thirdai_platform.migrate.walk.deploy.locks import (
    BLOCKS_READS,
    BLOCKS_WRITES,
    MODES,
    PROBE,
    STATEMENT_LIMIT,
    STRENGTH,
)

READ, WRITE = "read", "write"
# Seconds between the rounds of each traffic connection, and before its first: a lock held less than the first plus
# the threshold may make no wait seen, far below what a deploy notices (and below the 0.1 s a note needs), and a leg
# as short (most of a walk at --rows 5) costs the probe nothing, not even a query.
INTERVAL = 0.025
FIRST_ROUND = 0.05
WAIT_THRESHOLD = 0.005  # a statement that waits longer than this for a lock is a wait: see the docstring
SLICE = 0.05  # the lock_timeout of the tries after the first
STOP_SECONDS = 5.0  # the longest the end of a leg waits for a wait in progress (it ends within a slice)
ROW_LOCK = "row lock"  # the lock of a wait for a row another transaction changed (an UPDATE's backfill)
BLOCKS = {READ: BLOCKS_READS, WRITE: BLOCKS_WRITES}
SETTINGS = "SET statement_timeout = '1min'; SET application_name = 'thirdai deploy probe'"  # a net, never reached

# The tables of the public schema, or those named: their primary key's columns and the columns a write can set.
# Prepared once per connection: the schema is named, not its oid (a walk drops and makes it again after a failure).
TARGETS_SQL = """
SELECT c.relname::text, c.oid::bigint, c.oid::regclass::text,
    ARRAY(SELECT quote_ident(a.attname) FROM pg_index i
          CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
          WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.n),
    ARRAY(SELECT quote_ident(a.attname) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
          AND NOT a.attisdropped AND a.attidentity <> 'a' AND a.attgenerated = '' ORDER BY a.attnum)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
WHERE c.relkind IN ('r', 'p') AND c.relname <> 'alembic_version'
    AND ($1::text[] IS NULL OR c.relname = ANY($1::text[]))
ORDER BY c.relname
"""
# The table locks other backends than the probe's hold on a table and its indexes, with their query.
HOLDERS_SQL = """
SELECT l.mode, a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.granted AND l.pid <> ALL($2::int[])
    AND l.relation IN (SELECT $1::oid UNION ALL SELECT indexrelid FROM pg_index WHERE indrelid = $1::oid)
"""


@dataclass(frozen=True)
class Target:
    """One table's probe statements: the writer's are sent at once, in one transaction (one round trip)."""

    table: str
    oid: int
    read: str
    write: str | None  # None: the table has no column a write could set

    def statement(self, kind: str) -> str | None:
        return self.read if kind == READ else self.write


def target_of(table: str, oid: int, name: str, keys: list[str], columns: list[str]) -> Target:
    """name: the table as SQL names it (quoted where needed); keys: its primary key; columns: those a write sets."""
    if keys:
        key = ", ".join(keys)
        where = f"({key}) = (SELECT {key} FROM {name} LIMIT 1)"
        read = f"SELECT * FROM {name} WHERE {where}"
    else:
        where, read = f"ctid = (SELECT ctid FROM {name} LIMIT 1)", f"SELECT * FROM {name} LIMIT 1"
    if not columns:
        return Target(table, oid, read, None)
    listed = ", ".join(columns)
    return Target(
        table,
        oid,
        read,
        f"BEGIN; INSERT INTO {name} ({listed}) SELECT {listed} FROM {name} WHERE false; "
        f"UPDATE {name} SET {columns[0]} = {columns[0]} WHERE {where}; ROLLBACK",
    )


@dataclass(frozen=True)
class Wait:
    table: str
    kind: str  # READ or WRITE
    seconds: float
    lock: str  # the holder's mode as the documentation names it (ACCESS EXCLUSIVE), or ROW_LOCK
    statement: str  # the holder's query as PostgreSQL showed it then


@dataclass
class Leg:
    tables: set[str] | None  # None: every table
    stopped: threading.Event = field(default_factory=threading.Event)
    waits: list[Wait] = field(default_factory=list)
    targets: list[Target] | None = None  # those that exist, found by the first thread to look
    finding: threading.Lock = field(default_factory=threading.Lock)

    def targets_found(self, traffic: Traffic) -> list[Target]:
        with self.finding:
            if self.targets is None:
                names = None if self.tables is None else sorted(self.tables)
                self.targets = [target_of(*row) for row in traffic.query("EXECUTE deploy_probe_targets(%s)", (names,))]
            return self.targets


def holder(kind: str, row: bool, holders: list[tuple[str, str]]) -> tuple[str, str] | None:
    """(lock, statement) of the backend the statement waited for: the strongest lock that conflicts with it, or for a
    row, the strongest of a writer's; None when it is gone already."""
    named = [(MODES.get(mode, mode), " ".join((query or "").split())[:STATEMENT_LIMIT]) for mode, query in holders]
    candidates = [(mode, query) for mode, query in named if row or mode in BLOCKS[kind]]
    if not candidates:
        return None
    mode, query = max(candidates, key=lambda candidate: STRENGTH.get(candidate[0], -1))
    return (ROW_LOCK if row else mode), query


class Traffic:
    """The reader or the writer: one probe connection and the thread using it, parked between legs on its queue."""

    def __init__(self, url: URL, kind: str) -> None:
        self.kind = kind
        self.engine = engine_for(url)  # NullPool, and an unreachable server fails within the timeout
        self.connection = self.engine.connect()
        self.connection.info[PROBE] = True  # the lock observer leaves it out
        self.dbapi = self.connection.connection.dbapi_connection
        self.dbapi.autocommit = True  # the writer's transactions are its own BEGIN ... ROLLBACK
        self.pid = self.query("SELECT pg_backend_pid()")[0][0]
        self.query(
            f"{SETTINGS}; PREPARE deploy_probe_targets(text[]) AS {TARGETS_SQL};"
            f"PREPARE deploy_probe_holders(oid, int[]) AS {HOLDERS_SQL}"
        )
        self.lock_timeout: float | None = None
        self.probes = [self.pid]  # the probe's backends: never the holder of a lock it waits for
        self.since: float | None = None  # when the statement it sends now started
        self.legs: queue.Queue[Leg | None] = queue.Queue()
        self.problem: str | None = None
        self.thread = threading.Thread(target=self.serve, daemon=True, name=f"deploy probe {kind}")
        self.thread.start()

    def query(self, sql: str, parameters: tuple | None = None) -> list[tuple]:
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
        pause = FIRST_ROUND
        while not leg.stopped.wait(pause):
            pause = INTERVAL
            for target in leg.targets_found(self):
                if leg.stopped.is_set():
                    return
                if statement := target.statement(self.kind):
                    self.send(leg, target, statement)

    def send(self, leg: Leg, target: Target, statement: str) -> None:
        self.since = started = time.perf_counter()
        held = None
        try:
            waited = self.attempt(statement, WAIT_THRESHOLD)
            while waited is not None:
                held = held or holder(
                    self.kind,
                    waited == ROW_LOCK,
                    self.query("EXECUTE deploy_probe_holders(%s, %s)", (target.oid, self.probes)),
                )
                if leg.stopped.is_set():
                    break
                waited = self.attempt(statement, SLICE)
            if held is not None:  # else what it waited for was gone before it could be seen: a wait of a few ms
                leg.waits.append(Wait(target.table, self.kind, time.perf_counter() - started, *held))
        finally:
            self.since = None

    def may_be_waiting(self, now: float) -> bool:
        since = self.since
        return since is not None and now - since > WAIT_THRESHOLD

    def attempt(self, statement: str, lock_timeout: float) -> str | None:
        """Runs the statement (rolled back); what it waited for too long: ROW_LOCK, "table", or None (it ran, or
        failed otherwise: a constraint, a table or column the migration dropped)."""
        if lock_timeout != self.lock_timeout:
            self.query(f"SET lock_timeout = '{round(lock_timeout * 1000)}ms'")
            self.lock_timeout = lock_timeout
        try:
            self.query(statement)
        except LockNotAvailable as error:
            self.end_transaction()
            return ROW_LOCK if "tuple" in (error.diag.context or "") else "table"
        except psycopg2.Error:
            self.end_transaction()
        return None

    def end_transaction(self) -> None:
        """The writer's, which a failed statement left open (the reader has none)."""
        if self.kind == WRITE:
            self.query("ROLLBACK")

    def close(self) -> None:
        self.legs.put(None)
        self.thread.join(STOP_SECONDS)
        self.connection.close()
        self.engine.dispose()


class Probe:
    """Created once per walk; `start(tables)` before a leg's step, `stop()` after it; `close()` at the end."""

    def __init__(self, url: URL) -> None:
        self.url = url.set(drivername="postgresql+psycopg2")
        self.traffic: list[Traffic] = []
        self.leg: Leg | None = None
        self.problem: str | None = None  # why it measures nothing (it could not connect, it lost a connection)

    def connect(self) -> None:
        if not self.traffic:
            for kind in (READ, WRITE):  # one by one: close() closes the first if the second cannot connect
                self.traffic.append(Traffic(self.url, kind))
            for traffic in self.traffic:
                traffic.probes = [t.pid for t in self.traffic]

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
        for traffic in self.traffic:
            traffic.legs.put(self.leg)
        return True

    def stop(self) -> list[Wait] | None:
        """The waits of the leg; None when it probed nothing. Waits only for statements that may be waits (running
        past the threshold) to be recorded: the leg's locks are gone, they end within a slice. The others end on
        their own, and the threads take the next leg when their round is done."""
        leg, self.leg = self.leg, None
        if leg is None:
            return None
        leg.stopped.set()
        deadline = time.perf_counter() + STOP_SECONDS
        while any(traffic.may_be_waiting(time.perf_counter()) for traffic in self.traffic):
            if time.perf_counter() > deadline:
                self.problem = f"a statement of it did not end within {STOP_SECONDS:g} s of the end of a leg"
                break
            time.sleep(0.001)
        self.problem = self.problem or next((t.problem for t in self.traffic if t.problem), None)
        return list(leg.waits)

    def close(self) -> None:
        for traffic in self.traffic:
            traffic.close()
        self.traffic = []


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
        summary.append(
            {
                "table": table,
                "kind": kind,
                "longest": round(longest.seconds, 6),
                "total": round(sum(wait.seconds for wait in group), 6),
                "waits": len(group),
                "lock": longest.lock,
                "statement": statement_taking(statements, table, longest.lock) or longest.statement,
            }
        )
    return sorted(summary, key=lambda row: (-row["longest"], row["table"], row["kind"]))
