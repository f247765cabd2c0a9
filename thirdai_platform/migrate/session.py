"""One run's state, passed explicitly: the project's Alembic config, its script directory loaded once, the database
URL, the connection a walk steps on, and the SQL rendered offline so far.

`run_env` runs the project's env.py (a step, a check, an offline rendering). It, through `handed_to_env`, is the
one place that hands env.py the database: our env.py reads it from config.attributes (url, connection, quiet);
another project's env.py from sqlalchemy.url or DATABASE_URI, with the driver it is written for. Each is set for
the call only and restored after.
"""

from __future__ import annotations

import configparser
import dataclasses
import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import CodeType

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from thirdai_platform.database.url import ENV_VAR
from thirdai_platform.errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INI = REPO_ROOT / "alembic.ini"
OUR_ENV_PY = REPO_ROOT / "alembic" / "env.py"
# Rendering offline needs a dialect, not a server: nothing connects to this URL.
RENDER_URL = "postgresql+psycopg2://render@localhost/render"


@dataclass
class Session:
    config: Config
    url: URL | None = None
    connection: Connection | None = None  # the one a walk steps on; env.py is handed it instead of the URL
    # the SQL rendered offline so far: {(revision, direction): sql, or the RenderFailure} (render.py)
    rendered: dict = field(default_factory=dict)
    scripts: ScriptDirectory = None  # type: ignore[assignment]  # loaded from config when not given

    def __post_init__(self) -> None:
        if self.scripts is None:
            self.scripts = ScriptDirectory.from_config(self.config)

    def on(self, url: URL, connection: Connection | None = None) -> Session:
        """The same project (scripts, rendered SQL) on another database."""
        return dataclasses.replace(self, url=url, connection=connection)


def load_config(ini: str | Path | None = None, *, stdout=None) -> Config:
    """The Alembic config of a project (default: $ALEMBIC_CONFIG, as for alembic, else ours)."""
    ini = Path(ini or os.environ.get("ALEMBIC_CONFIG") or DEFAULT_INI)
    if not ini.is_file():
        raise UserError(f"no Alembic config at {ini}")
    return Config(str(ini), stdout=stdout or sys.stdout)


def load_session(ini: str | Path | None = None, *, url: URL | None = None, stdout=None) -> Session:
    return Session(load_config(ini, stdout=stdout), url)


def run_env(session: Session, *, quiet: bool = True, **context_options) -> None:
    """Run the project's env.py once in an EnvironmentContext of these options (fn=, as_sql=, ...). Offline
    (as_sql), env.py is handed no connection, and a URL for its dialect when the session has none."""
    offline = context_options.get("as_sql", False)
    with handed_to_env(session, quiet=quiet, offline=offline, their_ways=True):
        with EnvironmentContext(session.config, session.scripts, **context_options):
            run_env_py(session.scripts)


def run_env_py(scripts: ScriptDirectory) -> None:
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
    exec(_ENV_CODE[key], module.__dict__)  # the project's own env.py, as Alembic runs it


_ENV_CODE: dict[tuple[str, int, int], CodeType] = {}  # env.py compiled, by path, mtime and size


@contextmanager
def handed_to_env(session: Session, *, quiet: bool, offline: bool = False, their_ways: bool = False) -> Iterator[None]:
    """Meanwhile, env.py finds the session's database in config.attributes (`quiet`: our env.py skips its logging
    setup); with `their_ways`, an env.py other than ours finds it in sqlalchemy.url and DATABASE_URI too."""
    handed = {
        "url": session.url or (RENDER_URL if offline else None),
        "connection": None if offline else session.connection,
        "quiet": quiet,
    }
    with ExitStack() as stack:
        stack.enter_context(_attributes(session.config, handed))
        if their_ways and session.url is not None and not is_our_env_py(session.scripts):
            plain = their_url(session.config, session.url).render_as_string(hide_password=False)
            stack.enter_context(_main_option(session.config, "sqlalchemy.url", plain.replace("%", "%%")))
            stack.enter_context(_environ(ENV_VAR, plain))
        yield


def is_our_env_py(scripts: ScriptDirectory) -> bool:
    """Our env.py takes the URL and the connection from config.attributes only."""
    return _is_our_env_py_in(scripts.dir)


@lru_cache(maxsize=64)
def _is_our_env_py_in(directory: str) -> bool:
    # asked at each run of env.py (five a revision): resolving the path each time costs a system call a component
    return (Path(directory) / "env.py").resolve() == OUR_ENV_PY


@contextmanager
def _attributes(config: Config, values: dict) -> Iterator[None]:
    saved = {key: config.attributes[key] for key in values if key in config.attributes}
    config.attributes.update(values)
    try:
        yield
    finally:
        for key in values:
            config.attributes.pop(key, None)
        config.attributes.update(saved)


@contextmanager
def _main_option(config: Config, name: str, value: str) -> Iterator[None]:
    section, parser = config.config_ini_section, config.file_config
    saved = parser.get(section, name, raw=True) if parser.has_option(section, name) else None
    config.set_main_option(name, value)
    try:
        yield
    finally:
        if saved is None:
            parser.remove_option(section, name)
        else:
            parser.set(section, name, saved)


@contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def named_driver(text: str | None) -> str | None:
    """The drivername a PostgreSQL URL names (postgresql+asyncpg); None for no driver (SQLAlchemy's default is
    psycopg2) and for anything else (alembic's `driver://` placeholder, a typo)."""
    try:
        backend, _, driver = make_url(text).drivername.partition("+") if text else ("", "", "")
    except (ArgumentError, ValueError):
        return None
    return f"postgresql+{driver}" if driver and backend in ("postgresql", "postgres") else None


def their_driver(config: Config) -> str | None:
    """The driver the project's configuration names: sqlalchemy.url of its alembic.ini, else DATABASE_URI (both
    as the project has them: `handed_to_env` restores them after each call)."""
    try:
        in_ini = config.get_main_option("sqlalchemy.url")
    except configparser.Error:  # e.g. an interpolation of a name the ini does not define
        in_ini = None
    return named_driver(in_ini) or named_driver(os.environ.get(ENV_VAR))


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
