"""Write a synthetic Alembic project of N revisions: `python bench/generate.py 200 /tmp/history200`.

The revisions cycle through the operations real histories are made of, each with a downgrade that gives the data
back: a new table with a foreign key and an enum, an added column backfilled then made NOT NULL, an enum label
renamed with alembic_enums, a column renamed, an index, and a column moved out into a table of its own.
The project gets its own alembic.ini, env.py (takes config.attributes["connection"]) and models.py matching head.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("table", "backfill", "enum", "rename", "index", "move")
FIRST_LABELS = ["new", "active", "closed"]

ENV_PY = '''\
"""Environment of a generated history: models.py next to alembic.ini is the target metadata."""
import importlib.util
import sys
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

config = context.config


def target_metadata():
    name = "bench_models_" + Path(config.config_file_name).parent.name
    if name not in sys.modules:  # loaded once per process, not once per revision
        spec = importlib.util.spec_from_file_location(name, Path(config.config_file_name).parent / "models.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name].metadata


def run_with(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata(), compare_type=True,
                      transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.attributes.get("url") or config.get_main_option("sqlalchemy.url"), literal_binds=True,
                      target_metadata=target_metadata(), transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    given = config.attributes.get("connection")  # a Connection (our walk) or an Engine (pytest-alembic)
    if isinstance(given, Connection):
        run_with(given)
    else:
        engine = given or create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
        with engine.connect() as connection:
            run_with(connection)
            connection.commit()
'''

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s
version_locations = %(here)s/versions
path_separator = os
"""


@dataclass
class Table:
    name: str
    enum: str
    labels: list[str]
    title: str = "title"  # renamed by "rename" revisions
    has_note: bool = True  # moved out by a "move" revision
    parent: str | None = None
    extra: list[str] = field(default_factory=list)  # backfilled columns
    indexed: list[str] = field(default_factory=list)  # columns with an index
    notes_table: str | None = None


@dataclass
class Revision:
    number: int
    message: str
    upgrade: list[str]
    downgrade: list[str]
    imports: set[str] = field(default_factory=set)
    preamble: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"r{self.number:04d}"


