"""SQL's operators and functions a CHECK may use, as Python functions of their arguments' values."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

from thirdai_platform.migrate.walk.seed.casts import to_text
from thirdai_platform.migrate.walk.seed.domain import like_pattern, python_regex


def matches(flags: int, anchored: bool) -> Callable[[object, object], bool]:
    """A regular expression found in the value (~), or anchored, a LIKE pattern matching all of it (~~)."""

    def match(value: object, pattern: object) -> bool:
        if anchored:
            return re.fullmatch(like_pattern(str(pattern)), str(value), flags | re.DOTALL) is not None
        return re.search(python_regex(str(pattern)), str(value), flags) is not None

    return match


def negated(test: Callable[[object, object], bool]) -> Callable[[object, object], bool]:
    return lambda value, pattern: not test(value, pattern)


def concatenate(left: object, right: object) -> str:
    return to_text(left) + to_text(right)


BINARY = {
    "=": operator.eq,
    "<>": operator.ne,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
    "||": concatenate,
    "~": matches(0, False),
    "~*": matches(re.IGNORECASE, False),
    "~~": matches(0, True),
    "~~*": matches(re.IGNORECASE, True),
}
BINARY.update(
    {
        "!~": negated(BINARY["~"]),
        "!~*": negated(BINARY["~*"]),
        "!~~": negated(BINARY["~~"]),
        "!~~*": negated(BINARY["~~*"]),
    }
)


def count_nulls(*values: object) -> int:
    return sum(value is None for value in values)


FUNCTIONS = {
    "length": len,
    "char_length": len,
    "character_length": len,
    "octet_length": lambda value: len(to_text(value).encode()),
    "lower": lambda value: to_text(value).lower(),
    "upper": lambda value: to_text(value).upper(),
    "btrim": lambda value, chars=" ": to_text(value).strip(chars),
    "ltrim": lambda value, chars=" ": to_text(value).lstrip(chars),
    "rtrim": lambda value, chars=" ": to_text(value).rstrip(chars),
    "abs": abs,
}
