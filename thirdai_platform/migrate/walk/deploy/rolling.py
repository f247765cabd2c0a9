"""Rolling deploys: the version still running while a revision deploys must survive the new schema.

Right after an upgrade, the parent version's traffic is replayed on the new schema: a SELECT of every column it
had, an UPDATE of each changed column by row, an INSERT giving only its columns, with values it wrote (the walk's
copy of the data before the upgrade, sent as untyped literals as a driver sends them). Every statement runs in a
savepoint that is rolled back. After the downgrade the new version, still running while a deploy is rolled back,
replays its reads and writes of the columns the parent has too.

Only tables whose schema differs are replayed: an unchanged table serves the old version as before. Which tables
and columns differ, and how, traffic.py reads from the two schemas.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from thirdai_platform.migrate.findings import NOTE, ROLLING_CHECKS, Finding
from thirdai_platform.migrate.walk.data import TableCopy, qualified, quote, run_sql
from thirdai_platform.migrate.walk.deploy.errors import (
    NOT_NULL_VIOLATION,
    NOT_THE_SCHEMAS_FAULT,
    UNDEFINED_COLUMN,
    StatementError,
    attempt,
)
from thirdai_platform.migrate.walk.deploy.traffic import (
    Traffic,
    changed_columns,
    changed_tables,
    generated,
    lost_labels,
    renamed_columns,
    what_became_of,
)
from thirdai_platform.migrate.walk.roundtrip import RoundTrip
from thirdai_platform.migrate.walk.schema import SchemaSnapshot, column_type, column_type_name

ROLLING_DEPLOY, ROLLING_BACK = ROLLING_CHECKS  # the checks' names in findings: after the upgrade, after the downgrade
SAMPLE_ROWS = 3  # rows the old version inserts
LONGEST_VALUES = 4  # values per changed column it writes: NULL and the longest (what a narrowed type refuses)
ENUM_VALUES = 50  # an enum column: every label it holds
EXPAND_CONTRACT = "expand now, contract in a later revision once no running version needs the old shape"


def old_version_meets_upgrade(trip: RoundTrip, at_revision: SchemaSnapshot, severity: str = NOTE) -> list[Finding]:
    """The parent version's reads and writes on the schema the upgrade made."""
    traffic = Traffic(
        trip.connection,
        trip.revision,
        ROLLING_DEPLOY,
        "the running version",
        "upgrade",
        trip.parent,
        at_revision,
        trip.parent.columns,
        trip.before,
        severity,
    )
    return replay(traffic)


def new_version_meets_downgrade(trip: RoundTrip, back: SchemaSnapshot, severity: str = NOTE) -> list[Finding]:
    """The new version's reads and writes of the columns the parent has too, on the schema the downgrade left.
    What the downgrade removes on purpose (the revision's new columns and enum labels) is no finding: a rollback
    deploys the old code first."""
    version = trip.at_revision
    columns = {
        t: [c for c in names if c in back.columns[t]] for t, names in version.columns.items() if t in back.columns
    }
    traffic = Traffic(
        trip.connection,
        trip.revision,
        ROLLING_BACK,
        "the new version (still running during a rollback)",
        "downgrade",
        version,
        back,
        columns,
        trip.written,
        severity,
    )
    return replay(traffic)


def replay(traffic: Traffic) -> list[Finding]:
    findings = []
    for table in changed_tables(traffic.version, traffic.now, traffic.columns):
        findings += replay_table(traffic, table)
    return findings


