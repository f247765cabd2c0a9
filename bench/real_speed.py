"""Time the walk on the real histories (bench/real_histories.py) against its floor, on one ephemeral server.

    python bench/real_speed.py [--only NAME ...] [--rows 10] [--json out.json]

For each history, in its own venv and with this working tree on PYTHONPATH: the floor (bench/floor.py: up, down
and up again per revision with rows, no checks) on one database, then the CLI as a user runs it (lint included)
with --url on another database of the same server (so in one process: --url walks in one part). Printed: both
times, their ratio, and where the walk's time went per revision (RevisionResult.phase_seconds, see phases.py);
"lint+start" is the CLI's wall time less its walk: start-up, lint and review, reports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_histories import walk  # noqa: E402
from real_histories_prepare import REPO, by_name, prepare, starting_schema, venv_for  # noqa: E402

from thirdai_platform.migrate.server.ephemeral import start_server  # noqa: E402
from thirdai_platform.migrate.walk.phases import totals  # noqa: E402

FLOOR = Path(__file__).resolve().parent / "floor.py"
DEFAULT = ("ckan", "zou", "prefect-psycopg2", "mlflow-start", "dagster")


def run_floor(python: Path, ini: Path, url: str, rows: int, start: tuple[str, ...], timeout: float) -> dict:
    done = subprocess.run(
        [str(python), str(FLOOR), "--config", str(ini), "--url", url, "--rows", str(rows), *start],
        cwd=ini.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_history(name: str, out: Path, server, rows: int, timeout: float) -> dict:
    history = next(h for h in by_name(name))
    ini = prepare(history, out)
    python = venv_for(history)
    start = starting_schema(history, python, ini.parent)
    url = lambda: server.create_database().render_as_string(hide_password=False)  # noqa: E731
    floor = run_floor(python, ini, url(), rows, start, timeout)
    cli = walk(ini, python, REPO, timeout, (*start, "--url", url(), "--rows", str(rows)), "-speed")
    report_file = ini.parent / "report-speed.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {"revisions": [], "seconds": 0}
    revisions = report["revisions"]
    unscoped = sum(any(f["check"] == "scope" for f in r["findings"]) for r in revisions)
    failures = sum(
        f["severity"] == "failure"
        for r in revisions
        for f in r["findings"]
        if f["check"] in ("upgrade", "downgrade", "upgrade again")
    )
    return {
        "history": name,
        "revisions": len(revisions),
        "floor": floor,
        "cli": cli,
        "walk_seconds": report["seconds"],
        "unscoped": unscoped,
        "leg_failures": failures,
        "phases": totals([r.get("phase_seconds", {}) for r in revisions]),
    }


def print_row(row: dict) -> None:
    floor, n = row["floor"].get("total"), max(row["revisions"], 1)
    walk_s, cli_s = row["walk_seconds"], row["cli"]["seconds"]
    ratio = f"{cli_s / floor:.2f}" if floor else "-"
    print(
        f"{row['history']:<18} {row['revisions']:>4} {floor or 0:>8.2f} {row['floor'].get('migrations', 0):>8.2f} "
        f"{cli_s:>8.1f} {walk_s:>8.2f} {cli_s - walk_s:>10.1f} {ratio:>6} {1000 * walk_s / n:>8.0f} "
        f"{row['unscoped']:>8} {row['cli']['exit']!s:>5}",
        flush=True,
    )
    if row["floor"].get("error"):
        print(f"      floor: {row['floor']['error']}")
    print("      ms/revision: " + "  ".join(f"{k} {1000 * v / n:.1f}" for k, v in row["phases"].items()), flush=True)


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--only", nargs="+", default=list(DEFAULT))
    arguments.add_argument("--rows", type=int, default=10)
    arguments.add_argument("--timeout", type=float, default=1800)
    arguments.add_argument(
        "--out",
        type=Path,
        default=REPO / "reports" / "real-speed",
        help="where the projects and their reports go (default: %(default)s)",
    )
    arguments.add_argument("--json", type=Path)
    args = arguments.parse_args()
    print(
        f"{'history':<18} {'revs':>4} {'floor s':>8} {'(migr.)':>8} {'CLI s':>8} {'walk s':>8} {'lint+start':>10} "
        f"{'CLI/a':>6} {'ms/rev':>8} {'unscoped':>8} {'exit':>5}",
        flush=True,
    )
    rows = []
    args.out.mkdir(parents=True, exist_ok=True)
    with start_server() as server:
        for name in args.only:
            rows.append(time_history(name, args.out.resolve(), server, args.rows, args.timeout))
            print_row(rows[-1])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
