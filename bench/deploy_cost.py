"""What deploy safety costs a walk at --rows 5, in one process: the walk with the probe and the lock observer,
without the probe, and without both (the observer replaced by a no-op for this measurement only), alternating.

    python bench/deploy_cost.py alembic.ini 6           # our history, 6 rounds
    python bench/deploy_cost.py /tmp/h50/alembic.ini 6  # a generated one (bench/generate.py)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from thirdai_platform.database.connection import connected
from thirdai_platform.migrate.server.ephemeral import start_server
from thirdai_platform.migrate.session import load_session
from thirdai_platform.migrate.walk import revision_walk
from thirdai_platform.migrate.walk.runner import Runner
from thirdai_platform.migrate.walk.walker import WalkOptions, walk

WAYS = ("both on", "probe off", "both off")


class NoObserver:
    """The lock observer's interface, observing nothing."""

    def __init__(self, connection) -> None:
        self.seconds = 0.0

    def __enter__(self) -> NoObserver:
        return self

    def __exit__(self, *_) -> None:
        pass

    def summary(self) -> tuple[list, list]:
        return [], []


def timed_walk(ini: Path, url, way: str) -> float:
    revision_walk.LockObserver = NoObserver if way == "both off" else OBSERVER
    with connected(url) as connection:
        runner = Runner(load_session(ini, url=url).on(url, connection))
        started = time.perf_counter()
        walk(runner, WalkOptions(rows=5, check_drift=False, probe=way == "both on"))
        return time.perf_counter() - started


OBSERVER = revision_walk.LockObserver


def main(ini: Path, rounds: int) -> None:
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    with start_server(None) as server:
        for round_number in range(rounds):
            for way in WAYS:
                url = server.create_database(f"cost_{round_number}_{way.replace(' ', '_')}")
                times[way].append(timed_walk(ini, url, way))
    for way, values in times.items():
        print(f"{way}: median {statistics.median(values):.3f} s ({', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