class History:
    """The schema as the revisions so far leave it, and the next revision for each kind of operation."""

    def __init__(self) -> None:
        self.tables: list[Table] = []
        self.turn = 0  # round robin over tables, so changes spread over the whole schema

    def pick(self, fits) -> Table | None:
        for offset in range(len(self.tables)):
            table = self.tables[(self.turn + offset) % len(self.tables)]
            if fits(table):
                self.turn += offset + 1
                return table
        return None

    def revision(self, number: int) -> Revision:
        kind = KINDS[(number - 1) % len(KINDS)]
        made = getattr(self, kind)(number) if self.tables or kind == "table" else None
        return made or self.table(number)

    def table(self, number: int) -> Revision:
        name, parent = f"t{number:04d}", self.tables[-1].name if self.tables else None
        table = Table(name, f"{name}_status", list(FIRST_LABELS), parent=parent)
        self.tables.append(table)
        foreign_key = f'sa.ForeignKey("{parent}.id", name="fk_{name}_parent"), ' if parent else ""
        return Revision(
            number,
            f"create table {name}",
            [
                f'op.create_table("{name}",',
                '    sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),',
                '    sa.Column("title", sa.Text(), nullable=False),',
                f'    sa.Column("status", sa.Enum({", ".join(map(repr, FIRST_LABELS))}, name="{table.enum}"), nullable=False, '
                'server_default="new"),',
                f'    sa.Column("parent_id", sa.BigInteger(), {foreign_key}nullable=True),',
                '    sa.Column("note", sa.Text(), nullable=False, server_default=""),',
                '    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),',
                ")",
            ],
            [f'op.drop_table("{name}")', f'op.execute("DROP TYPE {table.enum}")'],
        )

    def backfill(self, number: int) -> Revision | None:
        table = self.pick(lambda t: True)
        column = f"score_{number:04d}"
        table.extra.append(column)
        return Revision(
            number,
            f"add {table.name}.{column} backfilled from {table.title}",
            [
                f'op.add_column("{table.name}", sa.Column("{column}", sa.Integer(), nullable=True))',
                f"op.execute('UPDATE {table.name} SET {column} = length({table.title})')",
                f'op.alter_column("{table.name}", "{column}", nullable=False)',
            ],
            [f'op.drop_column("{table.name}", "{column}")'],
        )

    def enum(self, number: int) -> Revision | None:
        table = self.pick(lambda t: True)
        old = list(table.labels)
        table.labels[-1] = f"closed_{number:04d}"
        return Revision(
            number,
            f"rename label {old[-1]} of {table.enum} to {table.labels[-1]}",
            [
                "with migration.upgrade_ctx():",
                f"    migration.update_value(STATUS, {old[-1]!r}, {table.labels[-1]!r})",
            ],
            [
                "with migration.downgrade_ctx():",
                f"    migration.update_value(STATUS, {table.labels[-1]!r}, {old[-1]!r})",
            ],
            imports={"from alembic_enums import Column, EnumMigration"},
            preamble=[
                f'STATUS = Column("{table.name}", "status", old_server_default="new", new_server_default="new")',
                f"migration = EnumMigration(op, {table.enum!r}, {old!r}, {table.labels!r}, [STATUS])",
            ],
        )

    def rename(self, number: int) -> Revision | None:
        table = self.pick(lambda t: True)
        old, table.title = table.title, f"title_{number:04d}"
        return Revision(
            number,
            f"rename {table.name}.{old} to {table.title}",
            [f'op.alter_column("{table.name}", "{old}", new_column_name="{table.title}")'],
            [f'op.alter_column("{table.name}", "{table.title}", new_column_name="{old}")'],
        )

    def index(self, number: int) -> Revision | None:
        table = self.pick(lambda t: len(t.indexed) < 2)
        if table is None:
            return None
        column = "created_at" if "created_at" not in table.indexed else "parent_id"
        table.indexed.append(column)
        name = f"ix_{table.name}_{column}"
        return Revision(
            number,
            f"index {table.name}.{column}",
            [f'op.create_index("{name}", "{table.name}", ["{column}"])'],
            [f'op.drop_index("{name}", table_name="{table.name}")'],
        )

    def move(self, number: int) -> Revision | None:
        table = self.pick(lambda t: t.has_note)
        if table is None:
            return None
        table.has_note, table.notes_table = False, f"{table.name}_notes"
        notes = table.notes_table
        return Revision(
            number,
            f"move {table.name}.note into {notes}",
            [
                f'op.create_table("{notes}",',
                f'    sa.Column("{table.name}_id", sa.BigInteger(), sa.ForeignKey("{table.name}.id", name="fk_{notes}_owner"), '
                "primary_key=True),",
                '    sa.Column("note", sa.Text(), nullable=False),',
                ")",
                f'op.execute("INSERT INTO {notes} ({table.name}_id, note) SELECT id, note FROM {table.name}")',
                f'op.drop_column("{table.name}", "note")',
            ],
            [
                f'op.add_column("{table.name}", sa.Column("note", sa.Text(), nullable=False, server_default=""))',
                f'op.execute("UPDATE {table.name} SET note = n.note FROM {notes} n WHERE n.{table.name}_id = {table.name}.id")',
                f'op.drop_table("{notes}")',
            ],
        )

    def models(self) -> str:
        lines = ["import sqlalchemy as sa", "", "metadata = sa.MetaData()", ""]
        for t in self.tables:
            parent = f'sa.ForeignKey("{t.parent}.id", name="fk_{t.name}_parent"), ' if t.parent else ""
            lines += [
                f'sa.Table("{t.name}", metadata,',
                '    sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),',
                f'    sa.Column("{t.title}", sa.Text(), nullable=False),',
                f'    sa.Column("status", sa.Enum({", ".join(map(repr, t.labels))}, name="{t.enum}"), nullable=False, '
                'server_default="new"),',
                f'    sa.Column("parent_id", sa.BigInteger(), {parent}nullable=True, index={"parent_id" in t.indexed}),',
                *(['    sa.Column("note", sa.Text(), nullable=False, server_default=""),'] if t.has_note else []),
                '    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False, '
                f"index={'created_at' in t.indexed}),",
                *(f'    sa.Column("{c}", sa.Integer(), nullable=False),' for c in t.extra),
                ")",
            ]
            if t.notes_table:
                lines += [
                    f'sa.Table("{t.notes_table}", metadata,',
                    f'    sa.Column("{t.name}_id", sa.BigInteger(), sa.ForeignKey("{t.name}.id", '
                    f'name="fk_{t.notes_table}_owner"), primary_key=True),',
                    '    sa.Column("note", sa.Text(), nullable=False),',
                    ")",
                ]
        return "\n".join(lines) + "\n"


def script(revision: Revision, parent: str | None) -> str:
    def body(lines: list[str]) -> str:
        return "\n".join("    " + line for line in lines)

    imports = "\n".join(sorted({"import sqlalchemy as sa", "from alembic import op", *revision.imports}))
    preamble = "\n".join(revision.preamble)
    return (
        f'"""{revision.message}"""\n{imports}\n\nrevision = {revision.id!r}\ndown_revision = {parent!r}\n'
        f"branch_labels = None\ndepends_on = None\n\n{preamble}\n\n\ndef upgrade():\n{body(revision.upgrade)}\n\n\n"
        f"def downgrade():\n{body(revision.downgrade)}\n"
    )


def generate(revisions: int, directory: Path) -> Path:
    """Write the project into `directory` (replacing it); return the path of its alembic.ini."""
    shutil.rmtree(directory, ignore_errors=True)
    (directory / "versions").mkdir(parents=True)
    history, parent = History(), None
    for number in range(1, revisions + 1):
        revision = history.revision(number)
        (directory / "versions" / f"{revision.id}.py").write_text(script(revision, parent))
        parent = revision.id
    (directory / "models.py").write_text(history.models())
    (directory / "env.py").write_text(ENV_PY)
    (directory / "alembic.ini").write_text(ALEMBIC_INI)
    return directory / "alembic.ini"


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("revisions", type=int)
    arguments.add_argument("directory", type=Path)
    args = arguments.parse_args()
    print(generate(args.revisions, args.directory))
