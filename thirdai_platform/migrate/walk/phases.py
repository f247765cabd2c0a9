"""Where a revision's time goes: seconds per phase of its walk, summed into RevisionResult.phase_seconds.

A phase is timed by two perf_counter calls (well under a microsecond each), so the timer is always on. The phases:
render (its SQL offline, or a trial of it, for the scope), seed (finding empty tables, generating rows), copy (and
dropping copies), snapshot, compare (the data and schema checks), rolling (the rolling-deploy replay), locks (the
lock observer's own work inside the legs), leg (the migration steps, less the observer's work).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Phases:
    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)


def totals(phase_seconds: list[dict[str, float]]) -> dict[str, float]:
    """Several revisions' phases added up, the largest first."""
    summed: dict[str, float] = {}
    for seconds in phase_seconds:
        for name, value in seconds.items():
            summed[name] = summed.get(name, 0.0) + value
    return dict(sorted(summed.items(), key=lambda item: -item[1]))
