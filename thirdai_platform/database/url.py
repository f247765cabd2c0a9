"""DATABASE_URI → a SQLAlchemy URL for psycopg2, and a printable form of it without the password.

A malformed part is one line naming where the URL came from, and never shows any of the password: an unencoded
'@' in it moves the rest of it into the host, so a bad host or port is not echoed either.
"""

from __future__ import annotations

import os
import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from thirdai_platform.errors import UserError

ENV_VAR = "DATABASE_URI"
DRIVER = "postgresql+psycopg2"
EXPECTED = "postgresql://user:password@host:port/dbname"
ENCODE_HINT = "write '@' as %40, '%' as %25, ':' as %3A, '/' as %2F (urllib.parse.quote(password, safe=''))"
# A host name, an IPv4 address, or an IPv6 address (SQLAlchemy strips its brackets).
HOST = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?|[0-9A-Fa-f:.]+")
# A '%' that does not start a %XX escape cannot be percent-encoding.
BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# What SQLAlchemy's URL pattern takes as the credentials: everything before the last '@' of the authority.
CREDENTIALS = re.compile(r"^[\w+]+://(?P<credentials>[^/?]*)@")


def parse_url(text: str, source: str = ENV_VAR) -> URL:
    """Parse a PostgreSQL URL; a bare postgresql:// (or postgres://) means psycopg2, the driver we ship.
    `source` names where the text came from (DATABASE_URI, --url) in every error."""
    _check_credentials(text, source)
    try:
        url = make_url(text)
    except ArgumentError:
        raise UserError(f"{source} is not a valid database URL (expected {EXPECTED})") from None
    except ValueError:  # int() of the port
        raise UserError(f"{source} has a port that is not a number (expected {EXPECTED})") from None
    _check_address(url, source)
    backend, _, driver = url.drivername.partition("+")
    if backend not in ("postgresql", "postgres"):
        raise UserError(f"{source} must be a PostgreSQL URL, got a {backend!r} one: {masked(url)}")
    if driver and driver != "psycopg2":
        raise UserError(f"{source} names driver {driver!r}; this project ships psycopg2 (use postgresql://...)")
    if not url.database:
        raise UserError(f"{source} names no database: {masked(url)}")
    return url.set(drivername=DRIVER)


def _check_credentials(text: str, source: str) -> None:
    match = CREDENTIALS.match(text)
    if not match:
        return
    credentials = match["credentials"]
    if "@" in credentials:
        raise UserError(f"{source} has an unencoded '@' in its user name or password: {ENCODE_HINT}")
    if BARE_PERCENT.search(credentials):
        raise UserError(f"{source} has an unencoded '%' in its user name or password: {ENCODE_HINT}")


def _check_address(url: URL, source: str) -> None:
    """The host and port, without echoing them: a mistyped URL may have put part of the password there."""
    if url.host and not HOST.fullmatch(url.host):
        raise UserError(
            f"{source} has a host that is not a host name or IP address (expected {EXPECTED}); "
            f"in a password, {ENCODE_HINT}"
        )
    if url.port is not None and not 0 < url.port < 65536:
        raise UserError(f"{source} has a port outside 1-65535 (expected {EXPECTED})")


def database_url(environ=os.environ) -> URL:
    text = environ.get(ENV_VAR, "").strip()
    if not text:
        raise UserError(f"{ENV_VAR} is not set; export {ENV_VAR}={EXPECTED} (a throwaway one: inv db.server)")
    return parse_url(text)


def masked(url: URL | str) -> str:
    """The URL as text with the password replaced by ***, safe for any output."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return "<unparseable URL>"
    return url.render_as_string(hide_password=True)
