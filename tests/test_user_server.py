"""--url SERVER --jobs N: the parts walk on databases created on a server of the user's, dropped however it ends.

"The user's server" is one more ephemeral server started here, apart from the session's: what is left on it after a
walk is only what that walk left.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from alembic import command as alembic_command
from test_stopping import walking_in_a_terminal
from test_walk import REPO_ROOT

from thirdai_platform.migrate import cli
from thirdai_platform.migrate.findings import FAILURE
from thirdai_platform.migrate.server.ephemeral import EphemeralPostgres, start_server
from thirdai_platform.migrate.server.pg_binaries import find_bin_dir
from thirdai_platform.migrate.session import load_config
from thirdai_platform.migrate.walk import parallel
from thirdai_platform.migrate.walk.deploy.verdict import DEPLOY

WALK_DATABASES = "SELECT datname FROM pg_database WHERE datname LIKE 'thirdai_walk_%'"


@pytest.fixture(scope="module")
def users_server() -> Iterator[EphemeralPostgres]:
    with start_server() as server:
        yield server


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bench/generate.py's history of 50 revisions: long enough that both parts walk some."""
    directory = tmp_path_factory.mktemp("history50")
    subprocess.run(
        [sys.executable, "bench/generate.py", "50", str(directory)], cwd=REPO_ROOT, check=True, capture_output=True
    )
    return directory / "alembic.ini"


def plain(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def walk_databases(server: EphemeralPostgres) -> set[str]:
    with psycopg2.connect(plain(server.url())) as connection, connection.cursor() as cursor:
        cursor.execute(WALK_DATABASES)
        names = {name for (name,) in cursor.fetchall()}
    connection.close()
    return names


def walk_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "thirdai_platform.migrate", "--no-lint", *arguments]


