"""Models vs database: what autogenerate compares, plus the enum label changes it cannot see.

A Python Enum whose labels differ from its PostgreSQL enum type is drift like a missing column; `inv db.revision`
writes the change with alembic-enums (an operation rendered into the new script) so values are mapped both ways.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata, renderers
from alembic.operations.ops import MigrateOperation
from sqlalchemy import text
from sqlalchemy.engine import Connection

from thirdai_platform.migrate.session import Session, run_env

# The label a removed or added value must be mapped to is the author's decision: this placeholder fails loudly
# (invalid input value for enum) until it is replaced, so `nox -s migrations` cannot pass with it.
DECIDE = "REPLACE_WITH_A_LABEL"


@dataclass(frozen=True)
class EnumDrift:
    name: str
    database_labels: tuple[str, ...]
    model_labels: tuple[str, ...]
    columns: tuple[tuple[str, str, str | None], ...]  # (table, column, default label or None)

    @property
    def added(self) -> list[str]:
        return [label for label in self.model_labels if label not in self.database_labels]

    @property
    def removed(self) -> list[str]:
        return [label for label in self.database_labels if label not in self.model_labels]

    def __str__(self) -> str:
        change = [f"{what} {labels}" for what, labels in (("add", self.added), ("remove", self.removed)) if labels]
        if not change:
            change = [f"reorder {list(self.database_labels)} → {list(self.model_labels)}"]
        return (
            f"enum {self.name}: the models {' and '.join(change)} (autogenerate cannot see this; see `inv db.revision`)"
        )


def model_enums(metadata: sa.MetaData) -> dict[str, tuple[str, ...]]:
    found = {}
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.Enum) and column.type.name:
                found[column.type.name] = tuple(column.type.enums)
    return found


DATABASE_ENUMS = text("""
    SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = current_schema() GROUP BY t.typname
""")
ENUM_COLUMNS = text("""
    SELECT c.relname, a.attname, substring(pg_get_expr(d.adbin, d.adrelid) from '^''(.*)''::')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE t.typname = :name AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
    ORDER BY c.relname, a.attnum
""")


def enum_drift(connection: Connection, metadata: sa.MetaData) -> list[EnumDrift]:
    """Enum types that exist in both the models and the database with different labels (or label order)."""
    in_database = {name: tuple(labels) for name, labels in connection.execute(DATABASE_ENUMS)}
    drifts = []
    for name, labels in sorted(model_enums(metadata).items()):
        if name in in_database and in_database[name] != labels:
            columns = tuple(tuple(row) for row in connection.execute(ENUM_COLUMNS, {"name": name}))
            drifts.append(EnumDrift(name, in_database[name], labels, columns))
    return drifts


@dataclass
class Drift:
    differences: list  # autogenerate's diff tuples
    enums: list[EnumDrift]

    def lines(self) -> list[str]:
        return [described_difference(d) for d in self.differences] + [str(e) for e in self.enums]


def described_difference(difference) -> str:
    """One of autogenerate's diff tuples as a sentence: ('add_column', None, 'jobs', Column(...)) → 'the models add
    column jobs.note (TEXT)'. A column's several changes come as a list of tuples."""
    if isinstance(difference, list):
        return "; ".join(described_difference(d) for d in difference)
    kind, *rest = difference
    if kind in ("add_table", "remove_table"):
        return f"the models {kind.split('_')[0]} table {rest[0].name}"
    if kind in ("add_column", "remove_column"):
        _, table, column = rest
        return f"the models {kind.split('_')[0]} column {table}.{column.name} ({column.type})"
    if kind.startswith("modify_"):
        _, table, column, _, old, new = rest
        return f"the models change the {kind.removeprefix('modify_')} of {table}.{column}: {old} → {new}"
    if kind.startswith(("add_", "remove_")):
        action, _, what = kind.partition("_")
        item = rest[0]
        table = getattr(getattr(item, "table", None), "name", None)
        name = getattr(item, "name", None) or "(unnamed)"
        return f"the models {action} {'foreign key' if what == 'fk' else what} {name}" + (
            f" on {table}" if table else ""
        )
    return f"the models differ: {kind} {' '.join(map(str, rest))}"


def model_drift(session: Session, *, quiet: bool = True) -> Drift:
    """Run the project's env.py once and compare its target_metadata with the database it connects to."""
    found: dict[str, Drift] = {}

    def compare(_heads, context):
        metadata = context.opts.get("target_metadata")
        if metadata is None:
            found["drift"] = Drift([], [])
        else:
            found["drift"] = Drift(compare_metadata(context, metadata), enum_drift(context.connection, metadata))
        return []

    run_env(session, quiet=quiet, fn=compare, dont_mutate=True)
    return found["drift"]


