"""The checks after each leg of one revision's round trip, as functions over what the walk recorded (a RoundTrip).

The walk (revision_walk.py) runs the legs, copies the data and hands each check the copies and snapshots it needs; a check
reads the database only to compare, and returns findings. So "where is the downgrade check?" is `check_downgrade`.

Two things the checks forgive, because they are not losses:
- the clock: a timestamp column whose changed values all fall inside the leg that changed them was set to the
  current time by the migration (a `now()` default, a backfill, an ORM `onupdate`); a note, and the other columns
  of those rows are compared without it;
- a type change that keeps every value: values compared under the new type (10.5 and 10.500 in numeric(8,3)).
"""

from __future__ import annotations

import json

from thirdai_platform.migrate.findings import FAILURE, NOTE, Finding
from thirdai_platform.migrate.walk import data
from thirdai_platform.migrate.walk.data import Comparison, Missing, live
from thirdai_platform.migrate.walk.roundtrip import DOWNGRADE, UPGRADE, UPGRADE_AGAIN, RoundTrip, type_of
from thirdai_platform.migrate.walk.schema import SchemaSnapshot, compare_schemas


def check_schema(trip: RoundTrip, leg: str, expected: SchemaSnapshot, now: SchemaSnapshot) -> list[Finding]:
    findings = []
    for difference in compare_schemas(expected, now):
        if leg == DOWNGRADE and labels_only_added(difference):
            findings.append(
                trip.finding(
                    leg,
                    f"{difference}: PostgreSQL cannot drop an enum label without recreating "
                    "the type, so the downgrade left it; rows holding it keep it",
                    NOTE,
                )
            )
        else:
            findings.append(
                trip.finding(
                    leg,
                    f"schema differs from before: {difference}",
                    NOTE if difference.kind == "column_order" else FAILURE,
                )
            )
    return findings


def labels_only_added(difference) -> bool:
    """An enum whose labels are the expected ones in their order, plus some: labels an upgrade added."""
    if difference.kind != "enum" or not difference.before or not difference.after:
        return False
    expected, found = json.loads(difference.before), json.loads(difference.after)
    return [label for label in found if label in expected] == expected and len(found) > len(expected)


# -- the clock --------------------------------------------------------------------------------------------------


def timestamp_columns(schema: SchemaSnapshot, table: str, columns: list[str]) -> list[str]:
    return [
        c
        for c in columns
        if f"{table}.{c}" in schema.objects["column"] and type_of(schema, table, c).startswith("timestamp")
    ]


def compare_forgiving_the_clock(
    trip: RoundTrip, leg: str, comparisons: dict[str, Comparison], now: SchemaSnapshot
) -> tuple[dict[str, Missing], list[Finding]]:
    """missing_rows, except that a timestamp column the leg set to the current time is a note and left out."""
    found = data.missing_rows(trip.connection, comparisons)
    notes, again = [], {}
    for table, missing in found.items():
        comparison = comparisons[table]
        candidates = timestamp_columns(now, table, comparison.columns) if missing.count else []
        stamped = data.stamped_columns(trip.connection, comparison, candidates, trip.windows[leg].widened())
        for column in stamped:
            notes.append(
                trip.finding(
                    leg,
                    f"{table}.{column} was set to the current time by the migration (a now() "
                    "default or backfill, or a stamp in Python): not compared",
                    NOTE,
                    table=table,
                    column=column,
                )
            )
        if stamped:
            again[table] = Comparison(
                comparison.source,
                comparison.target,
                [c for c in comparison.columns if c not in stamped],
                comparison.minus,
            )
    return {**found, **data.missing_rows(trip.connection, again)}, notes


# -- the upgrade -------------------------------------------------------------------------------------------------


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


