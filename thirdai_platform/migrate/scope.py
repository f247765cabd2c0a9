"""Which tables a revision acts on, read from the SQL it renders offline (`upgrade --sql`, both directions).

The walk copies and compares only these tables, so a revision costs the same in a schema of 10 tables as in one of
500. Whatever the SQL names counts, plus the tables using a type it names (an enum it changes) and the tables whose
rows a change of those can reach through a foreign key: those with an ON DELETE / ON UPDATE action, or every
referencing table when the SQL says CASCADE (a DROP or TRUNCATE ... CASCADE). A foreign key without an action
cannot change the referencing rows: the parent's change fails instead. A revision that cannot be rendered offline
(a data migration that reads rows in Python through op.get_bind()) has no scope: the walk then checks every table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from alembic.config import Config
from alembic.script import ScriptDirectory

from thirdai_platform.migrate.schema import SchemaSnapshot, column_type_name
from thirdai_platform.migrate.render import DIRECTIONS, CannotRender, render_revision_sql

NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
# The word before a table or type name in the SQL Alembic renders: CREATE/ALTER/DROP TABLE, INSERT INTO, UPDATE,
# DELETE FROM, JOIN, CREATE INDEX ... ON, REFERENCES, CREATE/ALTER/DROP TYPE, ALTER COLUMN ... TYPE; and before the
# name of a part of a table (ALTER/DROP INDEX [CONCURRENTLY], RENAME/DROP CONSTRAINT), which stands for its table.
BEFORE_NAME = re.compile(rf"\b(?:TABLE|INTO|UPDATE|FROM|JOIN|ON|REFERENCES|TYPE|ONLY|EXISTS|INDEX|CONSTRAINT)"
                         rf"\s+(?:(?:ONLY|CONCURRENTLY)\s+)?((?:{NAME}\.)?{NAME})", re.IGNORECASE)
PARTS_NAMED_ALONE = ("index", "constraint", "trigger")
REFERENCED_TABLE = re.compile(rf"REFERENCES ((?:{NAME}\.)?{NAME})\(")
CHANGES_REFERENCING_ROWS = re.compile(r"\bON (?:DELETE|UPDATE) (?:CASCADE|SET NULL|SET DEFAULT)\b")
# DROP / TRUNCATE / ALTER TABLE ... DROP ... CASCADE; not a foreign key's action
CASCADE = re.compile(r"(?<!ON DELETE )(?<!ON UPDATE )\bCASCADE\b", re.IGNORECASE)


def unquoted(name: str) -> str:
    last = re.findall(NAME, name)[-1]  # schema-qualified: the table's own name
    return last[1:-1].replace('""', '"') if last.startswith('"') else last.lower()


@dataclass(frozen=True)
class Reach:
    """What a revision's SQL names, and whether it cascades to every referencing table."""

    names: set[str]
    cascades: bool


def reach_of(sql: str) -> Reach:
    return Reach({unquoted(match) for match in BEFORE_NAME.findall(sql)}, bool(CASCADE.search(sql)))


def revision_reach(config: Config, scripts: ScriptDirectory, revision: str) -> Reach | None:
    """What the revision's upgrade and downgrade SQL reach; None when it cannot be rendered."""
    try:
        return reach_of("\n".join(render_revision_sql(config, revision, direction, scripts) for direction in DIRECTIONS))
    except CannotRender:  # the revision's own code raised offline: the walk checks every table (a limit it reports)
        return None


def tables_in_scope(reach: Reach, schemas: list[SchemaSnapshot]) -> set[str]:
    """The tables reached: named, using a named type, or referencing one of those with a foreign key that can
    change its rows (transitively)."""
    tables = set().union(*(schema.columns for schema in schemas))
    scoped = tables & reach.names
    for schema in schemas:
        for column, description in schema.objects["column"].items():
            if column_type_name(description) in reach.names:
                scoped.add(column.split(".")[0])
        for kind in PARTS_NAMED_ALONE:  # ALTER INDEX ix RENAME TO ...: the table whose index it is
            scoped.update(name.split(".")[0] for name in schema.objects[kind] if name.partition(".")[2] in reach.names)
    children: dict[str, set[str]] = {}
    for schema in schemas:
        for constraint, definition in schema.objects["constraint"].items():
            if (match := REFERENCED_TABLE.search(definition)) and (reach.cascades or CHANGES_REFERENCING_ROWS.search(definition)):
                children.setdefault(unquoted(match[1]), set()).add(constraint.split(".")[0])
    waiting = list(scoped)
    while waiting:
        for child in children.get(waiting.pop(), set()) - scoped:
            scoped.add(child)
            waiting.append(child)
    return scoped
