"""One statement tried inside a savepoint that is always rolled back, and what PostgreSQL said when it failed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from thirdai_platform.errors import message_line

NOT_NULL_VIOLATION = "23502"
FOREIGN_KEY_VIOLATION = "23503"
UNIQUE_VIOLATION = "23505"
UNDEFINED_COLUMN = "42703"
UNDEFINED_TABLE = "42P01"
# Errors of our own sample data, not of the schema change: a live application's rows have parents and unique keys.
NOT_THE_SCHEMAS_FAULT = frozenset({FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION})


@dataclass(frozen=True)
class StatementError:
    sqlstate: str | None
    message: str  # the first line of PostgreSQL's message
    column: str | None  # the column it names (NOT NULL violations), when the driver says

    @classmethod
    def of(cls, error: DBAPIError) -> StatementError:
        original = error.orig
        diag = getattr(original, "diag", None)  # psycopg2 and psycopg
        sqlstate = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
        return cls(sqlstate, message_line(error), getattr(diag, "column_name", None))


SAVEPOINT = "deploy_attempt"


def attempt(connection: Connection, sql: str, parameters: dict | None = None) -> StatementError | None:
    """Run sql in a savepoint and roll it back: the error it raised, or None.

    Two round trips, not three: the savepoint is set in the statement's own (the statements of one execute run in
    order, so it is set before sql fails), and rolled back and released in one more."""
    try:
        connection.execute(text(f"SAVEPOINT {SAVEPOINT}; {sql}"), parameters or {})
    except DBAPIError as error:
        return StatementError.of(error)
    finally:
        connection.execute(text(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"))
    return None
