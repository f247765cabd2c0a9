"""Fill every table of the current database with generated rows, parents before children.

The migration walk calls seed_database() at each revision so that every migration meets real-looking data:
every column type, NULLs, non-ASCII text, extreme numbers, values that look like what a column's name says,
CHECK constraints met, and foreign keys that point to real rows. Calls with different salts add rows next to
the earlier ones without colliding with them.

    catalog   the tables, read from pg_catalog      checks/expressions  what a CHECK asks of a row
    order     parents before children               planner             the rows to insert, planned in Python
    filler    reads what rows must fit, inserts     fakes               realistic values by column name
"""
from __future__ import annotations

from sqlalchemy.engine import Connection

from thirdai_platform.migrate.seed.catalog import read_schema
from thirdai_platform.migrate.seed.filler import TableFiller
from thirdai_platform.migrate.seed.order import insertion_order
from thirdai_platform.migrate.seed.result import SeedProblem, SeedResult

__all__ = ["SeedProblem", "SeedResult", "seed_database"]


def seed_database(connection: Connection, *, rows: int, seed: int, salt: str,
                  fixtures: dict[str, list[dict]] | None = None, only: set[str] | None = None) -> SeedResult:
    """Insert the fixtures' rows, then `rows` generated rows, into every table of schema public (or only into the
    tables named in `only`); commit."""
    fixtures = fixtures or {}
    if only is not None and not only and not fixtures:
        return SeedResult(inserted={}, problems=[])  # nothing to write: no need to read the schema
    tables = read_schema(connection, None if only is None else set(only) | set(fixtures))
    problems = [SeedProblem(name, "fixtures name a table that does not exist")
                for name in sorted(set(fixtures) - set(tables))]
    order, deferred, on_not_null_cycle = insertion_order(tables)
    fillers = []
    for name in order:
        filler = TableFiller(connection, tables[name], deferred, seed=seed, salt=salt,
                             on_not_null_cycle=name in on_not_null_cycle)
        filler.insert_fixtures(fixtures.get(name, []))
        filler.insert_generated(rows if only is None or name in only else 0)
        fillers.append(filler)
    for filler in fillers:  # now every parent has rows: fill the foreign keys left NULL to break cycles
        filler.fill_deferred_keys()
    connection.commit()
    return SeedResult(inserted={filler.table.name: filler.inserted for filler in fillers},
                      problems=problems + [problem for filler in fillers for problem in filler.problems])
