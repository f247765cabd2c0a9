"""Getting to a revision's parent with plain upgrades (no rows, no checks) from where the walk starts: an empty
database, or the user's dump. The walk does it after a broken leg, from that start again (the dump restored anew);
a later part of a walk in parts does it first, on its own database as it was given (empty, or a copy of the dump)."""

from __future__ import annotations

from collections.abc import Iterable

from alembic.script import Script
from sqlalchemy import text
from sqlalchemy.engine import Connection

from thirdai_platform.errors import UserError
from thirdai_platform.migrate import history
from thirdai_platform.migrate.walk.dump import Dump, restore_dump
from thirdai_platform.migrate.walk.runner import Runner, StepFailed


def reset_schema(connection: Connection, others: Iterable[str] = ()) -> None:
    """An empty public schema, and the schemas `others` gone."""
    connection.rollback()
    quote = connection.dialect.identifier_preparer.quote_identifier
    for schema in others:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE"))
    connection.execute(text("DROP SCHEMA public CASCADE"))
    connection.execute(text("CREATE SCHEMA public"))
    connection.commit()


class CannotStartAgain(Exception):
    """The walk's start cannot be made again (the dump no longer restores): the revisions left are not walked."""


class Climber:
    """Brings the walk's database to a revision's parent from the walk's start. `applied`: the revisions the start
    has (the dump's; none on an empty database). `as_given`: the database is still the start, as the walk got it
    (a later part's): the first climb needs no fresh start."""

    def __init__(self, runner: Runner, dump: Dump | None, applied: set[str], as_given: bool = False):
        self.runner, self.dump, self.applied, self.as_given = runner, dump, applied, as_given
        # A climb from the start is the same plain upgrades each time: one whose steps begin with those of a climb
        # that failed fails at the same step again. Known, it costs no climb, nor a restore of the dump.
        self.failed: tuple[tuple[str, ...], StepFailed] | None = None

    def to_parent_of(self, target: Script) -> StepFailed | None:
        """The database where target's upgrade starts; the step that failed on the way, if one did."""
        steps = [script for script in history.climb(self.runner.script, target) if script.revision not in self.applied]
        names = tuple(script.revision for script in steps)
        if self.failed is not None and names[: len(self.failed[0])] == self.failed[0]:
            return self.failed[1]
        if not self.as_given:
            self.start_again()
        self.as_given = False
        for count, script in enumerate(steps, start=1):
            try:
                self.runner.upgrade(script)
            except StepFailed as failure:
                self.failed = (names[:count], failure)
                return failure
        return None

    def start_again(self) -> None:
        """The walk's start again: an empty schema, and the dump restored into it. Restoring a production-size dump
        takes a while, paid once for each broken leg: the rows and schema a broken leg leaves are not the dump's."""
        if self.dump is None:
            reset_schema(self.runner.connection)
            return
        reset_schema(self.runner.connection, self.dump.schemas)
        try:
            restore_dump(self.dump.path, self.runner.url, self.dump.bin_dir)
        except UserError as error:  # it was restored once: say that this is the second time
            raise CannotStartAgain(f"after a failing leg, the walk starts again from the dump: {error}") from None
