"""Drawing a column's value within what its CHECK constraints leave it (a Domain)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from random import Random

from thirdai_platform.migrate.walk.seed.casts import CASTS
from thirdai_platform.migrate.walk.seed.domain import Domain, python_regex
from thirdai_platform.migrate.walk.values import (
    INTEGER_MAX,
    NUMBER_KINDS,
    TEXT_KINDS,
    PgType,
    bounded_number,
    number_step,
)

DRAWS = 20  # candidates tried against the domain before the last one is left to the database
REPEAT_LIMIT = 8  # longest run a generated string gives to * and + (rstr's own is 100)
LETTERS = "abcdefghijklmnopqrstuvwxyz"
PYTHON_TYPE = {
    **dict.fromkeys(TEXT_KINDS, "text"),
    **dict.fromkeys(INTEGER_MAX, "int8"),
    "numeric": "numeric",
    "float4": "float8",
    "float8": "float8",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
    "bool": "bool",
}


def draw(pg_type: PgType, domain: Domain, rng: Random, plain: Callable[[], object]) -> object:
    """A value of the type the domain allows; plain() draws one of the type without limits."""
    value = None
    for _ in range(DRAWS):
        try:
            value = candidate(pg_type, domain, rng, plain)
        except (TypeError, ValueError, ArithmeticError, OverflowError):  # a bound of another type than the column's
            return plain()
        if allowed(value, domain, pg_type):
            return value
    return value


def candidate(pg_type: PgType, domain: Domain, rng: Random, plain: Callable[[], object]) -> object:
    if domain.choices is not None:
        choices = [as_column_value(pg_type, choice) for choice in domain.choices]
        return rng.choice(choices) if choices else plain()
    if domain.patterns and pg_type.kind in TEXT_KINDS:
        import rstr  # only tables with a pattern CHECK need it

        return rstr.Rstr(rng).xeger(bounded_repeats(python_regex(domain.patterns[0][0])))
    if pg_type.kind in TEXT_KINDS and (domain.min_length or domain.max_length is not None):
        return fit_length(str(plain()), domain, pg_type, rng)
    if pg_type.kind in NUMBER_KINDS and (domain.low is not None or domain.high is not None):
        return number_within(pg_type, domain, rng)
    if pg_type.kind in ("date", "timestamp", "timestamptz") and (domain.low is not None or domain.high is not None):
        return moment_within(pg_type, domain, rng, plain)
    return plain()


def as_column_value(pg_type: PgType, value: object) -> object:
    """A constant of the CHECK (e.g. 5 or '5'::text) as the column's values are held."""
    cast = CASTS.get(PYTHON_TYPE.get(pg_type.kind, ""))
    try:
        return cast(value) if cast else value
    except (ValueError, ArithmeticError, KeyError):
        return value


def allowed(value: object, domain: Domain, pg_type: PgType) -> bool:
    if value is None:
        return not domain.not_null
    try:
        if value in [as_column_value(pg_type, item) for item in domain.excluded]:
            return False
        if domain.low is not None and (value < domain.low or (value == domain.low and not domain.low_inclusive)):
            return False
        if domain.high is not None and (value > domain.high or (value == domain.high and not domain.high_inclusive)):
            return False
    except TypeError:
        return True  # e.g. a text array compared with text: the database decides
    if isinstance(value, str):
        return length_allowed(value, domain, pg_type) and all(
            re.search(python_regex(pattern), value, re.IGNORECASE if insensitive else 0)
            for pattern, insensitive in domain.patterns
        )
    return True


def length_allowed(value: str, domain: Domain, pg_type: PgType) -> bool:
    longest = min(limit for limit in (domain.max_length, pg_type.length, 10**9) if limit is not None)
    return (domain.min_length or 0) <= len(value) <= longest


def bounded_repeats(pattern: str) -> str:
    """The pattern with * and + (outside brackets) bounded, so that generated strings stay short."""
    out, escaped, in_brackets = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_brackets = True
        elif char == "]":
            in_brackets = False
        elif char in "*+" and not in_brackets and not (out and out[-1] in "*+?}"):
            char = f"{{0,{REPEAT_LIMIT}}}" if char == "*" else f"{{1,{REPEAT_LIMIT}}}"
        out.append(char)
    return "".join(out)


def fit_length(text: str, domain: Domain, pg_type: PgType, rng: Random) -> str:
    longest = min(limit for limit in (domain.max_length, pg_type.length, 10**6) if limit is not None)
    shortest = min(domain.min_length or 0, longest)
    wanted = rng.randint(shortest, min(longest, max(shortest, len(text))))
    text = text[:wanted]
    return text + "".join(rng.choice(LETTERS) for _ in range(wanted - len(text)))


def number_within(pg_type: PgType, domain: Domain, rng: Random) -> object:
    step = number_step(pg_type)
    low = None if domain.low is None else Decimal(str(domain.low)) + (0 if domain.low_inclusive else step)
    high = None if domain.high is None else Decimal(str(domain.high)) - (0 if domain.high_inclusive else step)
    if pg_type.kind in INTEGER_MAX:  # whole bounds of an integer column: 0.5 < x means x >= 1
        low = None if low is None else low.to_integral_value(rounding="ROUND_CEILING")
        high = None if high is None else high.to_integral_value(rounding="ROUND_FLOOR")
    largest = type_largest(pg_type)
    if largest is not None and (high is None or high > largest):
        high = max(largest, low) if low is not None else largest
    if low is not None and high is not None and low > high:  # no value passes: the database will say which CHECK
        return bounded_number(pg_type, rng, low, low)
    return bounded_number(pg_type, rng, low, high)


def type_largest(pg_type: PgType) -> Decimal | None:
    """The largest value the number type holds, where it is small enough to matter (numeric(6, 2): 9999.99)."""
    if pg_type.kind in INTEGER_MAX:
        return Decimal(INTEGER_MAX[pg_type.kind])
    if pg_type.kind == "numeric" and pg_type.precision:
        return Decimal(10) ** (pg_type.precision - pg_type.scale) - number_step(pg_type)
    return None


def moment_within(pg_type: PgType, domain: Domain, rng: Random, plain: Callable[[], object]) -> object:
    sample = plain()
    low = domain.low if domain.low is not None else None
    high = domain.high if domain.high is not None else None
    try:
        low = CASTS[PYTHON_TYPE[pg_type.kind]](low) if low is not None else None
        high = CASTS[PYTHON_TYPE[pg_type.kind]](high) if high is not None else None
    except (ValueError, KeyError):
        return sample
    if isinstance(sample, datetime) and sample.tzinfo is not None:
        low = low and low.replace(tzinfo=low.tzinfo or sample.tzinfo)
        high = high and high.replace(tzinfo=high.tzinfo or sample.tzinfo)
    if low is not None and high is not None and low > high:
        return low  # no value passes: the database will say which CHECK
    start = low if low is not None else high - timedelta(days=3650)
    span = (high - start) if high is not None else timedelta(days=3650)
    unit = timedelta(days=1) if isinstance(start, date) and not isinstance(start, datetime) else timedelta(seconds=1)
    return start + unit * rng.randint(1, max(1, span // unit - 1))
