"""A revision script's top level, run where Alembic runs it: inside the migration context, with `op` bound.

`alembic upgrade` builds its revision map lazily, inside the migration context, so code at a script's top level
(say, an enum created at import, guarded by `except NameError` for the commands that load scripts outside a
migration) runs with `op` bound to the migration's connection. The walk loads every script before it starts, and
steps through revisions one at a time where each `alembic upgrade` / `alembic downgrade` command would import the
scripts anew. So: the first load happens inside a migration context whose work is rolled back, and a script whose
top level reads `op` or `context` runs it again at the start of each of its steps, inside the step.
"""

from __future__ import annotations

import dis
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import CodeType

from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.environment import EnvironmentContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection

from thirdai_platform.migrate.project_code import load_error

# Alembic's proxies: a top level that reads them acts through the migration (its connection, its context).
PROXIES = frozenset({"op", "context"})


def acting_top_level(path: str | Path) -> CodeType | None:
    """The script's compiled top level when it reads `op` or `context` (outside its functions); None otherwise.
    The code comes from __pycache__ as the import left it, which costs far less than parsing the source again."""
    code = SourceFileLoader("revision_script", str(path)).get_code("revision_script")
    reads = (i.argval in PROXIES for i in dis.get_instructions(code) if i.opname in ("LOAD_NAME", "LOAD_GLOBAL"))
    return code if any(reads) else None


def load_in_context(config: Config, scripts: ScriptDirectory, connection: Connection) -> None:
    """Load every revision script with `op` bound to our connection, and roll back what their top levels did: each
    step does it again (`TopLevels.run`)."""
    connection.commit()
    try:
        with EnvironmentContext(config, scripts) as environment:
            environment.configure(connection=connection)
            with Operations.context(environment.get_context()):
                scripts.revision_map.heads  # noqa: B018 (building the map imports every script)
    except Exception as error:  # a script's own code: anything
        raise load_error(error, scripts) from None
    finally:
        connection.rollback()


class TopLevels:
    """Runs a script's acting top level again inside each of its steps; which scripts act is found out at their
    first step (a part of a walk in parts looks only at the scripts it steps through)."""

    def __init__(self) -> None:
        self.code: dict[str, CodeType | None] = {}

    def run(self, script: Script) -> None:
        if script.path not in self.code:
            self.code[script.path] = acting_top_level(script.path)
        if self.code[script.path] is not None:
            exec(self.code[script.path], script.module.__dict__)  # noqa: S102 (the project's own revision script)