def watched(arguments: list[str], server: EphemeralPostgres) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run the walk, noting the walk's databases on the server while it runs."""
    walk = subprocess.Popen(arguments, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[str] = set()
    while walk.poll() is None:
        seen |= walk_databases(server)
        time.sleep(0.1)
    stdout, stderr = walk.communicate()
    return subprocess.CompletedProcess(arguments, walk.returncode, stdout, stderr), seen


def results(report: Path) -> list[tuple]:
    """Each revision's legs and findings: what the walk found, without its timings (nor the waits it measured, which
    the machine's load decides)."""
    data = json.loads(report.read_text())
    return [
        (r["revision"], r["legs"], sorted(json.dumps(f, sort_keys=True) for f in r["findings"] if f["check"] != DEPLOY))
        for r in data["revisions"]
    ] + [sorted(json.dumps(f, sort_keys=True) for f in data["findings"])]


def failures(report: Path) -> list[tuple]:
    """Each revision's legs and failures: the data a later part starts with is generated at its start, so the
    notes about it may differ."""
    data = json.loads(report.read_text())
    return [
        (r["revision"], r["legs"], sorted(f["message"] for f in r["findings"] if f["severity"] == FAILURE))
        for r in data["revisions"]
    ] + [sorted(f["message"] for f in data["findings"] if f["severity"] == FAILURE)]


def test_parts_on_the_users_server_find_what_our_server_finds_and_are_dropped(users_server, history, tmp_path):
    finished, seen = watched(
        walk_command(
            "--config",
            str(history),
            "--url",
            plain(users_server.url()),
            "--jobs",
            "2",
            "--json",
            str(tmp_path / "theirs.json"),
        ),
        users_server,
    )
    ours = subprocess.run(
        walk_command("--config", str(history), "--jobs", "2", "--json", str(tmp_path / "ours.json")),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert (finished.returncode, ours.returncode) == (0, 0), finished.stderr + ours.stderr
    assert len(seen) == 2 and all(name.startswith("thirdai_walk_") for name in seen), seen
    assert results(tmp_path / "theirs.json") == results(tmp_path / "ours.json")
    assert walk_databases(users_server) == set()
    assert users_server.password not in finished.stdout + finished.stderr


def test_a_role_without_createdb_is_refused_in_one_line_before_anything_is_made(users_server, history):
    users_server._execute(
        psycopg2.sql.SQL("DROP ROLE IF EXISTS walker"),
        psycopg2.sql.SQL("CREATE ROLE walker LOGIN NOCREATEDB PASSWORD 'walker-pw'"),
    )
    url = users_server.url().set(username="walker", password="walker-pw")

    finished, seen = watched(walk_command("--config", str(history), "--url", plain(url), "--jobs", "2"), users_server)

    assert finished.returncode == 2 and finished.stderr.count("\n") == 1, finished.stderr
    assert "'walker' lacks CREATEDB" in finished.stderr and "walker-pw" not in finished.stderr
    assert seen == set()


@pytest.mark.parametrize("signal_to_send, exit_code", [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)])
def test_a_signal_mid_walk_leaves_no_database_behind(users_server, history, signal_to_send, exit_code):
    walk = walking_in_a_terminal(
        walk_command("--config", str(history), "--url", plain(users_server.url()), "--jobs", "2", "--rows", "3000"),
        REPO_ROOT,
    )
    assert len(walk_databases(users_server)) == 2

    walk.send_signal(signal_to_send)
    status = walk.wait(timeout=30)
    stderr = walk.stderr.read()
    walk.stdout.close()

    assert status == exit_code and "Traceback" not in stderr, stderr
    assert walk_databases(users_server) == set()


def test_a_part_that_dies_leaves_no_database_behind(users_server, history, monkeypatch, capsys):
    monkeypatch.setattr(parallel, "_walk_part", lambda *_: parallel.os._exit(9))  # as if the OOM killer took it

    status = cli.main(["--no-lint", "--config", str(history), "--url", plain(users_server.url()), "--jobs", "2"])

    assert status == 2 and "ended without a word" in capsys.readouterr().err
    assert walk_databases(users_server) == set()


def test_from_a_dump_each_part_walks_a_copy_of_it(users_server, history, tmp_path):
    """The dump stands at r0010, with a table the models do not have: the parts walk r0011 to r0050 as the walk in
    one part does, on copies of it (the drift check at head, in the last part, finds that table)."""
    dump = tmp_path / "at_r0010.dump"
    at_r0010 = users_server.create_database("at_r0010")
    config = load_config(history)
    config.set_main_option("sqlalchemy.url", at_r0010.render_as_string(hide_password=False))
    alembic_command.upgrade(config, "r0010")
    with psycopg2.connect(plain(at_r0010)) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE only_in_the_dump (id int)")  # the drift check at head sees it, on a copy only
    connection.close()
    subprocess.run([str(find_bin_dir() / "pg_dump"), "-Fc", "-f", str(dump), plain(at_r0010)], check=True)
    users_server.drop_database("at_r0010")

    finished, seen = watched(
        walk_command(
            "--config",
            str(history),
            "--from-dump",
            str(dump),
            "--url",
            plain(users_server.url()),
            "--jobs",
            "2",
            "--json",
            str(tmp_path / "parts.json"),
        ),
        users_server,
    )
    single = subprocess.run(
        walk_command("--config", str(history), "--from-dump", str(dump), "--json", str(tmp_path / "single.json")),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )

    assert (finished.returncode, single.returncode) == (1, 1), finished.stderr + single.stderr
    walked = [r["revision"] for r in json.loads((tmp_path / "parts.json").read_text())["revisions"]]
    assert walked == [f"r{n:04d}" for n in range(11, 51)] and len(seen) == 2
    assert failures(tmp_path / "parts.json") == failures(tmp_path / "single.json")
    assert "only_in_the_dump" in failures(tmp_path / "parts.json")[-1][0]  # the last part walked a copy of the dump
    assert walk_databases(users_server) == set()
