"""A throwaway PostgreSQL server for tests and local development, built on testing.postgresql.

It listens on 127.0.0.1 (with a random password per server) and a unix socket in its own 0700 temp dir, runs without durability, starts from a cached
initialised data directory, runs as an unprivileged account when we are root, and leaves no process or directory
behind however its owner ends (a reaper process covers SIGKILL).

    inv db.server     # or python -m thirdai_platform.migrate.server.ephemeral: prints export DATABASE_URI=..., until Ctrl-C
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import ClassVar

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import URL
from testing.postgresql import Postgresql

from thirdai_platform.database.url import DRIVER
from thirdai_platform.errors import UserError
from thirdai_platform.migrate.server import databases
from thirdai_platform.migrate.server.pg_binaries import BIN_DIR_ENV, find_bin_dir, readable_copy  # noqa: F401 (API)
from thirdai_platform.migrate.server.reaper import Reaper
from thirdai_platform.migrate.server.sigterm import EPHEMERAL_GONE, stopped_line, unwatch_sigterm, watch_sigterm

SUPERUSER = "postgres"
MIN_FREE_SHM_BYTES = 1 << 30  # a Docker default /dev/shm (64 MB) is too small for a few test databases
# Part of the cache key: they shape the data directory. A 1 MB WAL segment keeps the directory small to copy.
INITDB_ARGS = f"-U {SUPERUSER} -A trust --encoding=UTF8 --locale=C --wal-segsize=1"
# Durability off: it is a throwaway. Dynamic shared memory as files in the data dir: a killed server leaves none behind.
SERVER_ARGS = (
    "-h 127.0.0.1 -c logging_collector=off -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    " -c dynamic_shared_memory_type=mmap -c unix_socket_permissions=0700"
)
# Only we get in: over TCP with this server's random password; through the unix socket, which sits in a 0700
# directory of the server's account, without one (how we set that password and create databases).
HBA = "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"


class EphemeralPostgres(Postgresql):
    """A running server (started by the constructor); use it as a context manager or call stop()."""

    gone_when_stopped = EPHEMERAL_GONE  # what the line after a SIGTERM says (sigterm.py)
    DEFAULT_SETTINGS: ClassVar[dict] = dict(
        Postgresql.DEFAULT_SETTINGS, bin_dir=None, initdb_args=INITDB_ARGS, postgres_args=SERVER_ARGS
    )

    def __init__(self, bin_dir: str | os.PathLike | None = None):
        self._reaper: Reaper | None = None
        self._admin, self._admin_lock = None, threading.Lock()
        self.password = secrets.token_urlsafe(24)  # URL-safe characters: the URL needs no encoding
        super().__init__(bin_dir=bin_dir, base_dir=tempfile.mkdtemp(prefix="thirdai-pg-", dir=_scratch_root()))

    # --- testing.postgresql hooks, in the order it calls them -------------------------------------------------------

    def initialize(self) -> None:
        self._use_tmpdir = True  # we made base_dir: the base class is to remove it like one of its own
        self._reaper = Reaper(self.base_dir)
        self._account = server_account()
        self._launcher = launcher(self._account)
        self.bin_dir = self._reachable(find_bin_dir(self.settings.pop("bin_dir")))
        self.initdb, self.postgres = str(self.bin_dir / "initdb"), str(self.bin_dir / "postgres")
        self.version = re.search(r"\(PostgreSQL\) (\S+)", self.version_line)[1]  # "postgres (PostgreSQL) 15.18 ..."
        watch_sigterm(self)

    def initialize_database(self) -> None:
        data_dir = self.get_data_directory()
        cached = self.cache_dir()
        if cached.is_dir():
            subprocess.run(["cp", "-a", f"{cached}/.", data_dir], check=True)  # twice as fast as shutil.copytree
        else:
            self._hand_over(self.base_dir)
            initdb_args = self.settings["initdb_args"].split()
            self._run([self.initdb, "-D", data_dir, "--no-sync", "--no-instructions", *initdb_args])
            _save_to_cache(data_dir, cached)
        Path(data_dir, "pg_hba.conf").write_text(HBA)
        self._hand_over(self.base_dir)

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
        """The base class creates a 'test' database here; we hand out databases with create_database() instead,
        and set this server's password (the cached data directory is the same for every server)."""
        self._execute(
            sql.SQL("SET password_encryption = 'scram-sha-256'"),
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(SUPERUSER), sql.Literal(self.password)),
        )

    def terminate(self, _signal: int | None = None) -> None:
        """Immediate shutdown whatever signal the base class's stop() passes (its SIGTERM is a smart shutdown, which
        waits up to 10 s for every client to leave), waited for as it happens: the data directory is thrown away,
        so nothing needs a checkpoint, nor the base class's 0.1 s polling."""
        if self.child_process is None or self._owner_pid != os.getpid():
            return  # not started, or a forked child's copy of the server: its owner stops it
        if self._admin is not None:
            self._admin.close()
        self.child_process.send_signal(signal.SIGQUIT)
        try:
            self.child_process.wait(timeout=self.DEFAULT_KILL_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.child_process.kill()
            self.child_process.wait()
        self.child_process = None

    def cleanup(self) -> None:
        super().cleanup()
        if self.child_process is None:  # the base class keeps everything while the server runs
            unwatch_sigterm(self)
            if self._reaper:
                self._reaper.release()
                self._reaper = None

    # --- public API -----------------------------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> URL:
        return URL.create(
            DRIVER,
            username=SUPERUSER,
            password=self.password,
            host="127.0.0.1",
            port=self.settings["port"],
            database=database,
        )

    def create_database(self, name: str | None = None, template: str = "template0") -> URL:
        """A new database (empty: a copy of template0; or a copy of another one of ours) and its URL."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        self._execute(databases.create_database(name, self.major_version, template))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever still uses it."""
        self._execute(*databases.drop_database(name, self.major_version))

    @property
    def major_version(self) -> int:
        return int(re.match(r"\d+", self.version)[0])

    def cache_dir(self) -> Path:
        """Where the initialised data directory for this PostgreSQL build and these initdb args is kept."""
        key = "\n".join([self.version_line, os.path.realpath(self.postgres), self.settings["initdb_args"]])
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return root / "thirdai_platform" / "pgdata" / f"{self.version}-{digest}"

    # --- helpers --------------------------------------------------------------------------------------------------

    def _reachable(self, bin_dir: Path) -> Path:
        """bin_dir, or a readable copy of its installation when the server's account cannot run it from there."""
        if not self._account or can_reach(self._account, bin_dir / "postgres"):
            self.version_line = self._run([str(bin_dir / "postgres"), "--version"]).strip()
            return bin_dir
        version_line = subprocess.run([bin_dir / "postgres", "--version"], capture_output=True, text=True).stdout
        try:
            copied = readable_copy(bin_dir, version_line.strip())
        except OSError as error:
            raise UserError(
                f"user {self._account.pw_name!r} cannot run PostgreSQL from {bin_dir}, and copying it "
                f"to a readable place failed: {error}"
            ) from None
        self.version_line = self._run([str(copied / "postgres"), "--version"]).strip()
        return copied

    def _run(self, command: list[str]) -> str:
        """Run a PostgreSQL program the way the server runs (same account); a failure is the user's to fix."""
        # From /: the account may not be allowed into our working directory (a repo under /root).
        result = subprocess.run([*self._launcher, *command], capture_output=True, text=True, check=False, cwd="/")
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

    def _execute(self, *statements: sql.Composable) -> None:
        """Run statements as the superuser through the unix socket (no password needed there), on one connection
        kept for the server's life: a new one each time cost 10-40 ms (setting the password, each database made)."""
        with self._admin_lock:
            forked = os.getpid() != self._owner_pid  # a forked child must not touch the parent's connection
            connection = self._connect_admin() if forked or self._admin is None or self._admin.closed else self._admin
            try:
                with connection.cursor() as cursor:
                    for statement in statements:
                        cursor.execute(statement)
            finally:
                if forked:
                    connection.close()
                else:
                    self._admin = connection

    def _connect_admin(self):
        socket_dir = os.path.join(self.base_dir, "tmp")
        connection = psycopg2.connect(host=socket_dir, port=self.settings["port"], user=SUPERUSER, dbname="postgres")
        connection.autocommit = True  # CREATE/DROP DATABASE refuse to run in a transaction
        return connection


def start_server(bin_dir: str | os.PathLike | None = None) -> EphemeralPostgres:
    return EphemeralPostgres(bin_dir)


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


def can_reach(account: pwd.struct_passwd, program: Path) -> bool:
    """Whether `account` may run `program`: each directory on its path searchable, the file readable (no ACLs).
    As root we cannot just try it: an exec by setpriv still has root's rights to find the file."""
    groups = set(os.getgrouplist(account.pw_name, account.pw_gid))
    path = Path(os.path.realpath(program))
    for entry, needed in [*((parent, 0o1) for parent in path.parents), (path, 0o5)]:
        stats = entry.stat()
        shift = 6 if stats.st_uid == account.pw_uid else 3 if stats.st_gid in groups else 0
        if (stats.st_mode >> shift) & needed != needed:
            return False
    return True


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


def serve(announce=print) -> int:
    """Run a server until SIGINT (exit code 130) or SIGTERM (the process ends by it: 143 in a shell)."""
    try:
        with start_server() as server:
            url = server.url().set(drivername="postgresql")  # the form psql and other tools understand too
            announce(f"export DATABASE_URI={url.render_as_string(hide_password=False)}")
            print(
                f"PostgreSQL {server.version} ({server.bin_dir}) in {server.base_dir}; Ctrl-C stops it",
                file=sys.stderr,
                flush=True,
            )
            while True:
                signal.pause()
    except KeyboardInterrupt:
        sys.stderr.write(stopped_line(signal.SIGINT))
        return 128 + signal.SIGINT
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def main() -> None:
    sys.exit(serve(lambda line: print(line, flush=True)))


if __name__ == "__main__":
    main()
