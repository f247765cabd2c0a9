"""The order of a project's revisions, read from its loaded ScriptDirectory: the one place that knows which revision
comes before which. The walk, its parts, the lint, the baseline and the bench all ask here."""

from __future__ import annotations

from collections.abc import Iterable

from alembic.script import Script, ScriptDirectory


def in_order(scripts: ScriptDirectory) -> list[Script]:
    """Every revision, parents before children."""
    return list(reversed(list(scripts.walk_revisions())))


def in_range(scripts: ScriptDirectory, rev_range: str | None = None) -> list[Script]:
    """Oldest first: all revisions, one (`REV`), or a range (`A:B`, either end may be left out). Raises Alembic's
    CommandError for a revision it does not know."""
    if not rev_range:
        return in_order(scripts)
    if ":" in rev_range:
        lower, upper = rev_range.split(":", 1)
        return [s for s in reversed(list(scripts.walk_revisions(lower or "base", upper or "heads"))) if s is not None]
    return [scripts.get_revision(rev_range)]


def ancestors(scripts: ScriptDirectory, revisions: str | Iterable[str]) -> set[str]:
    """The revisions (a head, the database's current ones) and every revision before them."""
    tops = revisions if isinstance(revisions, str) else tuple(revisions)
    if not tops:
        return set()
    return {script.revision for script in scripts.revision_map.iterate_revisions(tops, "base")}


def descendants(scripts: ScriptDirectory, revisions: Iterable[str]) -> set[str]:
    """The revisions and every revision after them."""
    found = set(revisions)
    waiting = list(found)
    while waiting:
        for child in scripts.get_revision(waiting.pop()).nextrev - found:
            found.add(child)
            waiting.append(child)
    return found


def climb(scripts: ScriptDirectory, target: Script) -> list[Script]:
    """What an empty database applies, in order, to stand where `target`'s upgrade starts: its ancestors."""
    before = ancestors(scripts, target.revision) - {target.revision}
    return [script for script in in_order(scripts) if script.revision in before]
