"""Locks, observed: for each statement a leg's migration runs, its duration and the table locks its transaction
took with it (pg_locks for that backend, read on the same connection right after the statement), and per table
the strongest lock the leg held and for how long: from the start of the statement that took it to the end of its
transaction (commit or rollback).

The listeners sit on the Engine class for the length of the leg: a project's env.py may build an engine of its
own, and during a leg only the migration runs statements in this process (the probe's connections, marked with
PROBE, are left out). A lock taken and released inside one statement (CREATE INDEX CONCURRENTLY in an autocommit
block) is not seen after it: its statement's duration still is.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from thirdai_platform.migrate.parsed_sql import locks_no_table, relations_of_ddl
from thirdai_platform.migrate.walk.schema import USER_OIDS

PROBE = "thirdai_platform.deploy_probe"  # Connection.info key of the probe's own connections
STATEMENT_LIMIT = 300
# pg_locks' modes, weakest first, as the documentation names them
MODES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
STRENGTH = {mode: rank for rank, mode in enumerate(MODES.values())}
BLOCKS_READS = frozenset({"ACCESS EXCLUSIVE"})
BLOCKS_WRITES = frozenset({"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"})
# A SELECT's locks: they hold up only a stronger lock of the migration itself, never the application's traffic.
READS_ONLY = frozenset({"ACCESS SHARE", "ROW SHARE"})

# The application's tables: not the catalogs, the walk's temp copies, indexes, sequences or alembic_version.
# USER_OIDS: the catalogs and information_schema are left out by an index range (a catalog lock is never read).
TABLES = """c.relkind IN ('r', 'p', 'm', 'v') AND c.relname <> 'alembic_version'
    AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
    AND c.relnamespace <> pg_my_temp_schema()"""
# Table locks of this backend; a table dropped in its transaction has no pg_class row left: NULL, named by its oid
# from the tables known when the leg started.
LOCKS_SQL = f"""
SELECT l.relation::bigint, CASE WHEN {TABLES} THEN c.relname::text END, c.oid IS NULL, l.mode
FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND l.relation >= {USER_OIDS}
  AND (c.oid IS NULL OR ({TABLES}))  -- not the locks of indexes, sequences, TOAST tables: a DDL holds many
