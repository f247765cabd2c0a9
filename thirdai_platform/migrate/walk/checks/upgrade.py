"""The checks after the upgrade: nothing of the parent's data may vanish unless the revision declares the loss."""

from __future__ import annotations

from thirdai_platform.migrate.findings import NOTE, Finding
from thirdai_platform.migrate.walk import data, value_search
from thirdai_platform.migrate.walk.checks.compare import changed_columns, timestamp_columns
from thirdai_platform.migrate.walk.data import Comparison, TableCopy, live
from thirdai_platform.migrate.walk.roundtrip import UPGRADE, RoundTrip, type_of
from thirdai_platform.migrate.walk.schema import SchemaSnapshot


def check_upgrade(trip: RoundTrip, now: SchemaSnapshot) -> list[Finding]:
    """Nothing of the parent's data may vanish: rows stay, kept columns keep their values, dropped columns' values
    are found somewhere, a type change keeps every value."""
    kept_tables = [t for t in trip.before.tables if t in now.columns and not trip.lost_on_upgrade.covers(t)]
    findings, shrunk = [], set()
    for table, remaining in data.count_rows(trip.connection, kept_tables).items():
        had = trip.before.tables[table].count
        if remaining < had:
            shrunk.add(table)
            findings.append(
                trip.finding(
                    UPGRADE,
                    f"upgrade removed {had - remaining} of {had} rows of {table}",
                    table=table,
                    rows=had - remaining,
                )
            )
    findings += check_type_changes(trip, now, kept_tables)
    findings += check_kept_columns(trip, now, [t for t in kept_tables if t in trip.touched and t not in shrunk])
    findings += check_dropped_columns(trip, now)
    return findings


# -- a changed type ----------------------------------------------------------------------------------------------


def retyped_columns(trip: RoundTrip, now: SchemaSnapshot, tables: list[str]) -> list[tuple[str, str]]:
    return [
        (table, column)
        for table in tables
        for column in trip.before.tables[table].columns
        if column in now.columns[table] and type_of(trip.parent, table, column) != type_of(now, table, column)
    ]


def check_type_changes(trip: RoundTrip, now: SchemaSnapshot, tables: list[str]) -> list[Finding]:
    """A changed column type keeps every value, compared as values of the new type."""
    retyped = {}
    for table, column in retyped_columns(trip, now, tables):
        key = [c for c in trip.parent.primary_key_columns.get(table) or [] if c in now.columns[table] and c != column]
        retyped[(table, column)] = (key, Comparison(trip.before.tables[table].rows, live(table), key + [column]))
    changed_by_text = data.missing_rows(
        trip.connection, {place: comparison for place, (_, comparison) in retyped.items()}
    )
    findings = []
    for (table, column), changed in changed_by_text.items():
        key, comparison = retyped[(table, column)]
        if changed.count and key:
            changed = data.changed_under_type(
                trip.connection, comparison.source, table, key, column, type_of(now, table, column)
            )
        if changed.count:
            old, new = type_of(trip.parent, table, column), type_of(now, table, column)
            findings.append(
                trip.finding(
                    UPGRADE,
                    f"changing {table}.{column} from {old} to {new} altered {changed.count} of "
                    f"{trip.before.tables[table].count} values"
                    f"{changed_columns(trip, table, comparison.columns, changed.sample, now)}",
                    table=table,
                    column=column,
                    rows=changed.count,
                    sample=changed.sample,
                )
            )
    return findings


# -- a kept column -----------------------------------------------------------------------------------------------


def check_kept_columns(trip: RoundTrip, now: SchemaSnapshot, tables: list[str]) -> list[Finding]:
    """A kept column may not lose values unnoticed: fewer non-NULL or fewer distinct values than before is a loss,
    unless data_loss["upgrade"] declares it, the column was set to the current time, or the values that left it are
    all found in another column (moved out first, the column to be dropped later)."""
    columns = kept_columns(trip, now, tables)
    before = data.column_fingerprints(trip.connection, {t: trip.before.tables[t].rows for t in tables}, columns)
    after = data.column_fingerprints(trip.connection, {t: live(t) for t in tables}, columns)
    findings = []
    for (table, column), (values, hashed) in before.items():
        values_now, hashed_now = after[(table, column)]
        if hashed_now == hashed and values_now == values:
            continue  # the column's values are as they were
        if set_to_current_time(trip, now, table, column):
            trip.stamped_by_upgrade.add((table, column))  # nor is the downgrade expected to give the old times back
            findings.append(
                trip.finding(
                    UPGRADE,
                    f"{table}.{column} was set to the current time by the upgrade: not compared",
                    NOTE,
                    table=table,
                    column=column,
                )
            )
        elif lost := values_destroyed(trip, now, table, column, values, values_now):
            findings.append(
                trip.finding(
                    UPGRADE,
                    f"upgrade destroyed values of {table}.{column}, a column it keeps ({lost}): keep them, or "
                    f'declare the loss in data_loss = {{"upgrade": ["{table}.{column}"]}}',
                    table=table,
                    column=column,
                )
            )
    return findings


