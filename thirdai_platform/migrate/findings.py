"""What a check found (a Finding), and what one revision's walk produced (a RevisionResult)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

FAILURE = "failure"  # a defect of the migration: fails the run
LIMIT = "limit"  # something the tool could not do (a table it could not fill, SQL it could not render): says what
# it means for the verdict, and fails the run only when asked to (--fail-on-limits)
NOTE = "note"  # information
KNOWN = "known"  # a failure a baseline accepts (baseline.py): reported apart, it does not fail the run
SEVERITIES = (FAILURE, LIMIT, NOTE)  # what counts() counts; known failures are failures a baseline accepted


@dataclass
class Finding:
    revision: str | None
    check: str  # the leg or check that found it: upgrade, downgrade, upgrade again, seed, heads, drift, review, lint
    severity: str  # FAILURE, LIMIT or NOTE
    message: str
    table: str | None = None
    column: str | None = None
    rows: int | None = None
    sample: dict | None = None
    statement: str | None = None

    def __str__(self) -> str:
        where = f"{self.revision} " if self.revision else ""
        line = f"[{self.severity}] {where}{self.check}: {self.message}"
        if self.sample:
            line += f"\n    sample row: {json.dumps(self.sample, ensure_ascii=False, default=str)[:400]}"
        if self.statement:
            line += f"\n    statement: {' '.join(self.statement.split())[:400]}"
        return line

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RevisionResult:
    revision: str
    message: str
    legs: dict[str, str] = field(default_factory=dict)  # leg → "ok" | "failed" | "skipped"
    leg_seconds: dict[str, float] = field(default_factory=dict)  # time of the migration step alone
    # leg → the strongest lock the migration held on each table, and each statement's time (deploy/locks.py)
    locks: dict[str, list[dict]] = field(default_factory=dict)
    statements: dict[str, list[dict]] = field(default_factory=dict)
    rows_checked: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.severity == FAILURE for f in self.findings)

    def to_dict(self) -> dict:
        return {**asdict(self), "findings": [f.to_dict() for f in self.findings]}


@dataclass
class WalkReport:
    revisions: list[RevisionResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # about the whole history: heads, drift, …
    seconds: float = 0.0

    def all_findings(self) -> list[Finding]:
        return self.findings + [f for r in self.revisions for f in r.findings]

    @property
    def failed(self) -> bool:
        return any(f.severity == FAILURE for f in self.all_findings())

    def counts(self) -> dict[str, int]:
        """How many findings of each severity: {"failure": 0, "limit": 12, "note": 40}."""
        found = [f.severity for f in self.all_findings()]
        return {severity: found.count(severity) for severity in SEVERITIES}

    def fails(self, fail_on_limits: bool = False) -> bool:
        """The run's verdict: failures fail it; limits too when asked (--fail-on-limits)."""
        counts = self.counts()
        return bool(counts[FAILURE] or (fail_on_limits and counts[LIMIT]))

    def to_dict(self, fail_on_limits: bool = False) -> dict:
        return {
            "passed": not self.fails(fail_on_limits),
            "counts": self.counts(),
            "seconds": round(self.seconds, 3),
            "findings": [f.to_dict() for f in self.findings],
            "revisions": [r.to_dict() for r in self.revisions],
        }
