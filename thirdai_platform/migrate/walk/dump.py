"""Load a user's pg_dump into the walk's database, so every revision is timed and checked on production-size data.
The walk restores it again after a broken leg (climb.py): it starts from the dump, as the user's database would."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL

from thirdai_platform.database.connection import connected
from thirdai_platform.errors import UserError
from thirdai_platform.migrate.server.ephemeral import find_bin_dir

# The schemas of a database other than PostgreSQL's own (pg_catalog, pg_toast, information_schema, pg_temp_N).
SCHEMAS_SQL = "SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'"


@dataclass(frozen=True)
class Dump:
    """A dump the walk starts from, as restored once: what restoring it again needs."""

    path: Path
    bin_dir: str | None  # the PostgreSQL programs (--pg-bin), as for the first restore
    # The schemas its restore made besides public: dropped before it is restored again (their CREATE SCHEMA would
    # fail). The others a database had before are not the walk's to drop (a server of the user's, --url).
    schemas: tuple[str, ...]


def restored(dump: Path, url: URL, bin_dir: str | None = None) -> Dump:
    """Restore the dump into the database at url, and say what restoring it again needs."""
    before = schemas_of(url)
    restore_dump(dump, url, bin_dir)
    return Dump(dump, bin_dir, tuple(sorted(schemas_of(url) - before - {"public"})))


def schemas_of(url: URL) -> set[str]:
    with connected(url) as connection:
        return set(connection.execute(text(SCHEMAS_SQL)).scalars())


def restore_dump(dump: Path, url: URL, bin_dir: str | None = None) -> None:
    """pg_restore a custom-format dump, or run a plain SQL dump with psql; stop at the first error."""
    if not dump.is_file():
        raise UserError(f"no dump file at {dump}")
    with dump.open("rb") as file:
        custom_format = file.read(5) == b"PGDMP"
    tools = find_bin_dir(bin_dir)
    target = url.set(drivername="postgresql").render_as_string(hide_password=False)  # libpq wants plain postgresql://
    if custom_format:
        command = [
            str(tools / "pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "-d",
            target,
            str(dump),
        ]
    else:
        command = [str(tools / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", target, "-f", str(dump)]
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        lines = [line.strip() for line in finished.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()] or lines or [f"exit code {finished.returncode}"]
        raise UserError(f"restoring {dump} failed: {errors[0]}")
