"""Values for one PostgreSQL column type: random ones for variety, unique ones for keys.

Values are plain Python objects psycopg2 can send (int, Decimal, str, datetime, ...). Types psycopg2 has
no adapter for (uuid, inet, json, arrays, enums) are sent as text, which PostgreSQL casts to the column type.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from random import Random
from xml.sax.saxutils import escape

INTEGER_MAX = {"int2": 2**15 - 1, "int4": 2**31 - 1, "int8": 2**63 - 1}
TEXT_KINDS = {"text", "varchar", "bpchar", "name", "citext"}
NUMBER_KINDS = set(INTEGER_MAX) | {"numeric", "float4", "float8"}
TIME_KINDS = {"date", "time", "timetz", "timestamp", "timestamptz", "interval"}
# Kinds whose unique values count up from the current maximum of the column.
ORDERED_KINDS = set(INTEGER_MAX) | {
    "numeric",
    "float4",
    "float8",
    "money",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "interval",
}
# Kinds whose unique values are built from a unique token instead.
TOKEN_KINDS = TEXT_KINDS | {"uuid", "bytea", "inet", "cidr", "macaddr", "jsonb"}
# Geometric, text search and range types: sent in their text form, never part of a generated unique key.
SHAPE_KINDS = {"point", "lseg", "box", "path", "polygon", "line", "circle"}
RANGE_KINDS = {
    "int4range": "int4",
    "int8range": "int8",
    "numrange": "numeric",
    "daterange": "date",
    "tsrange": "timestamp",
    "tstzrange": "timestamptz",
}
OTHER_KINDS = (
    {"bool", "timetz", "json", "xml", "bit", "varbit", "enum", "array", "tsvector", "tsquery", "char", "oid"}
    | SHAPE_KINDS
    | set(RANGE_KINDS)
)
SUPPORTED_KINDS = ORDERED_KINDS | TOKEN_KINDS | OTHER_KINDS

# Real data is rarely plain ASCII: quotes, backslashes and non-Latin scripts break naive migrations.
PHRASES = [
    "Zoë 東京 ✓",
    "plain ascii",
    "O'Brien & Sons",
    "naïve café",
    'say "hi"',
    "back\\slash",
    "Ünïcödé ✓",
    "multi\nline",
    "rocket 🚀",
    "Ελληνικά",
    "trailing space ",
    "A",
]
START_DATE = date(2020, 1, 1)
START_TIME = datetime(2020, 1, 1)


@dataclass(frozen=True)
class PgType:
    """A column type after resolving domains: `kind` is the base type name, or "enum" / "array"."""

    kind: str
    length: int | None = None  # varchar(n), char(n), bit(n)
    precision: int | None = None  # numeric(p, s)
    scale: int = 0
    labels: tuple[str, ...] = ()  # enum labels in their declared order
    element: PgType | None = None  # element type of an array

    @property
    def uniquable(self) -> bool:
        return self.kind in ORDERED_KINDS or self.kind in TOKEN_KINDS


def scalar_type(name: str, typmod: int) -> PgType | None:
    """The PgType of a base type name (pg_type.typname) with its typmod, or None when we cannot generate it."""
    if name not in SUPPORTED_KINDS:
        return None
    if name in ("varchar", "bpchar", "bit", "varbit") and typmod >= 0:
        return PgType(name, length=typmod - 4 if name in ("varchar", "bpchar") else typmod)
    if name == "bit":
        return PgType(name, length=1)
    if name == "name":
        return PgType(name, length=63)
    if name == "numeric" and typmod >= 4:
        precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
        return PgType(name, precision=precision, scale=scale if scale <= precision else 0)
    return PgType(name)


def random_value(pg_type: PgType, rng: Random, column_name: str = "") -> object:
    """Any valid value of the type (no uniqueness promised)."""
    kind = pg_type.kind
    if kind in NUMBER_KINDS or kind == "money":
        return random_number(pg_type, rng)
    if kind in TIME_KINDS:
        return random_moment(kind, rng)
    if kind in TEXT_KINDS:
        return clip(random_text(rng, column_name), pg_type.length)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if kind in ("json", "jsonb"):
        return json_text(rng, rng.randrange(1000))
    if kind == "bytea":
        return rng.randbytes(rng.randrange(1, 17))
    if kind == "inet":
        return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    if kind == "cidr":
        return f"10.{rng.randrange(256)}.{rng.randrange(256)}.0/24"
    if kind == "macaddr":
        return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))
    if kind == "xml":
        return f"<note>{escape(rng.choice(PHRASES))}</note>"
    if kind in ("bit", "varbit"):
        size = pg_type.length if kind == "bit" else rng.randrange(1, (pg_type.length or 16) + 1)
        return "".join(rng.choice("01") for _ in range(size))
    if kind == "enum":
        return rng.choice(pg_type.labels)
    if kind in SHAPE_KINDS or kind in RANGE_KINDS or kind in ("tsvector", "tsquery", "char", "oid"):
        return other_value(kind, rng)
    if kind == "array":
        return array_literal([random_value(pg_type.element, rng, column_name) for _ in range(rng.randrange(4))])
    raise ValueError(f"no generator for {kind}")


def random_number(pg_type: PgType, rng: Random) -> int | Decimal | float:
    """A value of an integer, numeric, float or money type, within its precision."""
    kind = pg_type.kind
    if kind in INTEGER_MAX:
        # Now and then the largest value, so that narrowing migrations meet it.
        return INTEGER_MAX[kind] if rng.random() < 0.03 else rng.randrange(100_000 if kind != "int2" else 1000)
    if kind == "numeric":
        whole_digits = pg_type.precision - pg_type.scale if pg_type.precision else 6
        scale = pg_type.scale if pg_type.precision else 2
        whole = rng.randrange(10 ** min(whole_digits, 6)) if whole_digits > 0 else 0
        return Decimal(whole) + Decimal(rng.randrange(10**scale)).scaleb(-scale)
    if kind == "money":
        return Decimal(rng.randrange(1_000_000)).scaleb(-2)
    return round(rng.uniform(0, 10_000), 3)  # float4, float8


def random_moment(kind: str, rng: Random) -> object:
    """A value of a date, time, timestamp or interval type, around 2020."""
    if kind == "date":
        return START_DATE + timedelta(days=rng.randrange(-3650, 3650))
    if kind in ("timestamp", "timestamptz"):
        moment = START_TIME + timedelta(seconds=rng.randrange(-(10**8), 10**8), microseconds=rng.randrange(10**6))
        return moment.replace(tzinfo=timezone.utc) if kind == "timestamptz" else moment
    if kind in ("time", "timetz"):
        moment = time(rng.randrange(24), rng.randrange(60), rng.randrange(60))
        return moment.isoformat() + "+00" if kind == "timetz" else moment
    return timedelta(days=rng.randrange(400), seconds=rng.randrange(86_400))  # interval


def other_value(kind: str, rng: Random) -> object:
    """Text forms of the geometric, range and text search types, "char" and oid."""
    if kind in RANGE_KINDS:
        low, high = sorted(random_value(PgType(RANGE_KINDS[kind]), rng) for _ in range(2))
        return "empty" if rng.random() < 0.05 else f"[{quote_element(low)},{quote_element(high)})"
    if kind in ("tsvector", "tsquery"):
        words = rng.sample(SEARCH_WORDS, 2)
        return " ".join(words) if kind == "tsvector" else " & ".join(words)
    if kind == "char":
        return rng.choice("abcxyz")
    if kind == "oid":
        return rng.randrange(1, 2**31)
    x, y, size = rng.randrange(-100, 100), rng.randrange(-100, 100), rng.randrange(1, 50)
    return SHAPES[kind].format(x=x, y=y, far_x=x + size, far_y=y + size, size=size)


SEARCH_WORDS = ["zoë", "café", "rocket", "plain", "東京", "data"]
SHAPES = {
    "point": "({x},{y})",
    "lseg": "[({x},{y}),({far_x},{y})]",
    "box": "({far_x},{far_y}),({x},{y})",
    "path": "[({x},{y}),({far_x},{y}),({x},{far_y})]",
    "polygon": "(({x},{y}),({far_x},{y}),({x},{far_y}))",
    "line": "{{1,-1,{x}}}",
    "circle": "<({x},{y}),{size}>",
}


def number_step(pg_type: PgType) -> Decimal:
    """The smallest difference between two generated numbers of the type."""
    if pg_type.kind in INTEGER_MAX:
        return Decimal(1)
    if pg_type.kind == "numeric" and pg_type.precision:
        return Decimal(1).scaleb(-pg_type.scale)
    return Decimal("0.01")


def bounded_number(pg_type: PgType, rng: Random, low: Decimal | None, high: Decimal | None) -> object:
    """A random number of the type within [low, high], for a column a CHECK bounds; None is no bound."""
    if low is None:
        low = min(Decimal(0), high - 1000) if high is not None else Decimal(0)
    if high is None:
        high = low + 100_000
    if pg_type.kind in INTEGER_MAX:
        return rng.randint(int(low), int(high))
    value = Decimal(rng.uniform(float(low), float(high))).quantize(number_step(pg_type))
    value = min(max(value, low), high)
    return float(value) if pg_type.kind in ("float4", "float8") else value


def unique_after(pg_type: PgType, current_max: object, steps: int) -> object:
    """The value `steps` steps above current_max (None: an empty column), for ORDERED_KINDS."""
    kind = pg_type.kind
    if kind in INTEGER_MAX or kind in ("float4", "float8"):
        return (current_max or 0) + steps
    if kind in ("numeric", "money"):
        scale = 2 if kind == "money" else pg_type.scale
        # numeric(p, p) holds no whole units: step by its smallest digit instead.
        step = Decimal(1).scaleb(-scale) if pg_type.precision == pg_type.scale else Decimal(1)
        return Decimal(current_max or 0) + step * steps
    if kind == "date":
        return (current_max or START_DATE) + timedelta(days=steps)
    if kind in ("timestamp", "timestamptz"):
        start = current_max or START_TIME.replace(tzinfo=timezone.utc if kind == "timestamptz" else None)
        return start + timedelta(minutes=steps)
    if kind == "time":
        start = current_max or time(0)
        seconds = (start.hour * 3600 + start.minute * 60 + start.second + steps) % 86_400
        return time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    if kind == "interval":
        return (current_max or timedelta(0)) + timedelta(seconds=steps)
    raise ValueError(f"{kind} values do not count up")


def unique_from_token(pg_type: PgType, token: str, rng: Random, column_name: str = "", scope: str = "") -> object:
    """A value that differs whenever the token differs, for TOKEN_KINDS; values hashed from the token (uuid,
    inet, macaddr) differ across scopes too (e.g. the table and column), as random ones would."""
    kind = pg_type.kind
    digest = hashlib.sha256(f"{scope}|{token}".encode()).digest()
    if kind in TEXT_KINDS:
        base = random_text(rng, column_name).replace("@", " ").split()[0]
        text = f"{token}@example.com" if "email" in column_name.lower() else f"{base} {token}"
        if pg_type.length is None or len(text) <= pg_type.length:
            return text
        return token[-pg_type.length :]  # the counter sits at the end of the token
    if kind == "uuid":
        return str(uuid.UUID(bytes=digest[:16], version=4))
    if kind == "bytea":
        return token.encode()
    if kind in ("inet", "cidr"):
        address = ipaddress.IPv6Address(b"\xfd" + digest[:15])  # unique local range fd00::/8
        return f"{address}/128" if kind == "cidr" else str(address)
    if kind == "macaddr":
        return ":".join(f"{byte:02x}" for byte in digest[:6])
    if kind == "jsonb":
        return json_text(rng, token)
    raise ValueError(f"{kind} values are not built from tokens")


def random_text(rng: Random, column_name: str) -> str:
    if "email" in column_name.lower():
        return f"user{rng.randrange(10_000)}@example.com"
    phrase = rng.choice(PHRASES)
    return f"{phrase} {rng.randrange(1000)}" if rng.random() < 0.5 else phrase


def json_text(rng: Random, key: object) -> str:
    document = {
        "id": key,
        "name": rng.choice(PHRASES),
        "tags": rng.sample(["a", "b", "c"], rng.randrange(4)),
        "nested": {"ok": rng.random() < 0.5, "score": round(rng.uniform(0, 1), 3)},
    }
    return json.dumps(document, ensure_ascii=False)


def clip(text: str, length: int | None) -> str:
    return text if length is None else text[:length]


def array_literal(items: list[object]) -> str:
    """PostgreSQL's text form of a one-dimensional array: '{"a","b"}' casts to any array type."""
    return "{" + ",".join("NULL" if item is None else quote_element(item) for item in items) + "}"


def quote_element(item: object) -> str:
    if isinstance(item, bool):
        text = "t" if item else "f"
    elif isinstance(item, bytes):
        text = "\\x" + item.hex()
    elif isinstance(item, (date, time)):  # datetime is a date
        text = item.isoformat()
    elif isinstance(item, timedelta):
        text = f"{item.days} days {item.seconds} seconds {item.microseconds} microseconds"
    else:
        text = str(item)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