def replay_table(traffic: Traffic, table: str) -> list[Finding]:
    if table not in traffic.now.columns:
        return [
            traffic.finding(
                f"{traffic.who} reads and writes table {table}, which the {traffic.change} dropped or renamed: "
                f"every statement on it fails; {EXPAND_CONTRACT}",
                table,
            )
        ]
    findings = read(traffic, table)
    present = [c for c in traffic.columns[table] if c in traffic.now.columns[table]]
    copy = traffic.values.tables.get(table) if traffic.values else None
    if copy is None:
        return findings
    # a rename's new name is NOT NULL without a default the version knows: the same finding as the old name's
    reported = {f.column for f in findings} | renamed_columns(traffic, table)
    for column in changed_columns(traffic, table, present):
        findings += update(traffic, table, column, copy)
    return findings + insert(traffic, table, present, copy, {f.column for f in findings} | reported)


def read(traffic: Traffic, table: str) -> list[Finding]:
    columns = traffic.columns[table]
    if all(c in traffic.now.columns[table] for c in columns):
        return []  # the table and every column the version reads are there: its SELECT runs (not tried: it costs)
    sql = f"SELECT {', '.join(map(quote, columns)) or '1'} FROM {qualified(table)} LIMIT 1"
    error = attempt(traffic.connection, sql)
    if error is None:
        return []
    gone = [c for c in columns if c not in traffic.now.columns[table]]
    if error.sqlstate != UNDEFINED_COLUMN or not gone:
        return [traffic.finding(f"{traffic.who} cannot select from {table}: {error.message}", table, statement=sql)]
    return [
        traffic.finding(
            f"{traffic.who} reads {table}.{column}, which the {traffic.change} {what_became_of(traffic, table, column)}: "
            f"its SELECT fails ({error.message}); {EXPAND_CONTRACT}",
            table,
            column,
            sql,
        )
        for column in gone
    ]


def update(traffic: Traffic, table: str, column: str, copy: TableCopy) -> list[Finding]:
    """Write each sample value of the column into one row, as the version's UPDATE ... SET column = value does."""
    sql = (
        f"UPDATE {qualified(table)} SET {quote(column)} = :value "
        f"WHERE ctid = (SELECT ctid FROM {qualified(table)} LIMIT 1)"
    )
    lost = lost_labels(traffic, table, column)
    for value in sample_values(traffic.connection, copy, column, many=bool(lost)):
        if traffic.change == "downgrade" and value in lost:
            continue  # a label of the revision's own, which its downgrade removes on purpose
        error = attempt(traffic.connection, sql, {"value": value})
        if error is not None and error.sqlstate not in NOT_THE_SCHEMAS_FAULT:
            return [traffic.finding(write_failure(traffic, table, column, value, error), table, column, sql)]
    return []


def sample_values(connection: Connection, copy: TableCopy, column: str, many: bool) -> list[str | None]:
    """NULL when the column holds one, then the longest distinct values (every label of an enum column)."""
    if column not in copy.columns:
        return []
    limit = ENUM_VALUES if many else LONGEST_VALUES
    query = (
        f"SELECT value FROM (SELECT DISTINCT {quote(column)} AS value FROM {copy.rows.relation}) d "
        f"ORDER BY length(value) DESC NULLS FIRST LIMIT {limit}"
    )
    return list(run_sql(connection, query).scalars())


def write_failure(traffic: Traffic, table: str, column: str, value: str | None, error: StatementError) -> str:
    before, after = (column_type(traffic.description(s, table, column) or "") for s in (traffic.version, traffic.now))
    if error.sqlstate == NOT_NULL_VIOLATION:
        return (
            f"{traffic.who} writes NULL to {table}.{column}, which became NOT NULL: its write fails "
            f"({error.message}); keep it nullable now, SET NOT NULL in a later revision once no running "
            "version writes NULL"
        )
    if labels := lost_labels(traffic, table, column):
        return (
            f"{traffic.who} writes {', '.join(map(repr, labels))} to {table}.{column}, a label the {traffic.change} "
            f"removed from enum {column_type_name(before)}: its write fails ({error.message}); keep the label "
            "now, remove it in a later revision once no running version writes it"
        )
    if before != after:
        return (
            f"{traffic.who} writes values that no longer fit {table}.{column} ({before} → {after}), e.g. "
            f"{shortened(value)}: its write fails ({error.message}); {EXPAND_CONTRACT} (add a column of the "
            "new type and write both)"
        )
    return f"{traffic.who} cannot write {table}.{column}: {error.message}"


