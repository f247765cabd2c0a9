"""The tables a revision acts on, learnt from a trial of its upgrade and downgrade, when its SQL cannot be rendered
offline (a data migration reading rows through op.get_bind(), a reflection of the schema): without them the walk
would check every table.

The trial runs the revision's own upgrade() and then downgrade() on the walk's connection, inside one transaction
that is rolled back, on the rows the walk has just written, with `op` bound to that connection as a step binds it
(not through env.py: an env.py with an engine of its own would commit). Every statement sent is recorded and read
by PostgreSQL's parser as the rendered SQL would be (scope.py). Nothing the trial does may outlast it: a statement
ending the transaction (COMMIT, ROLLBACK, BEGIN) and a commit() of the connection each stop it before they run,
and so does any error; the walk then checks every table, as without a trial. An autocommit block runs inside the
trial's transaction (its statements name the same tables either way); one that cannot run in a transaction
(CREATE INDEX CONCURRENTLY, VACUUM) is such an error. Only the sequences keep the values the trial drew
(PostgreSQL never rolls those back).
"""

from __future__ import annotations

import contextlib
import io
import re

from alembic.operations import Operations
from alembic.runtime.environment import EnvironmentContext
from alembic.script import Script
from sqlalchemy import event

from thirdai_platform.migrate.parsed_sql import Unreadable
from thirdai_platform.migrate.walk.runner import Runner
from thirdai_platform.migrate.walk.scope import Reach, reach_of

# Statements that would end the trial's transaction (ROLLBACK TO SAVEPOINT does not).
ENDS_TRANSACTION = re.compile(
    r"\s*(COMMIT|END|ABORT|BEGIN|START\s+TRANSACTION|PREPARE\s+TRANSACTION|ROLLBACK(?!\s+TO\b))\b", re.IGNORECASE
)
# The driver's placeholders (psycopg2: %(name)s and %s; psycopg 3 sends $1), read as values by the parser.
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s")


class TrialStopped(Exception):
    """The trial would have ended its transaction: it stops there, and tells nothing."""


def trial_reach(runner: Runner, script: Script) -> Reach | None:
    """What the revision's upgrade and downgrade named when tried and rolled back; None when the trial cannot tell
    (the revision raised, or would have ended the transaction, or sent SQL whose tables cannot be read)."""
    trial, connection = Trial(), runner.connection
    connection.commit()  # the trial's transaction is its own: nothing of the walk's is rolled back with it
    event.listen(connection, "before_cursor_execute", trial.record)
    event.listen(connection, "commit", trial.refuse_commit)
    # Begun here, so that Alembic opens none of its own (a batch operation's DDL outside a transaction commits).
    connection.begin()
    try:
        trial.run(runner, script)
    except Exception:  # noqa: BLE001 - the revision's own code can raise anything; its real step reports it
        return None
    finally:
        event.remove(connection, "before_cursor_execute", trial.record)
        event.remove(connection, "commit", trial.refuse_commit)
        connection.rollback()
        # A commit() refused by the listener leaves SQLAlchemy believing the transaction over while the database
        # still has it open: rolled back at the driver too (nothing to do when there is none).
        connection.connection.dbapi_connection.rollback()
    # stopped: even when the revision's code caught the stop and went on, what it sent is not all it does
    return None if trial.stopped else statements_reach(trial.sent)


class Trial:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.stopped: list[str] = []

    def run(self, runner: Runner, script: Script) -> None:
        # what the revision prints, its real steps print: once, not again for the trial
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            with EnvironmentContext(runner.config, runner.script) as environment:
                environment.configure(connection=runner.connection)
                context = environment.get_context()
                context.autocommit_block = contextlib.nullcontext  # Alembic's would commit the trial
                with Operations.context(context):
                    runner.top_levels.run(script)
                    script.module.upgrade()
                    script.module.downgrade()

    def record(self, _connection, _cursor, statement: str, _parameters, _context, _executemany) -> None:
        if ENDS_TRANSACTION.match(statement):
            self.stop(statement)
        self.sent.append(statement)

    def refuse_commit(self, _connection) -> None:
        self.stop("commit()")

    def stop(self, what: str):
        self.stopped.append(what)
        raise TrialStopped(what)


def statements_reach(statements: list[str]) -> Reach | None:
    try:
        return reach_of("\n;\n".join(PLACEHOLDER.sub("NULL", statement).replace("%%", "%") for statement in statements))
    except Unreadable:
        return None
