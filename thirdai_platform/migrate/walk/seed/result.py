"""What a seeding did: rows inserted per table, and the tables it could not fill, each with a one-line reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SeedProblem:
    table: str
    reason: str


@dataclass
class SeedResult:
    inserted: dict[str, int]
    problems: list[SeedProblem]
