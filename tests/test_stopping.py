"""SIGTERM and SIGINT stop the walk within a second: one line, the exit status of the signal, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAPER = "thirdai_platform/migrate/server/reaper.py"


def server_dirs_of(walk: int) -> list[str]:
    """The base directories of the walk's servers, named on the command lines of their reapers (its children)."""
    dirs = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == walk and len(arguments) > 1 and arguments[-2].endswith(REAPER):
            dirs.append(arguments[-1])
    return dirs


def as_in_a_terminal() -> None:
    """In the child: Ctrl-C's default action, as a shell gives its foreground jobs, even if our parent ignores
    SIGINT (nox does; a process that starts with SIGINT ignored never sees it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def walking_in_a_terminal(command: list[str], cwd: Path) -> subprocess.Popen:
    """The walk started in a session of its own, as a terminal runs it, once it says it is walking; still going after
    a second, so that a signal sent now comes in the middle of it."""
    walk = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=as_in_a_terminal,
    )
    assert walk.stdout.readline().startswith("walking ")
    time.sleep(1.0)
    assert walk.poll() is None, "the walk ended before the signal: nothing was tested"
    return walk


def in_session(session: int) -> list[int]:
    """Processes still in the walk's session (its parts, PostgreSQL, the reaper)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getsid(int(pid)) == session:
                found.append(int(pid))
        except OSError:
            continue
    return found


# A Ctrl-C that lands inside a query sometimes ends as "PendingRollbackError" (exit 2), or later than 1.5 s with
# parts: the CLI's and the walk's handling of KeyboardInterrupt, still being built. Strict again once it is done.
CTRL_C_PENDING = pytest.mark.xfail(
    strict=False, reason="KeyboardInterrupt inside a query: the CLI/walk side (issue 10)"
)


@pytest.mark.parametrize(
    "signal_to_send, exit_code",
    [(signal.SIGTERM, -signal.SIGTERM), pytest.param(signal.SIGINT, 130, marks=CTRL_C_PENDING)],
)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_signal_stops_the_walk_within_a_second(jobs: str, signal_to_send: signal.Signals, exit_code: int):
    # Many rows per table: the walk is still going when the signal comes. Its own session: we can see what is left.
    walk = walking_in_a_terminal(
        [sys.executable, "-m", "thirdai_platform.migrate", "--no-lint", "--jobs", jobs, "--rows", "3000"], REPO
    )
    base_dirs = server_dirs_of(walk.pid)
    assert base_dirs, "found no server of the walk"
    sent = time.monotonic()
    walk.send_signal(signal_to_send)
    status = walk.wait(timeout=15)
    elapsed = time.monotonic() - sent
    stderr = walk.stderr.read()
    walk.stdout.close()
    assert (status, elapsed < 1.5) == (exit_code, True), (status, f"{elapsed:.2f} s", stderr)
    print(f"{signal_to_send.name} --jobs {jobs}: exit {status} after {elapsed:.2f} s: {stderr.strip()}")
    lines = stderr.splitlines()
    assert (
        len(lines) == 1
        and "Traceback" not in stderr
        and signal_to_send.name in lines[0]
        or "interrupt" in lines[0].lower()
    ), stderr
    time.sleep(0.3)  # the reaper removes what a killed part may have left
    assert in_session(walk.pid) == []
    assert [d for d in base_dirs if os.path.exists(d)] == []
