"""`--url postgresql://…/postgres --jobs N`: the walk's databases on a PostgreSQL server of the user's own.

A staging host or a managed instance is the engine instead of our ephemeral server: one database per part is created
there (names no other run has), walked as on our server, and dropped when the walk ends, however it ends (an error,
a part that died, Ctrl-C, SIGTERM). Only a SIGKILL of the walk leaves them, named thirdai_walk_<pid>_<random>_<k>.
The role of the URL needs CREATEDB; without it the walk refuses before creating anything.
"""

from __future__ import annotations

import os
import secrets

from psycopg2 import sql
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from thirdai_platform.database.connection import connected
from thirdai_platform.errors import UserError, message_line
from thirdai_platform.migrate.server import databases
from thirdai_platform.migrate.server.sigterm import unwatch_sigterm, watch_sigterm

PREFIX = "thirdai_walk"


class UserServer:
    """The server behind `url` (any database the role may connect to, usually postgres), as a context manager:
    what create_database made is dropped on exit."""

    def __init__(self, url: URL):
        self.url = url
        self.prefix = f"{PREFIX}_{os.getpid()}_{secrets.token_hex(3)}"
        self.created: list[str] = []
        self.left_behind: list[str] = []
        self._owner_pid = os.getpid()
        self.major_version = self._check_may_create()

    def __enter__(self) -> UserServer:
        watch_sigterm(self)
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def part_name(self, part: int) -> str:
        return f"{self.prefix}_{part + 1}"

    def create_database(self, name: str, template: str = "template0") -> URL:
        """A new database on the user's server (empty, or a copy of one made here before) and its URL."""
        self.created.append(name)  # before: a SIGTERM while it is being created still drops it
        try:
            self._execute(databases.create_database(name, self.major_version, template))
        except DBAPIError as error:
            raise UserError(f"cannot create database {name} on {self.host}: {message_line(error)}") from None
        return self.url.set(database=name)

    def stop(self) -> None:
        """Drop every database made here (in the process that made them; a forked part's copy does nothing)."""
        if os.getpid() != self._owner_pid:
            return
        unwatch_sigterm(self)
        names, self.created = self.created, []
        try:
            self._execute(
                *(statement for name in names for statement in databases.drop_database(name, self.major_version))
            )
        except (DBAPIError, UserError) as error:
            self.left_behind += names
            detail = message_line(error) if isinstance(error, DBAPIError) else str(error)
            # os.write: this may run in the SIGTERM handler, which may have interrupted a print
            os.write(
                2,
                f"warning: could not drop the walk's databases {', '.join(names)} on {self.host} "
                f"({detail}): drop them by hand\n".encode(),
            )

    @property
    def host(self) -> str:
        return f"{self.url.host or 'localhost'}:{self.url.port or 5432}"

    @property
    def gone_when_stopped(self) -> str:
        """What the line after a SIGTERM says (sigterm.py)."""
        if self.left_behind:
            return f"the walk's databases on {self.host} could not all be dropped"
        return f"the walk's databases on {self.host} are dropped"

    def _check_may_create(self) -> int:
        """The server's major version, once the role is known to be allowed to create databases."""
        with connected(self.url) as connection:
            role, allowed, version = connection.execute(
                text(
                    "SELECT rolname, rolcreatedb OR rolsuper, current_setting('server_version_num')::int / 10000 "
                    "FROM pg_roles WHERE rolname = current_user"
                )
            ).one()
        if not allowed:
            raise UserError(
                f"--url with --jobs creates a database per part, but role {role!r} lacks CREATEDB on "
                f"{self.host}: ALTER ROLE {role} CREATEDB, or walk on one empty database without --jobs"
            )
        return version

    def _execute(self, *statements: sql.Composed) -> None:
        """CREATE and DROP DATABASE refuse to run in a transaction: each runs on its own, over a new connection
        (the SIGTERM handler must not share one with a statement it interrupted)."""
        if not statements:
            return
        with connected(self.url) as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            raw = connection.connection.dbapi_connection
            for statement in statements:
                connection.exec_driver_sql(statement.as_string(raw))
