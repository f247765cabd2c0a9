"""The floor of the walk: each revision's upgrade, downgrade and upgrade again on one connection, with rows in
every table that is empty (filled the way the walk fills them), and no copies, snapshots or checks.

    python bench/floor.py --config alembic.ini --url URL --rows 10 [--from-dump FILE]   # prints JSON

bench/run.py imports it for generated histories; bench/real_speed.py runs it in a real history's own venv. A leg
that fails is counted and, as the walk does, the database starts again (empty, or the dump restored anew) and is
climbed to the next revision's parent.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from thirdai_platform.database.connection import connected  # noqa: E402
from thirdai_platform.database.url import parse_url  # noqa: E402
from thirdai_platform.migrate import history  # noqa: E402
from thirdai_platform.migrate.session import load_session  # noqa: E402
from thirdai_platform.migrate.walk.climb import Climber  # noqa: E402
from thirdai_platform.migrate.walk.data import empty_tables  # noqa: E402
from thirdai_platform.migrate.walk.dump import Dump, restored  # noqa: E402
from thirdai_platform.migrate.walk.runner import Runner, StepFailed  # noqa: E402
from thirdai_platform.migrate.walk.seed import seed_database  # noqa: E402

# The floor lists the tables it fills the cheapest way: it pays for no schema snapshot.
TABLES_SQL = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"


def floor(ini: Path, url: URL, rows: int, dump: Dump | None = None) -> dict[str, float]:
    """ "migrations": the three legs alone; "total" with the seeding (and the climbs after a failure)."""
    with connected(url) as connection:
        runner = Runner(load_session(ini, url=url).on(url, connection))
        applied = history.ancestors(runner.script, runner.heads()) if dump else set()
        order = [script for script in history.in_order(runner.script) if script.revision not in applied]
        climber = Climber(runner, dump, applied)
        started, migrating, failed, broken = time.perf_counter(), 0.0, 0, False
        for script in order:
            try:
                if broken and climber.to_parent_of(script) is not None:
                    failed += 1
                    continue
                tables = connection.execute(text(TABLES_SQL)).scalars().all()
                seed_database(
                    connection,
                    rows=rows,
                    seed=0,
                    salt=f"{script.revision}:before",
                    only=empty_tables(connection, tables),
                )
                leg = time.perf_counter()
                try:
                    runner.upgrade(script)
                    runner.downgrade(script)
                    runner.upgrade(script)
                finally:
                    migrating += time.perf_counter() - leg
                broken = False
            except StepFailed:
                failed, broken = failed + 1, True
        return {
            "total": time.perf_counter() - started,
            "migrations": migrating,
            "revisions": len(order),
            "failed": failed,
        }


def main() -> None:
    arguments = argparse.ArgumentParser(description="Time the floor of the walk on one database.")
    arguments.add_argument("--config", type=Path, required=True)
    arguments.add_argument("--url", required=True)
    arguments.add_argument("--rows", type=int, default=10)
    arguments.add_argument("--from-dump", type=Path)
    args = arguments.parse_args()
    url = parse_url(
        args.url, "--url"
    )  # psycopg2, as the CLI connects: a bare postgresql:// is psycopg 3 in SQLAlchemy 2.1
    dump = restored(args.from_dump, url) if args.from_dump else None
    print(json.dumps(floor(args.config.resolve(), url, args.rows, dump)))


if __name__ == "__main__":
    main()
