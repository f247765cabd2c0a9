"""SQL casts of the constants and values a CHECK compares, as Python conversions (text, numbers, dates...)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation


class Unknown(Exception):
    """A value the evaluator cannot compare (e.g. a text array against a number): let the database decide."""


def to_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, (date, time)) else str(value)


def to_decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as error:
        raise Unknown(str(value)) from error


def to_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value).strip())


def to_timestamp(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value).strip())


def to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return {"t": True, "true": True, "f": False, "false": False}[str(value).strip().lower()]


CASTS = {
    **dict.fromkeys(["text", "varchar", "bpchar", "name", "citext"], to_text),
    **dict.fromkeys(["int2", "int4", "int8", "integer", "smallint", "bigint"], lambda v: int(to_decimal(v))),
    **dict.fromkeys(["numeric", "decimal"], to_decimal),
    **dict.fromkeys(["float4", "float8"], lambda v: float(to_decimal(v))),
    "date": to_date,
    "timestamp": to_timestamp,
    "timestamptz": to_timestamp,
    "bool": to_bool,
}
