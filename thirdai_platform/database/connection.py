"""Connections of our own: one engine recipe (no pool, a 5 s connect timeout) and one way to say we cannot connect."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from thirdai_platform.database.url import masked
from thirdai_platform.errors import UserError, message_line

CONNECT_TIMEOUT_SECONDS = 5


def engine_for(url: URL | str) -> Engine:
    """An engine that opens one connection per use and gives up on an unreachable server within the timeout."""
    return create_engine(url, poolclass=pool.NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})


def cannot_connect(url: URL, error: DBAPIError) -> UserError:
    return UserError(f"cannot connect to {masked(url)}: {message_line(error)}")


@contextmanager
def connected(url: URL) -> Iterator[Connection]:
    """A connection to url, closed (and its engine disposed) after; a server we cannot reach is one UserError."""
    engine = engine_for(url)
    try:
        try:
            connection = engine.connect()
        except DBAPIError as error:
            raise cannot_connect(url, error) from None
        with connection:
            yield connection
    finally:
        engine.dispose()
