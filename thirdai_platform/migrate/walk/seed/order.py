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

    def waits_on(name: str) -> list[ForeignKey]:
        return [
            key
            for key in tables[name].foreign_keys
            if key.parent in remaining and key.parent != name and (name, key.name) not in deferred
        ]

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name == goal:
                return True
            if name not in seen:
                seen.add(name)
                todo.extend(key.parent for key in waits_on(name))
        return False

    while remaining:
        ready = [name for name in remaining if not waits_on(name)]
        if ready:
            order.append(ready[0])
            remaining.remove(ready[0])
            continue
        # Every remaining table waits on another: break a cycle at a nullable foreign key, if there is one.
        breakable = [
            key
            for name in remaining
            for key in waits_on(name)
            if tables[name].can_be_null(key) and reaches(key.parent, name)
        ]
        if breakable:
            deferred.add((breakable[0].table, breakable[0].name))
            continue
        stuck = next(name for name in remaining if any(reaches(key.parent, name) for key in waits_on(name)))
        on_cycle.add(stuck)
        order.append(stuck)
        remaining.remove(stuck)
    return order, deferred, on_cycle