"""
# oid 0 (no relation's) stands for "the database has event triggers": DDL may then run anything
KNOWN_TABLES_SQL = f"""SELECT c.oid::bigint, c.relname::text FROM pg_class c WHERE c.oid >= {USER_OIDS} AND {TABLES}
UNION ALL SELECT 0, NULL WHERE EXISTS (SELECT FROM pg_event_trigger)"""
# Statements that take no lock a live application's reads or writes would wait on (a SELECT's ACCESS SHARE and
# ROW SHARE only hold up an ACCESS EXCLUSIVE or EXCLUSIVE one): their locks are not read, which keeps the cost of
# a walk small (Alembic's own version queries, env.py's settings, a data migration's reads).
HARMLESS = re.compile(
    r"\s*(SELECT|SET|SHOW|RESET|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b|.*\balembic_version\b",
    re.IGNORECASE | re.DOTALL,
)


@dataclass
class StatementTimes:
    statement: str
    seconds: float
    acquired: list[str] = field(default_factory=list)  # "models ACCESS EXCLUSIVE": the locks it added


@dataclass
class HeldLock:
    table: str
    mode: str  # as the documentation names it: ACCESS EXCLUSIVE
    seconds: float  # from the start of the statement that took it to the end of its transaction
    statement: str  # the statement that took it
    statement_seconds: float

    def __str__(self) -> str:
        return f"{self.statement[:80]} holds {self.mode} on {self.table} for {self.seconds:.3g} s"


@dataclass
class Taken:
    """A lock taken in the open transaction of one connection: when and by which statement."""

    started: float
    statement: StatementTimes


class LockObserver:
    """Use around one leg: `with LockObserver(connection) as observer: step()`, then observer.summary()."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection  # the walk's: names the tables there before the leg (a DROP removes them)
        self.names: dict[int, str] = {}
        self.statements: list[StatementTimes] = []
        self.held: dict[str, HeldLock] = {}  # table → the strongest lock held on it
        self.open: dict[int, dict[tuple[str, str], Taken]] = {}  # connection → its transaction's locks
        # connection → the tables its open transaction created: no other session sees them, nothing from before
        # depends on them, and the transaction holds ACCESS EXCLUSIVE on them already
        self.created: dict[int, set[str]] = {}
        self.seen: set[int] = set()  # oids of the tables known at the start or seen in a lock since
        self.named_at_start: frozenset[str] = frozenset()
        self.event_triggers = False
        self.seconds = 0.0  # spent observing (the walk's phase "locks")
        self.sent = hashlib.blake2b(digest_size=16)  # every statement the leg sent, with its parameters

    def __enter__(self) -> LockObserver:
        started = time.perf_counter()
        self.names = dict(raw_query(self.connection, "deploy_known_tables", KNOWN_TABLES_SQL))
        self.event_triggers = 0 in self.names
        self.names.pop(0, None)
        self.seen, self.named_at_start = set(self.names), frozenset(self.names.values())
        self.seconds += time.perf_counter() - started
        listen_once()
        ACTIVE.append(self)
        return self

    def __exit__(self, *_) -> None:
        ACTIVE.remove(self)
        for key in list(self.open):
            self.close(key)  # a transaction still open at the end of the leg: held until now at least

    def before(self, connection: Connection) -> None:
        if not connection.info.get(PROBE):
            connection.info["deploy_statement_started"] = time.perf_counter()

    def after(self, connection: Connection, statement: str, parameters) -> None:
        started = connection.info.pop("deploy_statement_started", None)
        if started is None:
            return
        ended = time.perf_counter()
        self.sent.update(f"{len(statement)}:{statement}{parameters!r}".encode())
        times = StatementTimes(" ".join(statement.split())[:STATEMENT_LIMIT], ended - started)
        self.statements.append(times)
        if not HARMLESS.match(statement) and not self.adds_no_table_lock(connection, statement):
            taken = self.open.setdefault(id(connection), {})
            for table, mode in self.table_locks(connection):
                if (table, mode) not in taken:
                    taken[(table, mode)] = Taken(started, times)
                    times.acquired.append(f"{table} {mode}")
        self.seconds += time.perf_counter() - ended

    def adds_no_table_lock(self, connection: Connection, statement: str) -> bool:
        """Whether the statement can add no lock another session would wait on, so the locks are not read after
        it: a statement on types alone (an enum's new type and the old one dropped), or DDL on tables its own
        transaction created (no table of that name existed before), which keeps a revision that creates a schema
        of hundreds of tables from reading all their locks after each statement. Never with event triggers: DDL
        may then run anything."""
        if self.event_triggers:
            return False
        if locks_no_table(statement):
            return True
        created = self.created.get(id(connection))
        if not created:
            return False
        named = relations_of_ddl(statement)
        return named is not None and named <= created and not named & self.named_at_start

    def what_was_sent(self) -> bytes | None:
        """A digest of the statements the leg sent and their parameters, in order; None when it cannot stand for
        what the leg did: nothing was seen, or event triggers may run anything on DDL."""
        return None if not self.statements or self.event_triggers else self.sent.digest()

    def ended(self, connection: Connection) -> None:
        self.close(id(connection))
        self.created.pop(id(connection), None)

    def close(self, key: int) -> None:
        now = time.perf_counter()
        for (table, mode), taken in self.open.pop(key, {}).items():
            held = HeldLock(table, mode, now - taken.started, taken.statement.statement, taken.statement.seconds)
            known = self.held.get(table)
            if known is None or (STRENGTH.get(mode, 0), held.seconds) > (STRENGTH.get(known.mode, 0), known.seconds):
                self.held[table] = held

    def summary(self) -> tuple[list[dict], list[dict]]:
        """The held locks (strongest first) and the statements, as plain dicts for the report."""
        held = sorted(self.held.values(), key=lambda h: (-STRENGTH.get(h.mode, 0), -h.seconds, h.table))
        return (
            [
                {
                    "table": h.table,
                    "mode": h.mode,
                    "seconds": round(h.seconds, 6),
                    "statement": h.statement,
                    "statement_seconds": round(h.statement_seconds, 6),
                }
                for h in held
            ],
            [
                {"statement": s.statement, "seconds": round(s.seconds, 6), "acquired": s.acquired}
                for s in self.statements
            ],
        )

    def table_locks(self, connection: Connection) -> list[tuple[str, str]]:
        locks = []
        for oid, table, dropped, mode in raw_query(connection, "deploy_table_locks", LOCKS_SQL):
            if table is None and dropped:
                table = self.names.get(oid)
            elif table is not None:
                self.names[oid] = table
                if oid not in self.seen:  # a table this transaction created
                    self.seen.add(oid)
                    self.created.setdefault(id(connection), set()).add(table)
            if table is not None and MODES.get(mode, mode) not in READS_ONLY:
                locks.append((table, MODES.get(mode, mode)))
        return locks


# The observer of the leg running in this process. The listeners stay on the Engine class once there: adding and
# removing them for every leg costs more than a call that finds no observer.
ACTIVE: list[LockObserver] = []


def listen_once() -> None:
    if not event.contains(Engine, "after_cursor_execute", _after):
        event.listen(Engine, "before_cursor_execute", _before)
        event.listen(Engine, "after_cursor_execute", _after)
        event.listen(Engine, "commit", _ended)
        event.listen(Engine, "rollback", _ended)


def _before(connection: Connection, cursor, statement, parameters, context, executemany) -> None:
    if ACTIVE:
        ACTIVE[-1].before(connection)


def _after(connection: Connection, cursor, statement, parameters, context, executemany) -> None:
    if ACTIVE:
        ACTIVE[-1].after(connection, statement, parameters)


def _ended(connection: Connection) -> None:
    if ACTIVE:
        ACTIVE[-1].ended(connection)


def raw_query(connection: Connection, name: str, sql: str) -> list[tuple]:
    """On a cursor of its own, past SQLAlchemy's events (the statement's cursor may still hold rows the migration is
    about to read), prepared once per session: planning the catalog join costs more than running it.

    psycopg2 is told to PREPARE and EXECUTE. psycopg 3 prepares on the server itself when asked (prepare=True) and
    knows when its prepared statements are gone: it deallocates them all after a DROP or a ROLLBACK, ours with
    them if they were ours, and a failed EXECUTE would abort the migration's transaction. Other drivers (asyncpg
    keeps a statement cache of its own) are sent the query as it is."""
    dbapi_connection = connection.connection.dbapi_connection
    driver = type(dbapi_connection).__module__.split(".")[0]
    cursor = dbapi_connection.cursor()
    try:
        if driver == "psycopg2":
            prepared = connection.info.setdefault("deploy_prepared", set())
            if name not in prepared:
                cursor.execute(f"PREPARE {name} AS {sql}")
                prepared.add(name)
            cursor.execute(f"EXECUTE {name}")
        elif driver == "psycopg":
            cursor.execute(sql, prepare=True)
        else:
            cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()
