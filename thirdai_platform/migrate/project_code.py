"""Running a project's own code (its env.py and revision scripts): whatever it raises becomes one line naming the
file and line, and whatever it logs at INFO stays out of the walk's output."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from thirdai_platform.database.connection import connected
from thirdai_platform.errors import UserError, one_line
from thirdai_platform.migrate.session import Session, run_env


def script_dirs(scripts: ScriptDirectory) -> list[Path]:
    """Where the project's migration code lives: the script location (env.py) and every versions folder."""
    return [Path(scripts.dir).resolve(), *(Path(p).resolve() for p in scripts.version_locations)]


def shown(path: str | Path) -> str:
    """A path relative to the working directory when it is inside it, else as it is."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def raised_at(error: BaseException, dirs: list[Path]) -> str | None:
    """'versions/0042_x.py line 12': the innermost place in the project's migration code the error came from."""
    if isinstance(error, SyntaxError) and error.filename:  # raised compiling the file: it has no frame of its own
        return f"{shown(error.filename)} line {error.lineno}"
    places = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<")  # code SQLAlchemy generates: "<generated _go() wrapper ...>"
        and any(Path(frame.filename).resolve().is_relative_to(d) for d in dirs)
    ]
    return f"{shown(places[-1].filename)} line {places[-1].lineno}" if places else None


def described(error: BaseException, dirs: list[Path]) -> str:
    """The error in one line, with where the project's code raised it when it did."""
    where = raised_at(error, dirs)
    return f"{one_line(error)} ({where})" if where else one_line(error)


def load_error(error: Exception, scripts: ScriptDirectory) -> UserError:
    """A revision script that raises when Alembic imports it (ImportError, SyntaxError, anything): one line."""
    return UserError(f"cannot load the revision scripts: {described(error, script_dirs(scripts))}")


def check_env_py(session: Session) -> None:
    """Run env.py once against the database the way `alembic current` does (no migration, nothing written): an
    env.py that raises before any revision runs (an import, a setting, a connection) stops here, in one line.
    Handed a connection as the walk does: a database we cannot reach is said as such, not as env.py's error."""
    try:
        with connected(session.url) as connection:
            run_env(session.on(session.url, connection), fn=lambda _heads, _context: [], dont_mutate=True)
    except UserError:
        raise
    except Exception as error:  # whatever the project's env.py raises
        message = with_password_hidden(described(error, script_dirs(session.scripts)), session.url)
        raise UserError(f"env.py cannot run, so no revision can: {message}") from None


@contextmanager
def quiet_logging() -> Iterator[None]:
    """Hold every logger at WARNING meanwhile, the project's and Alembic's alike: many env.py files call
    `logging.config.fileConfig` at every step (Alembic's template sets `alembic` to INFO: three lines a step), and
    fileConfig resets logger levels, but not the process-wide `logging.disable`. Forked processes inherit it."""
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


def with_password_hidden(text: str, url: URL) -> str:
    return text.replace(str(url.password), "***") if url.password else text
