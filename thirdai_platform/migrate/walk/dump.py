"""Load a user's pg_dump into the walk's database, so every revision is timed and checked on production-size data."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.server.ephemeral import find_bin_dir


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
