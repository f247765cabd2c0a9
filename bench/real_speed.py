"""Time the walk on the real histories (bench/real_histories.py) against its floor, on one ephemeral server.

    python bench/real_speed.py [--only NAME ...] [--rows 10] [--runs 3] [--pytest-alembic] [--json out.json]

For each history, in its own venv and with this working tree on PYTHONPATH, --runs rounds of: the floor
(bench/floor.py: up, down and up again per revision with rows, no checks) on one database, then the CLI as a user
runs it (lint included) with --url on another database of the same server (so in one process: --url walks in one
part). Both are timed as whole processes (start-up, restoring the starting dump, loading the scripts: both pay
them), with every package byte-compiled as pip leaves it. Printed per history: the median and range over the
rounds of both times and of their ratio, the walk alone (the report's seconds), and where the walk's time went per
revision (RevisionResult.phase_seconds, see walk/phases.py).

With --pytest-alembic, also pytest-alembic's four default tests (bench/pytest_alembic_suite.py: single head,
upgrade, model definitions match ddl, up/down consistency), once per history (they write no rows: in the first
round only), in the history's venv, each on a fresh database of the same server. A history that starts from a dump
has it restored into each of those databases first (not timed), or pytest-alembic would climb from an empty one.
pytest-alembic stays out of the venvs' installed packages (see bench/run.py's docstring): installed once with
`uv pip install --no-deps --target` into ~/.cache/thirdai-real-histories/pytest-alembic, put on PYTHONPATH for its
runs only. Printed per history: its whole process, and per test its seconds and "passed", "failed" (the first line
of its failure) or "cannot run" (and why: its database could not be made ready, or the test needs what the project
does not give, as test_model_definitions_match_ddl a target_metadata; our env.py gives none).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_histories import walk  # noqa: E402
from real_histories_prepare import CACHE, REPO, by_name, prepare, run, starting_schema, venv_for  # noqa: E402

from thirdai_platform.migrate.server.ephemeral import start_server  # noqa: E402
from thirdai_platform.migrate.walk.phases import totals  # noqa: E402

FLOOR = Path(__file__).resolve().parent / "floor.py"
SUITE = Path(__file__).resolve().parent / "pytest_alembic_suite.py"
PYTEST_ALEMBIC = "pytest-alembic==0.13.1"  # the version bench/pytest_alembic_suite.py drives
PYTEST_ALEMBIC_DIR = CACHE / "pytest-alembic"
PYTEST_ALEMBIC_TESTS = 4  # its default tests, each on a database of its own
DEFAULT = ("ckan", "zou", "prefect-psycopg2", "mlflow-start", "dagster")


def run_floor(python: Path, ini: Path, url: str, rows: int, start: tuple[str, ...], timeout: float) -> dict:
    """The floor's own timings, and "wall": its whole process, timed as the CLI's is."""
    command = [str(python), str(FLOOR), "--config", str(ini), "--url", url, "--rows", str(rows), *start]
    return run_json(command, ini.parent, str(REPO), timeout)


def run_json(command: list[str], cwd: Path, pythonpath: str, timeout: float) -> dict:
    """A bench script run in a history's venv: the JSON it printed last, and "wall": its whole process (start-up,
    restoring a dump, loading the scripts: what any tool pays before its first leg); or its "error"."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": pythonpath},
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall": round(time.monotonic() - started, 1)}


def pytest_alembic_dir(python: Path) -> Path:
    """pytest-alembic alone (the venv has alembic, SQLAlchemy and pytest) in a folder filled once, so that it stays
    out of the venvs' installed packages (see bench/run.py's docstring): on PYTHONPATH for its own runs only."""
    if not any(PYTEST_ALEMBIC_DIR.glob("pytest_alembic-*.dist-info")):
        install = ["uv", "pip", "install", "--python", str(python), "--no-deps", "--target", str(PYTEST_ALEMBIC_DIR)]
        run([*install, PYTEST_ALEMBIC])
    return PYTEST_ALEMBIC_DIR


def run_pytest_alembic(python: Path, ini: Path, server, start: tuple[str, ...], timeout: float) -> dict:
    """pytest-alembic's default tests (bench/pytest_alembic_suite.py) in the history's venv, each on a fresh
    database of the server (the starting dump restored into it first): per test its seconds and result."""
    urls = [server.create_database().render_as_string(hide_password=False) for _ in range(PYTEST_ALEMBIC_TESTS)]
    command = [str(python), str(SUITE), "--config", str(ini), *start, *urls]
    outcome = run_json(command, ini.parent, f"{pytest_alembic_dir(python)}{os.pathsep}{REPO}", timeout)
    return {**outcome, "from_dump": bool(start)}


