"""Values that look like what a text column holds, told by its name: emails, time zones, URLs, names...

Realistic values come from mimesis (about 20x faster than Faker for the same providers, see the seeder's
report). Its providers load their locale data once per process; each table reseeds them, so a table's values
depend only on the seed, the salt and the table. Plain lists (time zones, codes) are drawn with the row's own
random generator.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from functools import cache
from random import Random

# Locales for people and places: real data mixes scripts and accents.
LOCALES = ("EN", "DE", "JA", "EL", "FR", "RU")

# (kind, pattern on the lower-cased column name), the first match wins.
NAME_PATTERNS = [
    ("email", r"e_?mail"),
    ("timezone", r"time_?zone|(^|_)tz($|_)"),
    ("locale", r"locale"),
    ("language", r"(^|_)lang(uage)?(_code)?$"),
    ("country_code", r"country_?(code|iso)|(^|_)iso_?country"),
    ("country", r"country"),
    ("currency", r"currency"),
    ("ip", r"(^|_)ip(_?v?[46])?(_?addr(ess)?)?($|_)"),
    ("url", r"(^|_)(url|uri|website|homepage|link|endpoint)s?($|_)"),
    ("slug", r"slug"),
    ("colour", r"colou?r"),
    ("phone", r"phone|mobile"),
    ("username", r"user_?name|(^|_)(login|handle)$"),
    ("first_name", r"first_?name|given_?name"),
    ("last_name", r"last_?name|surname|family_?name"),
    ("full_name", r"full_?name|display_?name|(^|_)(author|owner)$"),
    ("city", r"(^|_)(city|town)($|_)"),
    ("street", r"street|address_?line|(^|_)address$"),
    ("postal_code", r"(^|_)zip(_?code)?$|postal|post_?code"),
    ("company", r"company|organi[sz]ation|employer"),
    ("uuid", r"uuid|guid"),
    ("hash", r"(^|_)(sha\d*|md5|hash|checksum|digest)($|_)"),
    ("mime_type", r"mime|content_type"),
    ("json", r"json"),
]


def kind_of_column(name: str) -> str | None:
    lowered = name.lower()
    return next((kind for kind, pattern in NAME_PATTERNS if re.search(pattern, lowered)), None)


@cache
def mimesis():
    """The package, imported on first use: it takes a few hundred ms, paid only when a column needs it."""
    import mimesis
    import mimesis.datasets

    return mimesis


def dataset(name: str):
    return getattr(mimesis().datasets, name)


@cache
def provider(kind: str, locale: str):
    package = mimesis()
    found = getattr(package, kind)
    if issubclass(found, package.providers.base.BaseDataProvider):
        return found(getattr(package.Locale, locale))
    return found()


class Fakes:
    """Realistic values for one table, reproducible from `seed_text`."""

    def __init__(self, seed_text: str):
        self.seed_text = seed_text
        self.reseeded: set[tuple[str, str]] = set()

    def provider(self, kind: str, rng: Random):
        locale = LOCALES[rng.randrange(len(LOCALES))] if kind in ("Person", "Address") else "EN"
        found = provider(kind, locale)
        if (kind, locale) not in self.reseeded:  # a table's first use: its own sequence of values
            found.reseed(f"{self.seed_text}|{kind}|{locale}")
            self.reseeded.add((kind, locale))
        return found

    def value(self, kind: str, rng: Random) -> str:
        return GENERATORS[kind](self, rng)

    def unique_value(self, kind: str, token: str, rng: Random) -> str | None:
        """A value of the kind that differs whenever the token differs, or None when the kind has none."""
        shape = UNIQUE_SHAPES.get(kind)
        return shape(self.value(kind, rng), token) if shape else None


def call(kind: str, method: str) -> Callable[[Fakes, Random], str]:
    return lambda fakes, rng: getattr(fakes.provider(kind, rng), method)()


def locale_code(rng: Random) -> str:
    language, _, region = rng.choice(dataset("LOCALE_CODES")).partition("-")
    return f"{language}_{region.upper()}" if region else language


def mime_types(rng: Random) -> list[str]:
    types = dataset("MIME_TYPES")
    return types[rng.choice(sorted(types))]


def add_to_email(email: str, token: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local}.{token}@{domain}"


GENERATORS: dict[str, Callable[[Fakes, Random], str]] = {
    "email": call("Person", "email"),
    "timezone": lambda fakes, rng: rng.choice(dataset("TIMEZONES")),
    "locale": lambda fakes, rng: locale_code(rng),
    "language": lambda fakes, rng: locale_code(rng).partition("_")[0],
    "country_code": lambda fakes, rng: rng.choice(dataset("COUNTRY_CODES")["a2"]),
    "country": call("Address", "country"),
    "currency": lambda fakes, rng: rng.choice(dataset("CURRENCY_ISO_CODES")),
    "ip": call("Internet", "ip_v4"),
    "url": call("Internet", "url"),
    "slug": call("Internet", "slug"),
    "colour": call("Text", "hex_color"),
    "phone": call("Person", "phone_number"),
    "username": call("Person", "username"),
    "first_name": call("Person", "first_name"),
    "last_name": call("Person", "last_name"),
    "full_name": call("Person", "full_name"),
    "city": call("Address", "city"),
    "street": call("Address", "address"),
    "postal_code": call("Address", "postal_code"),
    "company": call("Finance", "company"),
    "uuid": lambda fakes, rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "hash": lambda fakes, rng: f"{rng.getrandbits(256):064x}",
    "mime_type": lambda fakes, rng: rng.choice(mime_types(rng)),
    "json": lambda fakes, rng: json.dumps({"id": rng.randrange(1000), "ok": rng.random() < 0.5}),
}
UNIQUE_SHAPES: dict[str, Callable[[str, str], str]] = {
    "email": add_to_email,
    "url": lambda url, token: f"{url.rstrip('/')}/{token}",
    "slug": lambda slug, token: f"{slug}-{token}",
    "username": lambda name, token: f"{name}_{token}",
    "first_name": lambda name, token: f"{name} {token}",
    "last_name": lambda name, token: f"{name} {token}",
    "full_name": lambda name, token: f"{name} {token}",
    "company": lambda name, token: f"{name} {token}",
    "city": lambda name, token: f"{name} {token}",
    "street": lambda name, token: f"{name} {token}",
}
