"""The logic behind `inv db.*`: each command a short function over a session (session.py): the project's Alembic
config, its ScriptDirectory and its database.

Every failure a user can cause leaves here as a UserError with one line of text; tasks.py prints it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError

from thirdai_platform.database.connection import cannot_connect, engine_for
from thirdai_platform.database.url import database_url
from thirdai_platform.errors import UserError, message_line
from thirdai_platform.migrate.commands.task_output import (
    failed_statement,
    is_several_heads,
    review_sentence,
    several_heads,
)
from thirdai_platform.migrate.drift import EnumLabelsOp, declared_losses, enum_drift, model_drift
from thirdai_platform.migrate.review import review_script, risky_operations
from thirdai_platform.migrate.session import Session, handed_to_env


def config_url(session: Session) -> URL:
    """The database a command acts on: the one the session was given, else DATABASE_URI's (read when first needed)."""
    if session.url is None:
        session.url = database_url()
    return session.url


@contextmanager
def connect(session: Session) -> Iterator[Connection]:
    with engine_for(config_url(session)).connect() as connection:  # user_errors says why it cannot connect
        yield connection


@contextmanager
def user_errors(session: Session) -> Iterator[None]:
    """Turn what Alembic and the database raise into one-line UserErrors, never showing the password."""
    try:
        yield
    except CommandError as error:
        if is_several_heads(str(error)):  # the same sentence in every task, saying how to join them
            raise several_heads(script_directory(session).get_heads()) from None
        raise UserError(message_line(error)) from None
    except DBAPIError as error:
        if is_connection_error(error):
            raise cannot_connect(config_url(session), error) from None
        raise UserError(f"database error: {message_line(error)}") from None


def is_connection_error(error: DBAPIError) -> bool:
    return error.connection_invalidated or "connection to server" in str(error.orig)


def script_directory(session: Session) -> ScriptDirectory:
    return session.scripts


def database_heads(session: Session) -> tuple[str, ...]:
    """The revisions the database is at; a database with tables but no alembic_version was built some other way:
    refuse to guess its revision."""
    with connect(session) as connection:
        tables = set(inspect(connection).get_table_names())
        if tables and "alembic_version" not in tables:
            raise UserError(
                f"the database has {len(tables)} tables but no alembic_version table; "
                "if its schema matches a revision, adopt it with `inv db.stamp REVISION` (e.g. head)"
            )
        return MigrationContext.configure(connection).get_current_heads()


def single_head(script: ScriptDirectory) -> str:
    heads = script.get_heads()
    if len(heads) > 1:
        raise several_heads(heads)
    if not heads:
        raise UserError("the history has no revision yet")
    return heads[0]


def upgrade(session: Session, revision: str = "head", *, sql: bool = False) -> None:
    with user_errors(session):
        if not sql:
            database_heads(session)
        migrate(session, command.upgrade, revision, sql=sql)


def migrate(session: Session, run, revision: str, **options) -> None:
    try:
        with handed_to_env(session, quiet=False):
            run(session.config, revision, **options)
    except DBAPIError as error:
        if is_connection_error(error):
            raise
        # One transaction per migration: the failing revision was rolled back, the ones before it stay applied.
        current = database_heads(session)
        where = ", ".join(current) or "base"
        raise UserError(
            f"{run.__name__}{next_step(session, run, revision, current)} failed and its revision was "
            f"rolled back (database now at {where}): {message_line(error)}{failed_statement(error)}"
        ) from None


def next_step(session: Session, run, target: str, current: tuple[str, ...]) -> str:
    """' of 0042_x': the revision the failed command was running (the first step from where the database is)."""
    script = script_directory(session)
    try:
        steps = (
            script._upgrade_revs(target, current)
            if run is command.upgrade  # noqa: SLF001 (what alembic runs)
            else script._downgrade_revs(target, current)
        )  # noqa: SLF001
    except (CommandError, ValueError):
        return ""
    return f" of {steps[0].revision.revision}" if steps else ""


def downgrade_steps(session: Session, target: str) -> list[Script]:
    """The revisions a downgrade to target would undo, newest first."""
    script = script_directory(session)
    current = database_heads(session)
    if not current:
        raise UserError("the database is at base: there is nothing to downgrade")
    if len(current) > 1 and target.startswith("-"):
        raise UserError(
            f"the database is at {len(current)} heads ({', '.join(current)}): a relative downgrade is "
            "ambiguous; name the revision to go back to: `inv db.downgrade -r REV`"
        )
    return [step.revision for step in script._downgrade_revs(target, current)]  # noqa: SLF001 (what alembic runs)


def downgrade(session: Session, revision: str = "-1", *, confirmed: bool = False) -> list[Script]:
    with user_errors(session):
        steps = downgrade_steps(session, revision)
        if (len(steps) > 1 or revision == "base") and not confirmed:
            names = ", ".join(s.revision for s in steps)
            raise UserError(
                f"downgrading to {revision} undoes {len(steps)} revisions ({names}) and their data; add --yes to confirm"
            )
        migrate(session, command.downgrade, revision)
        return steps


@dataclass
class NewRevision:
    path: Path | None
    risky: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


