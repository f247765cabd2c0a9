"""The checks after the downgrade: back at the parent, every row as it was before the upgrade, and the rows written
at the revision still there."""

from __future__ import annotations

from thirdai_platform.migrate.findings import Finding
from thirdai_platform.migrate.walk import data
from thirdai_platform.migrate.walk.checks.compare import changed_columns, compare_forgiving_the_clock
from thirdai_platform.migrate.walk.data import Comparison, live
from thirdai_platform.migrate.walk.roundtrip import DOWNGRADE, RoundTrip
from thirdai_platform.migrate.walk.schema import SchemaSnapshot


def check_downgrade(trip: RoundTrip, now: SchemaSnapshot) -> list[Finding]:
    """Back at the parent: every row as it was before the upgrade, and the rows written at r still there."""
    restored = restored_rows(trip, now)
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
    return findings + check_written_rows_kept(trip, now)


def restored_rows(trip: RoundTrip, now: SchemaSnapshot) -> dict[str, Comparison]:
    """Each table's rows before the upgrade against its rows now, on the columns neither leg lost or stamped."""
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
    return restored


def check_written_rows_kept(trip: RoundTrip, now: SchemaSnapshot) -> list[Finding]:
    """The rows written at the revision into a table the parent has too are not removed by the downgrade."""
    written = trip.written.tables
    carried_back = [t for t in written if t in trip.before.tables and t in now.columns and not trip.lost_either_way(t)]
    findings = []
    for table, rows_now in data.count_rows(trip.connection, carried_back).items():
        written_here = trip.written_here(table)
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
