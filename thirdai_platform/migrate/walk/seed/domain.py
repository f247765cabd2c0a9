"""What the CHECK constraints of a table say, as plain data (read by checks.py, which needs the SQL parser, only
for tables that have CHECKs), and the PostgreSQL regular expression dialect as Python's."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Domain:
    """The values a CHECK leaves a column; None and empty mean no limit."""

    choices: list | None = None
    low: object = None  # with low_inclusive: the value may equal it
    low_inclusive: bool = True
    high: object = None
    high_inclusive: bool = True
    min_length: int | None = None
    max_length: int | None = None
    patterns: list[tuple[str, bool]] = field(default_factory=list)  # (regex, case-insensitive)
    excluded: list = field(default_factory=list)
    not_null: bool = False


@dataclass
class Check:
    name: str
    definition: str
    columns: tuple[str, ...]
    test: Callable[[dict], bool | None] | None  # None: a form the seeder does not evaluate
    # For each part that is an OR, e.g. (plan = 'free' AND price = 0) OR (plan = 'paid' AND price > 0):
    # the domains each alternative gives its columns, to draw a row that takes one of them.
    alternatives: list[list[dict[str, Domain]]] = field(default_factory=list)


def like_pattern(pattern: str) -> str:
    """A LIKE pattern (backslash escapes) as a Python regular expression."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append({"%": ".*", "_": "."}.get(char) or re.escape(char))
    return "".join(out)


POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "xdigit": "0-9a-fA-F",
    "punct": "!-/:-@\\[-`{-~",
    "word": "\\w",
}


def python_regex(pattern: str) -> str:
    """A PostgreSQL regular expression in Python's syntax, for the parts that differ in common patterns."""
    pattern = re.sub(r"\[:(\w+):\]", lambda found: POSIX_CLASSES.get(found[1], found[0]), pattern)
    return re.sub(r"\\[mMy]", r"\\b", pattern)