class EnumLabelsOp(MigrateOperation):
    """An enum label change, rendered into a new revision script as alembic-enums code."""

    def __init__(self, drift: EnumDrift, upgrading: bool = True):
        self.drift, self.upgrading = drift, upgrading

    def reverse(self) -> EnumLabelsOp:
        return EnumLabelsOp(self.drift, not self.upgrading)


def label_mapping(drift: EnumDrift, upgrading: bool) -> list[tuple[str, str]]:
    """Old label → new label for every label that disappears in this direction; removed and added labels are
    paired in order (a rename is the usual case), anything left over needs the author's choice."""
    gone, new = (drift.removed, drift.added) if upgrading else (drift.added, drift.removed)
    return [(label, new[i] if i < len(new) else DECIDE) for i, label in enumerate(gone)]


# What squawk says of the statements EnumMigration runs, and why each is acceptable: written into the new script
# as its ignores, for the author to confirm (a big table is the case to rehearse with `--rows`).
SWAP_RULES = (
    (
        "changing-column-type",
        "alembic-enums moves the columns of {tables} to the new {name} type, rewriting them "
        "under lock; rehearse with `nox -s migrations -- --rows N` if they are big",
    ),
    ("ban-drop-default", "EnumMigration drops the {name} defaults only while the type is swapped and sets them again"),
    ("ban-drop-type", "the old {name} type is replaced by the new one of the same name; no data lives in a type"),
)


def declared_losses(drifts: list[EnumDrift]) -> dict[str, list[str]]:
    """The data_loss a revision with these label changes declares: a label with no counterpart on the other side
    merges its rows into the label the author chooses, in the direction where it disappears."""
    loss: dict[str, list[str]] = {}
    for drift in drifts:
        columns = [f"{table}.{column}" for table, column, _ in drift.columns]
        if len(drift.removed) > len(drift.added):
            loss.setdefault("upgrade", []).extend(columns)
        if len(drift.added) > len(drift.removed):
            loss.setdefault("downgrade", []).extend(columns)
    return loss


@renderers.dispatch_for(EnumLabelsOp)
def render_enum_labels(autogen_context, op: EnumLabelsOp) -> str:
    autogen_context.imports.add("from alembic_enums import Column as EnumColumn, EnumMigration")
    drift = op.drift
    columns = ", ".join(
        f"EnumColumn({table!r}, {column!r}, old_server_default={default!r}, new_server_default={default!r})"
        for table, column, default in drift.columns
    )
    name = f"{drift.name}_labels"
    tables = ", ".join(sorted({table for table, _, _ in drift.columns})) or "no table"
    lines = [
        f"# enum {drift.name}: labels change (autogenerate cannot see this); check the value mapping below",
        *(
            [
                f"# squawk: ignore {rule} -- {reason.format(name=drift.name, tables=tables)}"
                for rule, reason in SWAP_RULES
            ]
            if op.upgrading
            else []
        ),
        f"{name} = EnumMigration(op, {drift.name!r}, {list(drift.database_labels)!r}, {list(drift.model_labels)!r}, [{columns}])",
        f"with {name}.{'upgrade' if op.upgrading else 'downgrade'}_ctx():",
    ]
    mapping = label_mapping(drift, op.upgrading)
    for before, after in mapping:
        lines.append(f"    for column in {name}.columns:")
        lines.append(f"        {name}.update_value(column, {before!r}, {after!r})")
    if not mapping:
        lines.append("    pass  # no label disappears in this direction")
    return "\n".join(lines)
