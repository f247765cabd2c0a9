"""Time the migration walk against its floor and against pytest-alembic on generated histories.

    python bench/run.py                                        # quick: 50 revisions, 10 rows
    python bench/run.py --revisions 50 200 400 --rows 10 10000 # the full table (long: run it with nohup)

On one ephemeral server, for each history size N and rows per table:
  floor  the same upgrade / downgrade / upgrade of each revision, with the same generated rows, and no checks
  walk   as `python -m thirdai_platform.migrate` walks (lint excluded): in parts on as many databases as it uses
         CPUs (--jobs to choose), snapshots, data copies and checks, drift at head
  pa     pytest-alembic's four default tests (they insert no rows, so they run once per N)

pytest-alembic is kept out of the project's venv (its pytest plugin breaks collection on pytest 9):
    pip install --no-deps --target /tmp/pytest-alembic pytest-alembic
    PYTHONPATH=/tmp/pytest-alembic python bench/run.py ...     (or --skip pa)
See docs/performance.md for the method and the results.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor import floor  # noqa: E402
from generate import generate  # noqa: E402

from thirdai_platform.migrate.server.ephemeral import start_server  # noqa: E402
from thirdai_platform.migrate.session import load_session  # noqa: E402
from thirdai_platform.migrate.static_checks import revisions_in_range  # noqa: E402
from thirdai_platform.migrate.walk.parallel import ParallelWalk, parts_for  # noqa: E402
from thirdai_platform.migrate.walk.phases import totals  # noqa: E402
from thirdai_platform.migrate.walk.walker import WalkOptions  # noqa: E402


def full_walk(
    ini: Path, new_database: Callable[[], URL], rows: int, jobs: int | None, probe: bool = True
) -> dict[str, float]:
    """As `python -m thirdai_platform.migrate` walks: split into parts on as many databases as it uses CPUs."""
    session = load_session(ini)
    order = revisions_in_range(session)
    parts = parts_for(len(order), jobs)
    started = time.perf_counter()
    report = ParallelWalk(
        session, [new_database() for _ in range(parts)], WalkOptions(rows=rows, seed=0, probe=probe), order
    ).collect()
    failures = sum(f.severity == "failure" for r in report.revisions for f in r.findings) + len(report.findings)
    return {
        "total": time.perf_counter() - started,
        "failures": failures,
        "parts": parts,
        "phases": totals([r.phase_seconds for r in report.revisions]),
    }


def phase_line(phases: dict[str, float], revisions: int) -> str:
    """Where the walk's time went, in ms per revision (summed over its parts: CPU time, not wall time)."""
    return "      ms/revision: " + "  ".join(
        f"{name} {1000 * seconds / revisions:.1f}" for name, seconds in phases.items()
    )


def server_ready_seconds() -> float:
    """Start-to-ready of the ephemeral server with its data directory already cached (a first start fills the cache)."""
    with start_server():
        pass
    started = time.perf_counter()
    with start_server() as server:
        ready = time.perf_counter() - started
        server.create_database()
    return ready


def ratio(numerator: float | None, denominator: float | None) -> str:
    return f"{numerator / denominator:.2f}" if numerator and denominator else "-"


def main() -> None:
    arguments = argparse.ArgumentParser(description="Time the walk against its floor and pytest-alembic.")
    arguments.add_argument("--revisions", type=int, nargs="+", default=[50])
    arguments.add_argument("--rows", type=int, nargs="+", default=[10])
    arguments.add_argument("--skip", nargs="*", default=[], choices=["floor", "walk", "pa"], help="parts not to time")
    arguments.add_argument("--jobs", type=int, help="processes of the walk (default: as the CLI chooses, one per CPU)")
    arguments.add_argument("--json", type=Path, help="also write the results here")
    arguments.add_argument("--no-probe", action="store_true", help="walk without the deploy probe (to time its cost)")
    args = arguments.parse_args()

    results = {"server_ready_seconds": server_ready_seconds(), "runs": []}
    print(f"ephemeral server ready (cached data directory): {results['server_ready_seconds']:.2f} s", flush=True)
    header = f"{'N':>5} {'rows':>6} {'floor s':>9} {'(migr.)':>8} {'walk s':>9} {'parts':>5} {'pa s':>8} {'b/a':>6} {'c/b':>6} {'walk ms/rev':>11} {'fail':>5}"
    print(header, flush=True)
    with start_server() as server, tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        for revisions in args.revisions:
            ini = generate(revisions, Path(scratch) / f"history_{revisions}")
            pa = None
            if "pa" not in args.skip:
                from pytest_alembic_suite import run_default_tests  # a benchmark-only dependency, see the docstring

                pa = sum(run_default_tests(str(ini), server.create_database).values())
            for rows in args.rows:
                a = floor(ini, server.create_database(), rows) if "floor" not in args.skip else {}
                b = (
                    full_walk(ini, server.create_database, rows, args.jobs, not args.no_probe)
                    if "walk" not in args.skip
                    else {}
                )
                run = {"revisions": revisions, "rows": rows, "floor": a, "walk": b, "pytest_alembic": pa}
                results["runs"].append(run)
                walk_ms = 1000 * b["total"] / revisions if b else None
                print(
                    f"{revisions:>5} {rows:>6} {a.get('total', 0):>9.2f} {a.get('migrations', 0):>8.2f} "
                    f"{b.get('total', 0):>9.2f} {b.get('parts', '-'):>5} {pa or 0:>8.2f} {ratio(b.get('total'), a.get('total')):>6} "
                    f"{ratio(pa, b.get('total')):>6} {walk_ms or 0:>11.1f} {b.get('failures', '-'):>5}",
                    flush=True,
                )
                if b:
                    print(phase_line(b["phases"], revisions), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