def shortened(value: str | None, limit: int = 60) -> str:
    return "NULL" if value is None else repr(value if len(value) <= limit else value[:limit] + "…")


def insert(traffic: Traffic, table: str, present: list[str], copy: TableCopy, reported: set) -> list[Finding]:
    """Insert rows the version wrote, giving only its columns. Each row keeps its own key, so it conflicts with
    itself and inserts nothing (no sequence moves), after the NOT NULL and CHECK constraints have been checked."""
    given = [c for c in present if c in copy.columns and not generated(traffic.description(traffic.version, table, c))]
    names = ", ".join(map(quote, given))
    placeholders = ", ".join(f":v{i}" for i in range(len(given)))
    sql = (
        f"INSERT INTO {qualified(table)} ({names}) OVERRIDING SYSTEM VALUE VALUES ({placeholders}) "
        "ON CONFLICT DO NOTHING"
        if given
        else f"INSERT INTO {qualified(table)} DEFAULT VALUES"
    )
    rows = sample_rows(traffic, table, given, copy)
    if given and len(rows) > 1 and attempt(traffic.connection, *all_at_once(sql, given, rows)) is None:
        return []  # every row inserts in one statement: so does each alone (tried one by one only on an error)
    for row in rows:
        error = attempt(traffic.connection, sql, {f"v{i}": value for i, value in enumerate(row[: len(given)])})
        if error is None or error.sqlstate in NOT_THE_SCHEMAS_FAULT:
            continue
        if error.column in reported or (error.column is None and reported - {None}):
            return []  # already said, by the column's own write
        return [traffic.finding(insert_failure(traffic, table, error), table, error.column, sql)]
    return []


def all_at_once(sql: str, given: list[str], rows: list[tuple]) -> tuple[str, dict]:
    """The one-row INSERT for all the rows: VALUES (:r0v0, ...), (:r1v0, ...)."""
    one_row = "(" + ", ".join(f":v{i}" for i in range(len(given))) + ")"
    values = ", ".join(one_row.replace(":v", f":r{r}v") for r in range(len(rows)))
    parameters = {f"r{r}v{i}": value for r, row in enumerate(rows) for i, value in enumerate(row[: len(given)])}
    return sql.replace(f"VALUES {one_row}", f"VALUES {values}"), parameters


def sample_rows(traffic: Traffic, table: str, given: list[str], copy: TableCopy) -> list[tuple]:
    """Rows the version wrote; after a downgrade, none holding a label of the revision's own (removed on purpose)."""
    own_labels = {c: lost_labels(traffic, table, c) for c in given} if traffic.change == "downgrade" else {}
    conditions = [
        f"({quote(c)} IS NULL OR {quote(c)} <> ALL(:labels_{i}))"
        for i, (c, labels) in enumerate(own_labels.items())
        if labels
    ]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    query = f"SELECT {', '.join(map(quote, given)) or '1'} FROM {copy.rows.relation}{where} LIMIT {SAMPLE_ROWS}"
    parameters = {f"labels_{i}": labels for i, labels in enumerate(own_labels.values()) if labels}
    return list(traffic.connection.execute(text(query), parameters).all())


def insert_failure(traffic: Traffic, table: str, error: StatementError) -> str:
    column = error.column
    if error.sqlstate == NOT_NULL_VIOLATION and column and column not in traffic.columns[table]:
        return (
            f"{traffic.who} inserts into {table} without {column}, a NOT NULL column without a default it does "
            f"not know: its INSERT fails ({error.message}); add {column} nullable or with a default now, make "
            "it NOT NULL in a later revision"
        )
    return f"{traffic.who} cannot insert into {table}: {error.message}"
