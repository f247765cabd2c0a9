"""What the checks of every leg share: the schema compared with the one expected, rows compared forgiving the clock,
and a changed row described by what changed in it."""

from __future__ import annotations

import json

from thirdai_platform.migrate.findings import FAILURE, NOTE, Finding
from thirdai_platform.migrate.walk import data
from thirdai_platform.migrate.walk.data import Comparison, Missing, live
from thirdai_platform.migrate.walk.roundtrip import DOWNGRADE, RoundTrip, type_of
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


# -- a changed row -----------------------------------------------------------------------------------------------


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
