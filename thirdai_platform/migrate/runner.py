"""Apply one revision at a time, up or down, on one connection, with the script directory loaded once.

`alembic.command.upgrade` re-reads every revision file per call, which makes a walk quadratic; this runs the
same EnvironmentContext + env.py machinery with a step list of exactly one revision. The project's env.py gets
our database with the driver its own configuration names, and each script's top level runs where Alembic runs it
(toplevel.py).
"""
from __future__ import annotations

import configparser
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import CodeType

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from thirdai_platform.database.url import ENV_VAR
from thirdai_platform.errors import UserError
from thirdai_platform.migrate.toplevel import TopLevels, load_in_context

STATEMENT_LIMIT = 500
# env.py compiled, by (path, modification time, size): see run_env
_ENV_CODE: dict[tuple[str, int, int], CodeType] = {}


def run_env(scripts: ScriptDirectory) -> None:
    """ScriptDirectory.run_env, with env.py compiled once per process instead of once per call: under
    PYTHONDONTWRITEBYTECODE (nox sets it) no .pyc is kept, and the walk runs env.py five times a revision (three legs,
    two offline renderings). It still runs anew each time, as a fresh module, as Alembic loads it."""
    path = Path(scripts.dir) / "env.py"
    if not path.is_file():
        scripts.run_env()  # a .pyc-only environment: as Alembic finds it
        return
    spec = importlib.util.spec_from_file_location("env_py", path)
    status = path.stat()
    key = (str(path), status.st_mtime_ns, status.st_size)
    if key not in _ENV_CODE:
        _ENV_CODE[key] = spec.loader.source_to_code(spec.loader.get_data(str(path)), str(path))
    module = importlib.util.module_from_spec(spec)
    exec(_ENV_CODE[key], module.__dict__)  # noqa: S102 (the project's own env.py, as Alembic runs it)


class StepFailed(Exception):
    """An upgrade or downgrade raised; carries the failing SQL statement (when there was one) and the error."""

    def __init__(self, revision: str, direction: str, error: BaseException):
        self.revision = revision
        self.direction = direction
        self.statement = getattr(error, "statement", None)
        if self.statement and len(self.statement) > STATEMENT_LIMIT:
            self.statement = self.statement[:STATEMENT_LIMIT] + " …"
        original = getattr(error, "orig", None) or error
        lines = str(original).strip().splitlines()
        self.error = f"{original.__class__.__name__}: {lines[0] if lines else ''}".rstrip(": ")
        super().__init__(f"{direction} {revision}: {self.error}")


# config.attributes key of what the project's own configuration says, read before we first overwrite it.
THEIR_SETTINGS = "thirdai_platform.their_settings"


def named_driver(text: str | None) -> str | None:
    """The drivername a PostgreSQL URL names (postgresql+asyncpg); None for no driver (SQLAlchemy's default is
    psycopg2) and for anything else (alembic's `driver://` placeholder, a typo)."""
    try:
        backend, _, driver = make_url(text).drivername.partition("+") if text else ("", "", "")
    except (ArgumentError, ValueError):
        return None
    return f"postgresql+{driver}" if driver and backend in ("postgresql", "postgres") else None


def their_driver(config: Config) -> str | None:
    """The driver the project's configuration names: sqlalchemy.url of its alembic.ini, else DATABASE_URI.
    Read once: handing the URL over replaces both."""
    if THEIR_SETTINGS not in config.attributes:
        try:
            in_ini = config.get_main_option("sqlalchemy.url")
        except configparser.Error:  # e.g. an interpolation of a name the ini does not define
            in_ini = None
        config.attributes[THEIR_SETTINGS] = named_driver(in_ini) or named_driver(os.environ.get(ENV_VAR))
    return config.attributes[THEIR_SETTINGS]


def their_url(config: Config, url: URL) -> URL:
    """Our database, spoken to with the driver the project's env.py is written for (an async env.py needs its
    async driver; psycopg2 takes a `%` in raw SQL for a placeholder). One line when that driver is missing."""
    drivername = their_driver(config)
    if not drivername or drivername == url.drivername:
        return url
    handed = url.set(drivername=drivername)
    named = f"the project's {Path(config.config_file_name or 'alembic.ini').name} names {drivername}"
    try:
        dialect = handed.get_dialect()
    except NoSuchModuleError:
        raise UserError(f"{named}, a driver SQLAlchemy does not know") from None
    try:
        dialect.import_dbapi()
        if dialect.is_async:
            import greenlet  # noqa: F401 (SQLAlchemy's asyncio layer runs on it)
    except ImportError as error:
        package = (error.name or drivername.partition("+")[2]).split(".")[0]
        raise UserError(f"{named}; install {package} to walk it") from None
    return handed


# Drivers that send raw SQL as it is: a `%` in it is no placeholder (psycopg2, psycopg and pg8000 take it for one).
DRIVERS_WITHOUT_PERCENT_PLACEHOLDERS = frozenset({"postgresql+asyncpg"})


def percent_is_a_placeholder(config: Config) -> bool:
    return their_driver(config) not in DRIVERS_WITHOUT_PERCENT_PLACEHOLDERS


def hand_over_url(config: Config, url: URL) -> None:
    """Our env.py takes the URL (or a connection) from config.attributes; other projects' env.py files often build
    their own engine from sqlalchemy.url or DATABASE_URI, so hand the URL over those ways too, with their driver."""
    config.attributes.update(url=url, quiet=True)
    plain = their_url(config, url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", plain.replace("%", "%%"))
    os.environ[ENV_VAR] = plain


@dataclass
class Runner:
    config: Config
    connection: Connection
    url: URL

    def __post_init__(self) -> None:
        self.script = ScriptDirectory.from_config(self.config)
        self.config.attributes.update(connection=self.connection)
        hand_over_url(self.config, self.url)
        load_in_context(self.config, self.script, self.connection)
        self.top_levels = TopLevels()

    def heads(self) -> tuple[str, ...]:
        return MigrationContext.configure(self.connection).get_current_heads()

    def upgrade(self, revision: Script) -> None:
        self.apply(revision, "upgrade", MigrationStep.upgrade_from_script)

    def downgrade(self, revision: Script) -> None:
        self.apply(revision, "downgrade", MigrationStep.downgrade_from_script)

    def apply(self, revision: Script, direction: str, make_step: Callable[..., MigrationStep]) -> None:
        def steps(_heads, _context) -> list[MigrationStep]:
            # Where `alembic upgrade` imports the scripts: inside the migration, before its first step.
            self.top_levels.run(revision)
            return [make_step(self.script.revision_map, revision)]

        # Alembic runs inside a transaction the caller left open instead of its own: start clean. During the step our
        # connection holds no transaction (nor its locks): an env.py with an engine of its own is never blocked by it.
        self.connection.commit()
        try:
            with EnvironmentContext(self.config, self.script, fn=steps):
                run_env(self.script)
            self.connection.commit()
        except Exception as error:  # a broken migration can raise anything
            self.connection.rollback()
            raise StepFailed(revision.revision, direction, error) from error
