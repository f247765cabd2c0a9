"""Cleans up after an EphemeralPostgres whose owner died without stopping it (even by SIGKILL).

The owner starts this file as a script in its own session, with stdin the read end of a pipe that only the owner
holds open. The kernel closes that pipe however the owner ends; this process then kills what is left of the server
and removes its directory. After a normal stop there is nothing left and it just exits.
Standard library only: the script runs with `python -I -S` to start fast.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time

IPC_RMID = 0
WAIT_SECONDS = 10.0


class Reaper:
    """The owner's side: a running reaper for base_dir, disarmed by release()."""

    def __init__(self, base_dir: str):
        read_end, self._write_end = os.pipe()  # not inheritable: PostgreSQL must not keep it open
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", __file__, base_dir],
                stdin=read_end,
                # Its own session keeps a Ctrl-C aimed at the owner away from it; no stdout so a caller reading
                # the owner's output to the end does not wait for it.
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        finally:
            os.close(read_end)

    def release(self) -> None:
        """Tell the reaper we are done (it then finds nothing left to clean) and wait for it to exit."""
        os.close(self._write_end)
        try:
            self._process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def processes_in(directory: str) -> list[int]:
    """PIDs of the processes whose working directory is inside `directory` (PostgreSQL's run in its data dir)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{name}/cwd")
        except OSError:  # gone meanwhile, or not ours to inspect
            continue
        if cwd == directory or cwd.startswith((directory + "/", directory + " (deleted)")):
            found.append(int(name))
    return found


def shared_memory_id(data_dir: str) -> int | None:
    """The System V segment named in postmaster.pid, which outlives a killed server; None after a clean shutdown."""
    try:
        with open(os.path.join(data_dir, "postmaster.pid")) as pid_file:
            lines = pid_file.read().splitlines()
        return int(lines[6].split()[1])  # line 7 is "<key> <shmid>"
    except (OSError, IndexError, ValueError):
        return None


def kill_server(data_dir: str) -> None:
    """SIGKILL every process of the server until none is left: nobody needs this data any more."""
    deadline = time.monotonic() + WAIT_SECONDS
    while (pids := processes_in(data_dir)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def main(base_dir: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdin.buffer.read()  # returns at EOF: the owner released us or died
    data_dir = os.path.join(base_dir, "data")
    kill_server(data_dir)
    shmid = shared_memory_id(data_dir)
    if shmid is not None:
        ctypes.CDLL(None).shmctl(shmid, IPC_RMID, None)
    shutil.rmtree(base_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