def check_kept_columns(trip: RoundTrip, now: SchemaSnapshot, tables: list[str]) -> list[Finding]:
    """A kept column may not lose values unnoticed: fewer non-NULL or fewer distinct values than before is a loss,
    unless data_loss["upgrade"] declares it, the column was set to the current time, or the values that left it are
    all found in another column (moved out first, the column to be dropped later)."""
    retyped = set(retyped_columns(trip, now, tables))
    columns = {
        t: [
            c
            for c in trip.before.tables[t].columns
            if c in now.columns[t] and (t, c) not in retyped and not trip.lost_on_upgrade.covers(t, c)
        ]
        for t in tables
    }
    before = data.column_fingerprints(trip.connection, {t: trip.before.tables[t].rows for t in tables}, columns)
    after = data.column_fingerprints(trip.connection, {t: live(t) for t in tables}, columns)
    findings = []
    for (table, column), (values, hashed) in before.items():
        values_now, hashed_now = after[(table, column)]
        if hashed_now == hashed and values_now == values:
            continue  # the column's values are as they were
        comparison = Comparison(trip.before.tables[table].rows, live(table), [column])
        if data.stamped_columns(
            trip.connection, comparison, timestamp_columns(now, table, [column]), trip.windows[UPGRADE].widened()
        ):
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
            continue
        lost = f"{values} → {values_now} rows with a value" if values_now < values else None
        if lost is None:
            distinct = data.distinct_values(trip.connection, trip.before.tables[table].rows, column)
            distinct_now = data.distinct_values(trip.connection, live(table), column)
            lost = f"{distinct} → {distinct_now} distinct values" if distinct_now < distinct else None
        if lost is not None and not data.vanished_values_found(
            trip.connection, trip.before.tables[table].rows, table, column, other_places(now, table, column)
        ):
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


def other_places(now: SchemaSnapshot, table: str, column: str) -> list[tuple[str, str]]:
    """Every column at the revision but this one: where values moved out of it may have gone."""
    return [(t, c) for t, cols in now.columns.items() for c in cols if (t, c) != (table, column)]


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
        lost = {}  # column → distinct values found nowhere
        for column in dropped:
            values = data.distinct_values(trip.connection, copy.rows, column)
            if values and not data.values_found_in(trip.connection, copy.rows, column, values, places):
                lost[column] = values
        if not lost:
            continue
        if table not in now.columns:
            trip.reported_lost.add(table)
            findings.append(
                trip.finding(
                    UPGRADE,
                    f"upgrade dropped table {table} holding {copy.count} rows whose values of "
                    f"{', '.join(lost)} are found nowhere at this revision: move the data, or declare the loss "
                    f'in data_loss = {{"upgrade": ["{table}"]}}',
                    table=table,
                    rows=copy.count,
                    sample=data.row_with_value(trip.connection, copy.rows, list(copy.columns), next(iter(lost))),
                )
            )
            continue
        for column, values in lost.items():
            trip.reported_lost.add(f"{table}.{column}")
            rows = data.count_values(trip.connection, copy.rows, column)
            findings.append(
                trip.finding(
                    UPGRADE,
                    f"upgrade dropped column {table}.{column} holding {values} distinct values in {rows} of "
                    f"{copy.count} rows that are found nowhere at this revision: move the data, or declare the "
                    "loss in data_loss",
                    table=table,
                    column=column,
                    rows=rows,
                    sample=data.row_with_value(trip.connection, copy.rows, list(copy.columns), column),
                )
            )
    return findings


# -- the downgrade -----------------------------------------------------------------------------------------------


def check_downgrade(trip: RoundTrip, now: SchemaSnapshot) -> list[Finding]:
    """Back at the parent: every row as it was before the upgrade, and the rows written at r still there."""
    restored = {}
    for table, copy in trip.before.tables.items():
        if table in now.columns and not trip.lost_either_way(table):
            columns = [
                c
                for c in copy.columns
                if c in now.columns[table]
                and not trip.lost_either_way(table, c)
                and (table, c) not in trip.stamped_by_upgrade
            ]
            restored[table] = Comparison(copy.rows, live(table), columns, likely_equal=table not in trip.touched)
    found, findings = compare_forgiving_the_clock(trip, DOWNGRADE, restored, now)
    for table, missing in found.items():
        if missing.count:
            trip.differing_after_downgrade.add(table)
            findings.append(
                trip.finding(
                    DOWNGRADE,
                    f"{missing.count} of {trip.before.tables[table].count} rows of {table} are not as they were "
                    f"before the upgrade{changed_columns(trip, table, restored[table].columns, missing.sample, now)}",
                    table=table,
                    rows=missing.count,
                    sample=missing.sample,
                )
            )
    written, after_upgrade = trip.written.tables, trip.after_upgrade.tables
    carried_back = [t for t in written if t in trip.before.tables and t in now.columns and not trip.lost_either_way(t)]
    for table, rows_now in data.count_rows(trip.connection, carried_back).items():
        written_here = written[table].count - after_upgrade[table].count
        kept = rows_now - trip.before.tables[table].count
        if kept < written_here:
            findings.append(
                trip.finding(
                    DOWNGRADE,
                    f"downgrade removed {written_here - kept} of the {written_here} rows "
                    f"written into {table} at this revision",
                    table=table,
                    rows=written_here - kept,
                )
            )
    return findings


