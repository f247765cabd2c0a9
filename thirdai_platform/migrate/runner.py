"""Apply one revision at a time, up or down, on one connection, with the script directory loaded once.

`alembic.command.upgrade` re-reads every revision file per call, which makes a walk quadratic; this runs the
same EnvironmentContext + env.py machinery with a step list of exactly one revision.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import URL, Connection

from thirdai_platform.database.url import ENV_VAR

STATEMENT_LIMIT = 500


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


def hand_over_url(config: Config, url: URL) -> None:
    """Our env.py takes the URL (or a connection) from config.attributes; other projects' env.py files often build
    their own engine from sqlalchemy.url or DATABASE_URI, so hand the URL over those ways too."""
    config.attributes.update(url=url, quiet=True)
    plain = url.render_as_string(hide_password=False)
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

    def revisions(self) -> list[Script]:
        """Every revision, parents before children."""
        return list(reversed(list(self.script.walk_revisions())))

    def heads(self) -> tuple[str, ...]:
        return MigrationContext.configure(self.connection).get_current_heads()

    def upgrade(self, revision: Script) -> None:
        self.apply(revision, MigrationStep.upgrade_from_script(self.script.revision_map, revision), "upgrade")

    def downgrade(self, revision: Script) -> None:
        self.apply(revision, MigrationStep.downgrade_from_script(self.script.revision_map, revision), "downgrade")

    def apply(self, revision: Script, step: MigrationStep, direction: str) -> None:
        # Alembic runs inside a transaction the caller left open instead of its own: start clean.
        self.connection.commit()
        try:
            with EnvironmentContext(self.config, self.script, fn=lambda _heads, _context: [step]):
                self.script.run_env()
            self.connection.commit()
        except Exception as error:  # a broken migration can raise anything
            self.connection.rollback()
            raise StepFailed(revision.revision, direction, error) from error