def kept_columns(trip: RoundTrip, now: SchemaSnapshot, tables: list[str]) -> dict[str, list[str]]:
    """The parent's columns each table keeps, type and all (a changed type is check_type_changes'), less declared losses."""
    retyped = set(retyped_columns(trip, now, tables))
    return {
        t: [
            c
            for c in trip.before.tables[t].columns
            if c in now.columns[t] and (t, c) not in retyped and not trip.lost_on_upgrade.covers(t, c)
        ]
        for t in tables
    }


def set_to_current_time(trip: RoundTrip, now: SchemaSnapshot, table: str, column: str) -> bool:
    comparison = Comparison(trip.before.tables[table].rows, live(table), [column])
    candidates = timestamp_columns(now, table, [column])
    return bool(data.stamped_columns(trip.connection, comparison, candidates, trip.windows[UPGRADE].widened()))


def values_destroyed(
    trip: RoundTrip, now: SchemaSnapshot, table: str, column: str, values: int, values_now: int
) -> str | None:
    """What a kept column lost, as counts (fewer rows with a value, else fewer distinct values), unless the values
    that left it are all found in another column at the revision (moved out first); None: nothing lost."""
    before = trip.before.tables[table].rows
    if values_now < values:
        lost = f"{values} → {values_now} rows with a value"
    else:
        distinct = data.distinct_values(trip.connection, before, column)
        distinct_now = data.distinct_values(trip.connection, live(table), column)
        if distinct_now >= distinct:
            return None
        lost = f"{distinct} → {distinct_now} distinct values"
    others = [(t, c) for t, cols in now.columns.items() for c in cols if (t, c) != (table, column)]
    return None if value_search.vanished_values_found(trip.connection, before, table, column, others) else lost


# -- a dropped column or table -----------------------------------------------------------------------------------


def check_dropped_columns(trip: RoundTrip, now: SchemaSnapshot) -> list[Finding]:
    """A dropped column's (or table's) values must be found somewhere at the revision, unless declared lost: one
    finding per dropped column of a kept table, one per dropped table."""
    places = [(t, c) for t, cols in now.columns.items() for c in cols]
    places.sort(key=lambda place: place[1] in trip.parent.columns.get(place[0], []))  # new columns first
    findings = []
    for table, copy in trip.before.tables.items():
        dropped = [
            c for c in copy.columns if c not in now.columns.get(table, []) and not trip.lost_on_upgrade.covers(table, c)
        ]
        lost = values_found_nowhere(trip, copy, dropped, places)
        if lost and table not in now.columns:
            findings.append(dropped_table(trip, table, copy, lost))
        else:
            findings += [dropped_column(trip, table, copy, column, values) for column, values in lost.items()]
    return findings


def values_found_nowhere(
    trip: RoundTrip, copy: TableCopy, dropped: list[str], places: list[tuple[str, str]]
) -> dict[str, int]:
    """Dropped column → its count of distinct values, for the columns whose values no place holds."""
    lost = {}
    for column in dropped:
        values = data.distinct_values(trip.connection, copy.rows, column)
        if values and not value_search.values_found_in(trip.connection, copy.rows, column, values, places):
            lost[column] = values
    return lost


def dropped_table(trip: RoundTrip, table: str, copy: TableCopy, lost: dict[str, int]) -> Finding:
    trip.reported_lost.add(table)
    return trip.finding(
        UPGRADE,
        f"upgrade dropped table {table} holding {copy.count} rows whose values of "
        f"{', '.join(lost)} are found nowhere at this revision: move the data, or declare the loss "
        f'in data_loss = {{"upgrade": ["{table}"]}}',
        table=table,
        rows=copy.count,
        sample=data.row_with_value(trip.connection, copy.rows, list(copy.columns), next(iter(lost))),
    )


def dropped_column(trip: RoundTrip, table: str, copy: TableCopy, column: str, values: int) -> Finding:
    trip.reported_lost.add(f"{table}.{column}")
    rows = data.count_values(trip.connection, copy.rows, column)
    return trip.finding(
        UPGRADE,
        f"upgrade dropped column {table}.{column} holding {values} distinct values in {rows} of "
        f"{copy.count} rows that are found nowhere at this revision: move the data, or declare the "
        "loss in data_loss",
        table=table,
        column=column,
        rows=rows,
        sample=data.row_with_value(trip.connection, copy.rows, list(copy.columns), column),
    )
