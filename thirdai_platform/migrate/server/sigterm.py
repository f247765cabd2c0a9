"""SIGTERM while ephemeral servers run (or the walk's databases on a server of the user's exist): stop them (and the
walk's parts), say so in one line, then end the process by the signal as if we had not been here (143 in a shell), or
hand it to the handler that was there before us.

What is watched has `_owner_pid`, `stop()` (a no-op in a forked child) and `gone_when_stopped` (for that line)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from typing import Protocol


class Watched(Protocol):
    """An ephemeral server, or the walk's databases on a user's server."""

    _owner_pid: int
    gone_when_stopped: str

    def stop(self) -> None: ...


_running: list[Watched] = []
_handler_before_us = signal.SIG_DFL


def watch_sigterm(server: Watched) -> None:
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


def unwatch_sigterm(server: Watched) -> None:
    if server in _running:
        _running.remove(server)
        if not _running and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _handler_before_us)


def _stop_servers_then_resend(signum: int, frame) -> None:
    ours = [server for server in _running if server._owner_pid == os.getpid()]  # not a forked child's copies
    # The process is ending: what the connection pool logs as the stop breaks its connections (a traceback of
    # "Exception during reset") is not news for the user, who gets the one line below.
    logging.disable(logging.CRITICAL)
    if ours:
        # The walk's parts first: a part still running when its database is dropped would print the pool's
        # traceback as it tries to connect again, and its logging is not ours to turn off.
        _end_children()
    try:
        for server in [*reversed(_running)]:
            server.stop()  # the last one restores the previous handler
    finally:
        signal.signal(signum, _handler_before_us)
        if callable(_handler_before_us):
            _handler_before_us(signum, frame)
        else:
            if ours:
                gone = "; ".join(dict.fromkeys(s.gone_when_stopped for s in ours))
                os.write(2, stopped_line(signum, gone).encode())  # not print(): the handler may have interrupted one
            os.kill(os.getpid(), signum)  # the default action: end the process as if we had not been here


def _end_children() -> None:
    for child in multiprocessing.active_children():  # the walk's parts
        child.kill()
    for child in multiprocessing.active_children():
        child.join(timeout=5)


EPHEMERAL_GONE = "the ephemeral PostgreSQL server and its data are gone"


def stopped_line(signum: int, gone: str = EPHEMERAL_GONE) -> str:
    return f"stopped by {signal.Signals(signum).name}; {gone}\n"
