"""One migration at a time per database: a session-level PostgreSQL advisory lock around a migration run."""

from __future__ import annotations

import zlib
from contextlib import contextmanager, suppress

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

# Advisory lock keys are cluster-wide: derive ours from a name only this application's history uses.
LOCK_KEY = zlib.crc32(b"thirdai_platform/alembic_version")


@contextmanager
def migration_lock(connection: Connection):
    """Wait until no other process migrates this database, then hold the lock for the block."""
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
    # Taking the lock autobegan a transaction; if it stayed open, Alembic would run inside it, skip its own
    # commit and the DDL would be rolled back at close. Commit now: the session-level lock survives it.
    connection.commit()
    try:
        yield
    finally:
        # A broken connection releases the lock by closing; nothing to do then.
        with suppress(DBAPIError):
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            connection.commit()
