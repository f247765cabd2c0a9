"""Which tables a revision acts on, read from the SQL it renders offline (`upgrade --sql`, both directions).

The walk copies and compares only these tables, so a revision costs the same in a schema of 10 tables as in one of
500. Whatever the SQL names counts, plus the tables using a type it names (an enum it changes) and the tables whose
rows a change of those can reach through a foreign key: those with an ON DELETE / ON UPDATE action, or every
referencing table when the SQL says CASCADE (a DROP or TRUNCATE ... CASCADE). A foreign key without an action
cannot change the referencing rows: the parent's change fails instead. The SQL is read by PostgreSQL's own parser
(parsed_sql.py). A revision that cannot be rendered offline (a data migration that reads rows in Python through
op.get_bind()), or whose SQL cannot be read (a DO block running SQL it builds at run time), has no scope: the walk
then checks every table, and `unscoped_reason` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from thirdai_platform.migrate.parsed_sql import Unreadable, foreign_key, names_in
from thirdai_platform.migrate.render import DIRECTIONS, CannotRender, render_revision_sql
from thirdai_platform.migrate.session import Session
from thirdai_platform.migrate.walk.schema import SchemaSnapshot, column_type_name

# Parts of a table SQL may name alone (ALTER INDEX ix RENAME TO ..., DROP INDEX ix): they stand for their table.
PARTS_NAMED_ALONE = ("index", "constraint", "trigger")


@dataclass(frozen=True)
class Reach:
    """What a revision's SQL names, and whether it cascades to every referencing table."""

    names: set[str]
    cascades: bool


def reach_of(sql: str) -> Reach:
    """What the SQL names, read by PostgreSQL's parser. Raises Unreadable when the tables it acts on cannot be known."""
    found = names_in(sql)
    return Reach(found.names, found.cascades)


def revision_reach(session: Session, revision: str) -> Reach | None:
    """What the revision's upgrade and downgrade SQL reach; None when that cannot be known (`unscoped_reason` says
    why): the walk then checks every table."""
    try:
        return directions_reach(session, revision)
    except (CannotRender, Unscoped):
        return None


def unscoped_reason(session: Session, revision: str) -> str | None:
    """Why the tables the revision acts on are unknown, in one line; None when they are known."""
    try:
        directions_reach(session, revision)
    except CannotRender as cannot:
        return (
            f"its {cannot.failure.direction} cannot be rendered offline, so the tables it acts on are unknown: "
            f"{cannot.failure.error}"
        )
    except Unscoped as unscoped:
        return str(unscoped)
    return None


def cannot_render(session: Session, revision: str) -> bool:
    """Whether a direction of the revision cannot be rendered offline (as opposed to SQL that renders but whose
    tables cannot be read, which a trial of it would send too: walk/trial.py)."""
    try:
        directions_reach(session, revision)
    except CannotRender:
        return True
    except Unscoped:
        return False
    return False


class Unscoped(Exception):
    """The SQL of one direction renders, but which tables it acts on cannot be told."""


def directions_reach(session: Session, revision: str) -> Reach:
    names, cascades = set(), False
    for direction in DIRECTIONS:
        sql = render_revision_sql(session, revision, direction)
        try:
            reach = reach_of(sql)
        except Unreadable as unreadable:
            raise Unscoped(f"the tables its {direction} acts on are unknown: {unreadable}") from None
        names |= reach.names
        cascades = cascades or reach.cascades
    return Reach(names, cascades)


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
            key = foreign_key(definition)
            if key is not None and (reach.cascades or key.changes_referencing_rows):
                children.setdefault(key.referenced, set()).add(constraint.split(".")[0])
    waiting = list(scoped)
    while waiting:
        for child in children.get(waiting.pop(), set()) - scoped:
            scoped.add(child)
            waiting.append(child)
    return scoped
