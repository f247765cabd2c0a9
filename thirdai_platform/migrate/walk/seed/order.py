"""The order to fill tables in: parents before children, cycles broken at a nullable foreign key."""

from __future__ import annotations

from thirdai_platform.migrate.walk.seed.catalog import ForeignKey, Table


def insertion_order(tables: dict[str, Table]) -> tuple[list[str], set[tuple[str, str]], set[str]]:
    """Tables parents first, the (table, foreign key) pairs to leave NULL and fill afterwards, and the
    tables on a cycle of NOT NULL foreign keys (inserted anyway: rows already in their parents may do)."""
    deferred = {
        (table.name, key.name)
        for table in tables.values()
        for key in table.foreign_keys
        if key.parent == key.table and table.can_be_null(key)
    }
    remaining, order, on_cycle = sorted(tables), [], set()
    while remaining:
        waits = {name: waits_on(tables[name], remaining, deferred) for name in remaining}
        ready = [name for name in remaining if not waits[name]]
        if ready:
            order.append(ready[0])
            remaining.remove(ready[0])
            continue
        # Every remaining table waits on another: break a cycle at a nullable foreign key, if there is one.
        breakable = [
            key
            for name in remaining
            for key in waits[name]
            if tables[name].can_be_null(key) and reaches(waits, key.parent, name)
        ]
        if breakable:
            deferred.add((breakable[0].table, breakable[0].name))
            continue
        stuck = next(name for name in remaining if any(reaches(waits, key.parent, name) for key in waits[name]))
        on_cycle.add(stuck)
        order.append(stuck)
        remaining.remove(stuck)
    return order, deferred, on_cycle


def waits_on(table: Table, remaining: list[str], deferred: set[tuple[str, str]]) -> list[ForeignKey]:
    """The table's foreign keys to another table not inserted yet, but those left NULL to fill afterwards."""
    return [
        key
        for key in table.foreign_keys
        if key.parent in remaining and key.parent != table.name and (table.name, key.name) not in deferred
    ]


def reaches(waits: dict[str, list[ForeignKey]], start: str, goal: str) -> bool:
    """Whether the goal table is among those the start table waits on, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            todo.extend(key.parent for key in waits[name])
    return False
