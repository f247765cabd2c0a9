"""Apply one revision at a time, up or down, on one connection, with the script directory loaded once.

`alembic.command.upgrade` re-reads every revision file per call, which makes a walk quadratic; this runs the
same EnvironmentContext + env.py machinery with a step list of exactly one revision. The project's env.py gets
our database with the driver its own configuration names, and each script's top level runs where Alembic runs it
(toplevel.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import Script

from thirdai_platform.errors import one_line
from thirdai_platform.migrate.session import Session, run_env, their_url
from thirdai_platform.migrate.walk.toplevel import TopLevels, load_in_context

STATEMENT_LIMIT = 500


class StepFailed(Exception):
    """An upgrade or downgrade raised; carries the failing SQL statement (when there was one) and the error."""

    def __init__(self, revision: str, direction: str, error: BaseException):
        self.revision = revision
        self.direction = direction
        self.statement = getattr(error, "statement", None)
        if self.statement and len(self.statement) > STATEMENT_LIMIT:
            self.statement = self.statement[:STATEMENT_LIMIT] + " …"
        self.error = one_line(error)
        super().__init__(f"{direction} {revision}: {self.error}")


@dataclass
class Runner:
    session: Session  # on the database to walk, with its connection

    def __post_init__(self) -> None:
        self.config, self.script = self.session.config, self.session.scripts
        self.connection, self.url = self.session.connection, self.session.url
        their_url(self.config, self.url)  # a driver their env.py needs and we lack: one line, before any step
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
            run_env(self.session, fn=steps)
            self.connection.commit()
        except Exception as error:  # a broken migration can raise anything
            self.connection.rollback()
            raise StepFailed(revision.revision, direction, error) from error
