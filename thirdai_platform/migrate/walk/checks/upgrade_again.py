"""The checks after the upgrade again: the parent's rows exactly as after the first upgrade, and the rows written at
the revision as far as the parent can carry them through the round trip."""

from __future__ import annotations

from thirdai_platform.migrate.findings import NOTE, Finding
from thirdai_platform.migrate.walk import data
from thirdai_platform.migrate.walk.checks.compare import changed_columns, compare_forgiving_the_clock
from thirdai_platform.migrate.walk.data import Comparison, live
from thirdai_platform.migrate.walk.roundtrip import UPGRADE_AGAIN, RoundTrip
from thirdai_platform.migrate.walk.schema import SchemaSnapshot


def check_upgrade_again(trip: RoundTrip, now: SchemaSnapshot) -> list[Finding]:
    """Up again: the parent's rows exactly as after the first upgrade; rows written at r as far as p can carry them."""
    after_upgrade = trip.after_upgrade.tables
    # on what is there again: a table or column the upgrade again did not make is the schema check's failure
    columns = {
        t: [c for c in copy.columns if c in now.columns[t] and not trip.lost_on_downgrade.covers(t, c)]
        for t, copy in after_upgrade.items()
        if t in now.columns and not trip.lost_on_downgrade.covers(t)
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


def written_rows(trip: RoundTrip, table: str, columns: list[str]) -> Comparison:
    """The rows written into the table at the revision against its rows now, on these columns."""
    return Comparison(trip.written.tables[table].rows, live(table), columns, trip.after_upgrade.tables[table].rows)


def check_written_rows_survive(trip: RoundTrip, columns: dict[str, list[str]], now: SchemaSnapshot) -> list[Finding]:
    """The rows written at the revision, on the columns the parent has too, are back after the round trip."""
    parent = trip.parent
    findings = [rows_of_new_table_gone(trip, t) for t in columns if t not in parent.columns and trip.written_here(t)]
    carried = {
        t: written_rows(trip, t, [c for c in cols if c in parent.columns[t]])
        for t, cols in columns.items()
        if t in parent.columns
    }
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
    complete = {
        t: written_rows(trip, t, columns[t])
        for t in carried
        if not lost[t].count and len(columns[t]) > len(carried[t].columns)
    }
    return findings + values_only_here_gone(trip, complete, carried)


def rows_of_new_table_gone(trip: RoundTrip, table: str) -> Finding:
    written_here = trip.written_here(table)
    return trip.finding(
        UPGRADE_AGAIN,
        f"the {written_here} rows written at this revision into {table}, a table that does not exist at the parent, "
        "are gone after the round trip",
        NOTE,
        table=table,
        rows=written_here,
    )


def values_only_here_gone(
    trip: RoundTrip, complete: dict[str, Comparison], carried: dict[str, Comparison]
) -> list[Finding]:
    """Notes for the written rows, whole, that are not back: values in the columns the parent lacks are gone."""
    findings = []
    for table, missing in data.missing_rows(trip.connection, complete).items():
        if missing.count:
            gone = [c for c in complete[table].columns if c not in carried[table].columns]
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