def revision(session: Session, message: str, *, autogenerate: bool = True) -> NewRevision:
    """Write a new revision; with autogenerate, first bring the database to head, as the team guide asks."""
    if not message.strip():
        raise UserError("give the revision a message: -m 'what changes'")
    without_status_lines(session)  # Alembic's "Generating PATH ...  done": we say "wrote PATH"
    with user_errors(session):
        script = script_directory(session)
        if script.get_heads():
            single_head(script)
        if autogenerate:
            upgrade(session, "head")

        drifts: list = []

        def add_enum_changes_or_skip(context: MigrationContext, revision, directives) -> None:
            if not autogenerate:
                return
            script_ops = directives[0]
            drifts.extend(enum_drift(context.connection, context.opts["target_metadata"]))
            for drift in drifts:
                script_ops.upgrade_ops.ops.append(EnumLabelsOp(drift))
                script_ops.downgrade_ops.ops.insert(0, EnumLabelsOp(drift, upgrading=False))
            if script_ops.upgrade_ops.is_empty():
                directives[:] = []  # nothing changed: write no file

        with handed_to_env(session, quiet=False):
            written = command.revision(
                session.config, message, autogenerate=autogenerate, process_revision_directives=add_enum_changes_or_skip
            )
        reload_scripts(session)
    if not written:
        return NewRevision(path=None)
    path = Path(written.path)
    declare_losses(path, declared_losses(drifts))
    return NewRevision(
        path=path, risky=risky_operations(path), review=[review_sentence(f) for f in review_script(path)]
    )


def reload_scripts(session: Session) -> None:
    """After a command wrote a revision: the history the session holds is read again."""
    session.scripts = ScriptDirectory.from_config(session.config)


def without_status_lines(session: Session) -> None:
    config = session.config
    config.cmd_opts = config.cmd_opts or argparse.Namespace()
    config.cmd_opts.quiet = True  # read only by the status lines and print_stdout, which `revision` does not use
    config.__dict__.pop("messaging_opts", None)  # memoized by Alembic: read again with quiet


EMPTY_DECLARATION = "data_loss: dict = {}"


def declare_losses(path: Path, losses: dict[str, list[str]]) -> None:
    """Write the losses the generated code makes into the script's data_loss (our script.py.mako's empty one)."""
    source = path.read_text()
    if not losses or EMPTY_DECLARATION not in source:
        return
    why = (
        "# An enum label without a counterpart merges its rows into the label chosen for REPLACE_WITH_A_LABEL:\n"
        "# those rows lose their label in that direction (the walk checks everything else).\n"
    )
    path.write_text(source.replace(EMPTY_DECLARATION, f"{why}data_loss: dict = {losses!r}", 1))


def current(session: Session) -> list[str]:
    with user_errors(session):
        script = script_directory(session)
        heads = database_heads(session)
        if not heads:
            return ["base (no revision applied)"]
        lines = []
        for head in heads:
            try:
                known = script.get_revision(head)
            except CommandError:
                known = None
            if known is None:
                raise UserError(
                    f"the database is at revision {head}, which this checkout does not have (pull, or switch branch)"
                )
            suffix = " (head)" if head in script.get_heads() else ""
            lines.append(f"{head}{suffix}: {known.doc}")
        return lines


def stamp(session: Session, revision: str) -> None:
    with user_errors(session):
        with handed_to_env(session, quiet=False):
            command.stamp(session.config, revision)


def history(session: Session, rev_range: str | None = None, *, verbose: bool = False) -> None:
    with user_errors(session):
        command.history(session.config, rev_range, verbose=verbose)


def heads(session: Session, *, verbose: bool = False) -> None:
    with user_errors(session):
        command.heads(session.config, verbose=verbose)


def merge(session: Session, message: str = "merge heads") -> Path:
    with user_errors(session):
        heads = script_directory(session).get_heads()
        if len(heads) < 2:
            raise UserError("there is a single head: nothing to merge")
        written = Path(command.merge(session.config, "heads", message=message).path)
        reload_scripts(session)
        return written


def check(session: Session) -> None:
    """Models vs database, enum labels included: raises UserError naming what differs."""
    with user_errors(session):
        heads, expected = database_heads(session), script_directory(session).get_heads()
        if len(expected) > 1:
            raise several_heads(expected)
        if set(heads) != set(expected):
            raise UserError(
                f"the database is not up to date (at {', '.join(heads) or 'base'}, head is "
                f"{', '.join(expected)}): run `inv db.upgrade` first"
            )
        differences = model_drift(session, quiet=False).lines()
        if differences:
            raise UserError(f"models and database differ ({len(differences)}): {'; '.join(differences)}")


def pending_upgrades(session: Session) -> tuple[tuple[str, ...], list[Script]]:
    """Where the database is, and the revisions `inv db.upgrade` would apply to reach head, in the order it would."""
    current = database_heads(session)
    steps = script_directory(session)._upgrade_revs("head", current)  # noqa: SLF001 (what alembic runs)
    return current, [step.revision for step in steps]


def plan(session: Session, report: str | Path | None = None) -> list[str]:
    """What `inv db.upgrade` would apply, each revision with its review, lint and rehearsal (plan.py)."""
    from thirdai_platform.migrate.commands.plan import plan_lines

    with user_errors(session):
        current, pending = pending_upgrades(session)
        return plan_lines(session, current, pending, Path(report) if report else None)
