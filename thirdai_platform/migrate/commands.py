"""The logic behind `inv db.*`: each command a short function over Alembic's Config and ScriptDirectory.

Every failure a user can cause leaves here as a UserError with one line of text; tasks.py prints it.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError

from thirdai_platform.database.connection import cannot_connect, engine_for
from thirdai_platform.database.url import database_url
from thirdai_platform.errors import UserError, message_line
from thirdai_platform.migrate.drift import EnumLabelsOp, declared_losses, enum_drift, model_drift
from thirdai_platform.migrate.review import review_script, risky_operations
from thirdai_platform.migrate.task_output import failed_statement, is_several_heads, review_sentence, several_heads

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INI = REPO_ROOT / "alembic.ini"


def load_config(ini: str | Path | None = None, *, url: URL | None = None, stdout=None) -> Config:
    """The Alembic config of a project (default: $ALEMBIC_CONFIG, as for alembic, else ours); the database URL is
    resolved only when a command needs one."""
    ini = Path(ini or os.environ.get("ALEMBIC_CONFIG") or DEFAULT_INI)
    if not ini.is_file():
        raise UserError(f"no Alembic config at {ini}")
    config = Config(str(ini), stdout=stdout or sys.stdout)
    if url is not None:
        config.attributes["url"] = url
    return config


def config_url(config: Config) -> URL:
    if "url" not in config.attributes:
        config.attributes["url"] = database_url()
    return config.attributes["url"]


@contextmanager
def connect(config: Config) -> Iterator[Connection]:
    with engine_for(config_url(config)).connect() as connection:  # user_errors says why it cannot connect
        yield connection


@contextmanager
def user_errors(config: Config) -> Iterator[None]:
    """Turn what Alembic and the database raise into one-line UserErrors, never showing the password."""
    try:
        yield
    except CommandError as error:
        if is_several_heads(str(error)):  # the same sentence in every task, saying how to join them
            raise several_heads(script_directory(config).get_heads()) from None
        raise UserError(message_line(error)) from None
    except DBAPIError as error:
        if is_connection_error(error):
            raise cannot_connect(config_url(config), error) from None
        raise UserError(f"database error: {message_line(error)}") from None


def is_connection_error(error: DBAPIError) -> bool:
    return error.connection_invalidated or "connection to server" in str(error.orig)


def script_directory(config: Config) -> ScriptDirectory:
    return ScriptDirectory.from_config(config)


def database_heads(config: Config) -> tuple[str, ...]:
    """The revisions the database is at; a database with tables but no alembic_version was built some other way:
    refuse to guess its revision."""
    with connect(config) as connection:
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


def upgrade(config: Config, revision: str = "head", *, sql: bool = False) -> None:
    with user_errors(config):
        if not sql:
            database_heads(config)
        migrate(config, command.upgrade, revision, sql=sql)


def migrate(config: Config, run, revision: str, **options) -> None:
    try:
        run(config, revision, **options)
    except DBAPIError as error:
        if is_connection_error(error):
            raise
        # One transaction per migration: the failing revision was rolled back, the ones before it stay applied.
        current = database_heads(config)
        where = ", ".join(current) or "base"
        raise UserError(f"{run.__name__}{next_step(config, run, revision, current)} failed and its revision was "
                        f"rolled back (database now at {where}): {message_line(error)}{failed_statement(error)}") from None


def next_step(config: Config, run, target: str, current: tuple[str, ...]) -> str:
    """' of 0042_x': the revision the failed command was running (the first step from where the database is)."""
    script = script_directory(config)
    try:
        steps = (script._upgrade_revs(target, current) if run is command.upgrade  # noqa: SLF001 (what alembic runs)
                 else script._downgrade_revs(target, current))  # noqa: SLF001
    except (CommandError, ValueError):
        return ""
    return f" of {steps[0].revision.revision}" if steps else ""


def downgrade_steps(config: Config, target: str) -> list[Script]:
    """The revisions a downgrade to target would undo, newest first."""
    script = script_directory(config)
    current = database_heads(config)
    if not current:
        raise UserError("the database is at base: there is nothing to downgrade")
    if len(current) > 1 and target.startswith("-"):
        raise UserError(f"the database is at {len(current)} heads ({', '.join(current)}): a relative downgrade is "
                        "ambiguous; name the revision to go back to: `inv db.downgrade -r REV`")
    return [step.revision for step in script._downgrade_revs(target, current)]  # noqa: SLF001 (what alembic runs)


def downgrade(config: Config, revision: str = "-1", *, confirmed: bool = False) -> list[Script]:
    with user_errors(config):
        steps = downgrade_steps(config, revision)
        if (len(steps) > 1 or revision == "base") and not confirmed:
            names = ", ".join(s.revision for s in steps)
            raise UserError(f"downgrading to {revision} undoes {len(steps)} revisions ({names}) and their data; add --yes to confirm")
        migrate(config, command.downgrade, revision)
        return steps


@dataclass
class NewRevision:
    path: Path | None
    risky: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


def revision(config: Config, message: str, *, autogenerate: bool = True) -> NewRevision:
    """Write a new revision; with autogenerate, first bring the database to head, as the team guide asks."""
    if not message.strip():
        raise UserError("give the revision a message: -m 'what changes'")
    without_status_lines(config)  # Alembic's "Generating PATH ...  done": we say "wrote PATH"
    with user_errors(config):
        script = script_directory(config)
        if script.get_heads():
            single_head(script)
        if autogenerate:
            upgrade(config, "head")

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

        written = command.revision(config, message, autogenerate=autogenerate, process_revision_directives=add_enum_changes_or_skip)
    if not written:
        return NewRevision(path=None)
    path = Path(written.path)
    declare_losses(path, declared_losses(drifts))
    return NewRevision(path=path, risky=risky_operations(path), review=[review_sentence(f) for f in review_script(path)])


def without_status_lines(config: Config) -> None:
    config.cmd_opts = config.cmd_opts or argparse.Namespace()
    config.cmd_opts.quiet = True  # read only by the status lines and print_stdout, which `revision` does not use
    config.__dict__.pop("messaging_opts", None)  # memoized by Alembic: read again with quiet


EMPTY_DECLARATION = "data_loss: dict = {}"


def declare_losses(path: Path, losses: dict[str, list[str]]) -> None:
    """Write the losses the generated code makes into the script's data_loss (our script.py.mako's empty one)."""
    source = path.read_text()
    if not losses or EMPTY_DECLARATION not in source:
        return
    why = ("# An enum label without a counterpart merges its rows into the label chosen for REPLACE_WITH_A_LABEL:\n"
           "# those rows lose their label in that direction (the walk checks everything else).\n")
    path.write_text(source.replace(EMPTY_DECLARATION, f"{why}data_loss: dict = {losses!r}", 1))


def current(config: Config) -> list[str]:
    with user_errors(config):
        script = script_directory(config)
        heads = database_heads(config)
        if not heads:
            return ["base (no revision applied)"]
        lines = []
        for head in heads:
            try:
                known = script.get_revision(head)
            except CommandError:
                known = None
            if known is None:
                raise UserError(f"the database is at revision {head}, which this checkout does not have (pull, or switch branch)")
            suffix = " (head)" if head in script.get_heads() else ""
            lines.append(f"{head}{suffix}: {known.doc}")
        return lines


def stamp(config: Config, revision: str) -> None:
    with user_errors(config):
        command.stamp(config, revision)


def history(config: Config, rev_range: str | None = None, *, verbose: bool = False) -> None:
    with user_errors(config):
        command.history(config, rev_range, verbose=verbose)


def heads(config: Config, *, verbose: bool = False) -> None:
    with user_errors(config):
        command.heads(config, verbose=verbose)


def merge(config: Config, message: str = "merge heads") -> Path:
    with user_errors(config):
        heads = script_directory(config).get_heads()
        if len(heads) < 2:
            raise UserError("there is a single head: nothing to merge")
        return Path(command.merge(config, "heads", message=message).path)


def check(config: Config) -> None:
    """Models vs database, enum labels included: raises UserError naming what differs."""
    with user_errors(config):
        heads, expected = database_heads(config), script_directory(config).get_heads()
        if len(expected) > 1:
            raise several_heads(expected)
        if set(heads) != set(expected):
            raise UserError(f"the database is not up to date (at {', '.join(heads) or 'base'}, head is "
                            f"{', '.join(expected)}): run `inv db.upgrade` first")
        differences = model_drift(config).lines()
        if differences:
            raise UserError(f"models and database differ ({len(differences)}): {'; '.join(differences)}")


def pending_upgrades(config: Config) -> tuple[tuple[str, ...], list[Script]]:
    """Where the database is, and the revisions `inv db.upgrade` would apply to reach head, in the order it would."""
    current = database_heads(config)
    steps = script_directory(config)._upgrade_revs("head", current)  # noqa: SLF001 (what alembic runs)
    return current, [step.revision for step in steps]


def plan(config: Config, report: str | Path | None = None) -> list[str]:
    """What `inv db.upgrade` would apply, each revision with its review, lint and rehearsal (plan.py)."""
    from thirdai_platform.migrate.plan import plan_lines

    with user_errors(config):
        current, pending = pending_upgrades(config)
        return plan_lines(config, current, pending, Path(report) if report else None)
