"""What one version's traffic meets: the schema now in the database, against the one the version was written for.

Read from the two snapshots alone, running nothing: which tables differ in a way that can break a statement, which
columns the version writes changed, where a column it reads went (a rename), which enum labels it writes are gone.
rolling.py replays the traffic on the tables and columns these name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from thirdai_platform.migrate.findings import Finding
from thirdai_platform.migrate.walk.data import DataCopies
from thirdai_platform.migrate.walk.schema import (
    MISSING,
    TABLE_PARTS,
    UNEXPECTED,
    SchemaDifference,
    SchemaSnapshot,
    column_type,
    column_type_name,
    compare_schemas,
)


@dataclass(frozen=True)
class Traffic:
    """One version's traffic (its columns per table, values it wrote) meeting the schema now in the database."""

    connection: Connection
    revision: str
    check: str
    who: str  # how findings name the version, e.g. "the running version"
    change: str  # the leg that made the schema now: "upgrade" or "downgrade"
    version: SchemaSnapshot  # the schema that version was written for
    now: SchemaSnapshot  # the schema in the database
    columns: dict[str, list[str]]  # table → the columns that version reads and writes
    values: DataCopies | None  # rows that version wrote, as text
    severity: str

    def finding(self, message: str, table: str, column: str | None = None, statement: str | None = None) -> Finding:
        return Finding(
            self.revision,
            self.check,
            self.severity,
            message,
            table=table,
            column=column,
            statement=" ".join(statement.split()) if statement else None,
        )

    def description(self, schema: SchemaSnapshot, table: str, column: str) -> str | None:
        return schema.objects["column"].get(f"{table}.{column}")


def changed_tables(version: SchemaSnapshot, now: SchemaSnapshot, columns: dict[str, list[str]]) -> list[str]:
    """The tables of `columns` whose schema differs: in their own parts or in an enum type one of their columns uses."""
    changed, enums = set(), set()
    for difference in compare_schemas(version, now):
        if difference.kind == "enum":
            enums.add(difference.name)
        elif can_break(difference):
            changed.add(difference.name.split(".")[0])
    for name, description in version.objects["column"].items():
        if column_type_name(description) in enums:
            changed.add(name.split(".")[0])
    return sorted(changed & set(columns))


def can_break(difference: SchemaDifference) -> bool:
    """Could the change fail a statement written for the schema before it? A dropped constraint, index or trigger
    cannot, nor a new column the database fills (nullable, a default, an identity, generated)."""
    if difference.kind in ("index", "column_order") or difference.kind not in TABLE_PARTS + ("table",):
        return False
    if difference.change == MISSING and difference.kind in ("constraint", "trigger"):
        return False
    if difference.change == UNEXPECTED and difference.kind == "column":
        return required_without_default(difference.after or "")
    return True


def required_without_default(description: str) -> bool:
    return " NOT NULL" in description and not any(part in description for part in (" DEFAULT ", " GENERATED "))


def what_became_of(traffic: Traffic, table: str, column: str) -> str:
    new_name = renamed_to(traffic, table, column)
    return f"renamed to {new_name} (or dropped)" if new_name else "dropped (or renamed)"


def renamed_to(traffic: Traffic, table: str, column: str) -> str | None:
    """The one new column of the same type that appeared where the version's column went, if exactly one did."""
    old_type = column_type(traffic.description(traffic.version, table, column) or "")
    added = [
        c
        for c in traffic.now.columns[table]
        if c not in traffic.version.columns.get(table, [])
        and column_type(traffic.description(traffic.now, table, c) or "") == old_type
    ]
    return added[0] if len(added) == 1 else None


def renamed_columns(traffic: Traffic, table: str) -> set[str]:
    gone = [c for c in traffic.version.columns.get(table, []) if c not in traffic.now.columns[table]]
    return {new_name for c in gone if (new_name := renamed_to(traffic, table, c))}


def changed_columns(traffic: Traffic, table: str, present: list[str]) -> list[str]:
    """Columns the version writes whose description or enum labels changed; not its key, nor generated ones."""
    key = set(traffic.version.primary_key_columns.get(table, []))
    changed = []
    for column in present:
        before, after = (traffic.description(s, table, column) for s in (traffic.version, traffic.now))
        if column in key or generated(before):
            continue
        if before != after or lost_labels(traffic, table, column):
            changed.append(column)
    return changed


def generated(description: str | None) -> bool:
    """A column whose value the database computes from others: no application writes it."""
    return " GENERATED ALWAYS AS (" in (description or "")


def lost_labels(traffic: Traffic, table: str, column: str) -> list[str]:
    """Labels of the column's enum type that the version has and the schema now lacks."""
    name = column_type_name(traffic.description(traffic.version, table, column) or "")
    before, after = traffic.version.objects["enum"].get(name), traffic.now.objects["enum"].get(name)
    if before is None or after is None:
        return []
    return [label for label in json.loads(before) if label not in json.loads(after)]
