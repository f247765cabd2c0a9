"""A revision script's top level, run where Alembic runs it: inside the migration context, with `op` bound.

`alembic upgrade` builds its revision map lazily, inside the migration context, so code at a script's top level
(say, an enum created at import, guarded by `except NameError` for the commands that load scripts outside a
migration) runs with `op` bound to the migration's connection. The walk loads every script before it starts, and
steps through revisions one at a time where each `alembic upgrade` / `alembic downgrade` command would import the
scripts anew. So: the first load happens inside a migration context whose work is rolled back, and a script whose
top level does more than define and import runs it again at the start of each of its steps, inside the step.
"""
from __future__ import annotations

import ast
import traceback
from pathlib import Path
from types import CodeType

from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.environment import EnvironmentContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection

from thirdai_platform.errors import UserError

DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass)
# Alembic's proxies: a top level that uses them acts on the database (or the migration) at import.
PROXIES = frozenset({"op", "context"})


def defines_only(statement: ast.stmt) -> bool:
    """An import, a def, a class, a docstring, or an assignment that does not reach for `op` or `context`."""
    if isinstance(statement, DEFINITIONS):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        return not any(isinstance(node, ast.Name) and node.id in PROXIES for node in ast.walk(statement))
    return False


def acting_top_level(path: str | Path) -> CodeType | None:
    """The compiled script when its top level does more than define and import; None otherwise."""
    source = Path(path).read_bytes()
    tree = ast.parse(source, filename=str(path))
    if all(defines_only(statement) for statement in tree.body):
        return None
    return compile(tree, str(path), "exec")


def load_in_context(config: Config, scripts: ScriptDirectory, connection: Connection) -> dict[str, CodeType]:
    """Load every revision script with `op` bound to our connection, roll back what their top levels did (each step
    does it again, see `run_top_level`), and return the top levels to run again, by revision."""
    connection.commit()
    try:
        with EnvironmentContext(config, scripts) as environment:
            environment.configure(connection=connection)
            with Operations.context(environment.get_context()):
                revisions = list(scripts.walk_revisions())
    except Exception as error:  # a script's own code: anything
        raise UserError(f"the revision scripts do not load{where(error)}: {type(error).__name__}: "
                        f"{(str(error).strip().splitlines() or [''])[0]}") from None
    finally:
        connection.rollback()
    acting = {script.revision: acting_top_level(script.path) for script in revisions}
    return {revision: code for revision, code in acting.items() if code is not None}


def where(error: BaseException) -> str:
    """' (versions/0005_x.py:12)': the deepest frame of the traceback outside installed packages."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if "site-packages" not in frame.filename]
    return f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""


def run_top_level(script: Script, code: CodeType | None) -> None:
    """Inside a step: the script's top level again, in its own module, as a fresh import would run it."""
    if code is not None:
        exec(code, script.module.__dict__)  # noqa: S102 (the project's own revision script)