def time_history(name: str, out: Path, server, rows: int, timeout: float, pytest_alembic: bool = False) -> dict:
    """One round on one history: the floor, then the CLI, each on a database of its own; then, if asked,
    pytest-alembic's default tests (on databases of their own too)."""
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
    return {
        "history": name,
        "revisions": len(revisions),
        "floor": floor,
        "cli": cli,
        "walk_seconds": report["seconds"],
        "unscoped": unscoped,
        "phases": totals([r.get("phase_seconds", {}) for r in revisions]),
        "pytest_alembic": run_pytest_alembic(python, ini, server, start, timeout) if pytest_alembic else None,
    }


def spread(values: list[float]) -> str:
    """The median, and the lowest and highest of the rounds: "1.62 (1.55-1.71)"."""
    if not values:
        return "-"
    low, high = min(values), max(values)
    return f"{statistics.median(values):.2f}" + (f" ({low:.2f}-{high:.2f})" if len(values) > 1 else "")


def print_rounds(rounds: list[dict]) -> None:
    """One line per history over its rounds: the floor's and the CLI's whole process, their ratio, the walk alone."""
    first, n = rounds[0], max(rounds[0]["revisions"], 1)
    timed = [r for r in rounds if r["floor"].get("wall") and r["cli"]["exit"] != "timeout"]
    floors, clis = [r["floor"]["wall"] for r in timed], [r["cli"]["seconds"] for r in timed]
    print(
        f"{first['history']:<18} {first['revisions']:>4}  floor {spread(floors)} s  CLI {spread(clis)} s  "
        f"CLI/floor {spread([c / f for c, f in zip(clis, floors)])}  "
        f"walk {spread([r['walk_seconds'] for r in timed])} s  legs of the floor "
        f"{spread([r['floor'].get('migrations', 0) for r in timed])} s  unscoped {first['unscoped']}  "
        f"exit {first['cli']['exit']}",
        flush=True,
    )
    for r in rounds:
        if r["floor"].get("error"):
            print(f"      floor: {r['floor']['error']}")
    phases = totals([r["phases"] for r in rounds])
    print(
        "      ms/revision: " + "  ".join(f"{k} {1000 * v / n / len(rounds):.1f}" for k, v in phases.items()),
        flush=True,
    )


def print_pytest_alembic(result: dict) -> None:
    """pytest-alembic's default tests on one history: its whole process, then per test its seconds and result (a
    failure's first line; why a test could not run)."""
    if "error" in result:
        print(f"      pytest-alembic: did not run: {result['error']}", flush=True)
        return
    dumped = result["from_dump"]
    restored = ", the starting dump restored into each test's database first" if dumped else ""
    print(f"      pytest-alembic: {result['wall']:.1f} s whole process{restored}")
    for name, test in result["tests"].items():
        seconds = "-" if test["seconds"] is None else f"{test['seconds']:.2f} s"
        lines = test["message"].strip().splitlines()
        print(f"        {name:<34} {seconds:>9}  {test['result']}" + (f": {lines[0]}" if lines else ""))
    if dumped and all(test["result"] == "cannot run" for test in result["tests"].values()):
        print("        (a history that starts from its dump: pytest-alembic cannot run it from that dump here)")
    sys.stdout.flush()


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--only", nargs="+", default=list(DEFAULT))
    arguments.add_argument("--rows", type=int, default=10)
    arguments.add_argument("--runs", type=int, default=3, help="rounds per history (default: %(default)s)")
    arguments.add_argument("--timeout", type=float, default=1800)
    arguments.add_argument(
        "--out",
        type=Path,
        default=REPO / "reports" / "real-speed",
        help="where the projects and their reports go (default: %(default)s)",
    )
    arguments.add_argument("--json", type=Path)
    arguments.add_argument(
        "--pytest-alembic",
        action="store_true",
        help="also run pytest-alembic's default tests, once per history (in the first round)",
    )
    args = arguments.parse_args()
    # Our own code compiled once too (the histories' venvs are, in venv_for): PYTHONPATH points at this tree.
    compileall.compile_dir(REPO / "thirdai_platform", quiet=2, workers=0)
    rounds = {}
    args.out.mkdir(parents=True, exist_ok=True)
    with start_server() as server:
        for name in args.only:
            rounds[name] = [
                time_history(name, args.out.resolve(), server, args.rows, args.timeout, args.pytest_alembic and i == 0)
                for i in range(args.runs)
            ]
            print_rounds(rounds[name])
            if args.pytest_alembic:
                print_pytest_alembic(rounds[name][0]["pytest_alembic"])
    if args.json:
        args.json.write_text(json.dumps(rounds, indent=2))


if __name__ == "__main__":
    main()