# -- the upgrade again -------------------------------------------------------------------------------------------


def check_upgrade_again(trip: RoundTrip, now: SchemaSnapshot) -> list[Finding]:
    """Up again: the parent's rows exactly as after the first upgrade; rows written at r as far as p can carry them."""
    after_upgrade = trip.after_upgrade.tables
    columns = {
        t: [c for c in copy.columns if not trip.lost_on_downgrade.covers(t, c)]
        for t, copy in after_upgrade.items()
        if not trip.lost_on_downgrade.covers(t)
    }
    same = {
        t: Comparison(after_upgrade[t].rows, live(t), cols, likely_equal=t not in trip.touched)
        for t, cols in columns.items()
    }
    found, findings = compare_forgiving_the_clock(trip, UPGRADE_AGAIN, same, now)
    differing = set()
    for table, missing in found.items():
        if missing.count:
            differing.add(table)
            # After a clean downgrade, the upgrade itself gave other values the second time: random(), uuid4(), …
            why = (
                ""
                if table in trip.differing_after_downgrade
                else ": the upgrade is not repeatable (it computes values anew each time it runs)"
            )
            findings.append(
                trip.finding(
                    UPGRADE_AGAIN,
                    f"{missing.count} of {after_upgrade[table].count} rows of {table} differ from the first "
                    f"upgrade{why}{changed_columns(trip, table, columns[table], missing.sample, now)}",
                    table=table,
                    rows=missing.count,
                    sample=missing.sample,
                )
            )
    return findings + check_written_rows_survive(trip, {t: c for t, c in columns.items() if t not in differing}, now)


def check_written_rows_survive(trip: RoundTrip, columns: dict[str, list[str]], now: SchemaSnapshot) -> list[Finding]:
    """The rows written at the revision, on the columns the parent has too, are back after the round trip."""
    written, after_upgrade, parent = trip.written.tables, trip.after_upgrade.tables, trip.parent
    findings, carried, complete = [], {}, {}
    for table, table_columns in columns.items():
        written_here = written[table].count - after_upgrade[table].count
        if table not in parent.columns:
            if written_here:
                findings.append(
                    trip.finding(
                        UPGRADE_AGAIN,
                        f"the {written_here} rows written at this revision into "
                        f"{table}, a table that does not exist at the parent, are "
                        "gone after the round trip",
                        NOTE,
                        table=table,
                        rows=written_here,
                    )
                )
            continue
        earlier = after_upgrade[table].rows
        carried[table] = Comparison(
            written[table].rows, live(table), [c for c in table_columns if c in parent.columns[table]], earlier
        )
        complete[table] = Comparison(written[table].rows, live(table), table_columns, earlier)
    lost, notes = compare_forgiving_the_clock(trip, UPGRADE_AGAIN, carried, now)
    findings += notes
    for table, missing in lost.items():
        if missing.count:
            findings.append(
                trip.finding(
                    UPGRADE_AGAIN,
                    f"{missing.count} rows written into {table} at this revision "
                    "did not survive the downgrade and upgrade"
                    f"{changed_columns(trip, table, carried[table].columns, missing.sample, now)}",
                    table=table,
                    rows=missing.count,
                    sample=missing.sample,
                )
            )
    only_here = {t: c for t, c in complete.items() if not lost[t].count and len(c.columns) > len(carried[t].columns)}
    for table, missing in data.missing_rows(trip.connection, only_here).items():
        if missing.count:
            gone = [c for c in only_here[table].columns if c not in carried[table].columns]
            findings.append(
                trip.finding(
                    UPGRADE_AGAIN,
                    f"values written at this revision into {table}.{{{', '.join(gone)}}} "
                    "cannot exist at the parent and are gone after the round trip",
                    NOTE,
                    table=table,
                    rows=missing.count,
                )
            )
    return findings


def changed_columns(trip: RoundTrip, table: str, columns: list[str], sample: dict | None, now: SchemaSnapshot) -> str:
    """'; changed: a 'x' → 'y'' for the sample row, found again by its primary key (when the table has one)."""
    key = now.primary_key_columns.get(table) or []
    if not sample or not key or any(k not in sample for k in key):
        return ""
    current = data.row_by_key(trip.connection, live(table), columns, {k: sample[k] for k in key})
    if current is None:
        return " (the row is gone)"
    changed = [c for c in columns if current.get(c) != sample.get(c)]
    return (
        f"; changed: {', '.join(f'{c} {sample.get(c)!r} → {current.get(c)!r}' for c in changed[:3])}" if changed else ""
    )
