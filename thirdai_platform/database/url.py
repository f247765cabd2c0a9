"""DATABASE_URI → a SQLAlchemy URL for psycopg2, and a printable form of it without the password."""
from __future__ import annotations

import os

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from thirdai_platform.errors import UserError

ENV_VAR = "DATABASE_URI"
DRIVER = "postgresql+psycopg2"


def parse_url(text: str) -> URL:
    """Parse a PostgreSQL URL; a bare postgresql:// (or postgres://) means psycopg2, the driver we ship."""
    try:
        url = make_url(text)
    except ArgumentError:
        raise UserError(f"{ENV_VAR} is not a valid database URL (expected postgresql://user:password@host:port/dbname)") from None
    backend, _, driver = url.drivername.partition("+")
    if backend not in ("postgresql", "postgres"):
        raise UserError(f"{ENV_VAR} must be a PostgreSQL URL, got a {backend!r} one: {masked(url)}")
    if driver and driver != "psycopg2":
        raise UserError(f"{ENV_VAR} names driver {driver!r}; this project ships psycopg2 (use postgresql://...)")
    if not url.database:
        raise UserError(f"{ENV_VAR} names no database: {masked(url)}")
    return url.set(drivername=DRIVER)


def database_url(environ=os.environ) -> URL:
    text = environ.get(ENV_VAR, "").strip()
    if not text:
        raise UserError(f"{ENV_VAR} is not set; export {ENV_VAR}=postgresql://user:password@host:port/dbname")
    return parse_url(text)


def masked(url: URL | str) -> str:
    """The URL as text with the password replaced by ***, safe for any output."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<unparseable URL>"
    return url.render_as_string(hide_password=True)
