"""What a check found (a Finding), and what one revision's walk produced (a RevisionResult)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

FAILURE = "failure"  # a defect of the migration: fails the run
LIMIT = "limit"  # something the tool could not do (a table it could not fill, SQL it could not render): says what
# it means for the verdict, and fails the run only when asked to (--fail-on-limits)
NOTE = "note"  # information
KNOWN = "known"  # a failure a baseline accepts (baseline.py): reported apart, it does not fail the run
SEVERITIES = (FAILURE, LIMIT, NOTE)  # what counts() counts; known failures are failures a baseline accepted
LEGS = ("upgrade", "downgrade", "upgrade again")  # each revision's three migration steps, in the order they run
ROLLING_CHECKS = ("rolling deploy", "rolling back")  # deploy/rolling.py: the old version after the upgrade, the new
# one after the downgrade


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
        return {**asdict(self), "column": self.column or named_column(self)}


def named_column(finding: Finding) -> str | None:
    """The one column of the finding's table its message names ('users.email', '; changed: name 'x' → None'), or
    None when it names none or several."""
    if not finding.table:
        return None
    named = set(re.findall(rf"\b{re.escape(finding.table)}\.(\w+)", finding.message))
    changed = finding.message.partition("; changed: ")[2]
    if changed and changed.count(" → ") == 1:  # one changed column: 'name 'Zoë' → None'
        named.add(changed.split(" ", 1)[0])
    return named.pop() if len(named) == 1 else None


@dataclass
class RevisionResult:
    revision: str
    message: str
    legs: dict[str, str] = field(default_factory=dict)  # leg → "ok" | "failed" | "skipped"
    leg_seconds: dict[str, float] = field(default_factory=dict)  # time of the migration step alone
    # leg → the strongest lock the migration held on each table, and each statement's time (deploy/locks.py)
    locks: dict[str, list[dict]] = field(default_factory=dict)
    statements: dict[str, list[dict]] = field(default_factory=dict)
    # leg → how long the probe's live traffic waited, per table and kind of traffic (deploy/probe.py):
    # {"table", "kind": "read" | "write", "longest": s, "total": s, "waits": n, "lock": "ACCESS EXCLUSIVE",
    #  "statement": the migration's statement holding the lock then}
    blocked: dict[str, list[dict]] = field(default_factory=dict)
    rows_checked: int = 0
    seconds: float = 0.0
    # phase of the walk → its seconds at this revision (phases.py): render, seed, copy, snapshot, compare, ...
    phase_seconds: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.severity == FAILURE for f in self.findings)

    def verdict(self, leg: str) -> str:
        """The leg's check, not only its migration step: "failed" when the step or any check of the leg failed,
        "known" when only failures a baseline accepts did, else the step's "ok" or "skipped"."""
        severities = {f.severity for f in self.findings if f.check == leg}
        if self.legs.get(leg) == "failed" or FAILURE in severities:
            return "failed"
        return "known" if KNOWN in severities else self.legs.get(leg, "skipped")

    def longest_blocked(self, kind: str) -> dict | None:
        """The longest wait of the probe's reads or writes ("read", "write") over all legs, with the leg it was in."""
        waits = [{**wait, "leg": leg} for leg, waits in self.blocked.items() for wait in waits if wait["kind"] == kind]
        return max(waits, key=lambda wait: wait["longest"], default=None)

    @property
    def rolling_deploy_safe(self) -> bool | None:
        """Whether the running version survives this revision's schema (and the new one its downgrade); None when
        the upgrade did not run, so it was not tried."""
        if self.legs.get(LEGS[0]) != "ok":
            return None
        return not any(f.check in ROLLING_CHECKS for f in self.findings)

    def deploy_summary(self) -> dict:
        """What a deploy of this revision does to live traffic, as every report shows it: the longest wait of reads
        and of writes (its seconds, table, leg, the lock behind it and the statement holding it), None when nothing
        waited; and whether a rolling deploy is safe."""

        def longest(kind: str) -> dict | None:
            wait = self.longest_blocked(kind)
            return (
                None
                if wait is None
                else {
                    "seconds": wait["longest"],
                    "table": wait["table"],
                    "leg": wait["leg"],
                    "lock": wait.get("lock"),
                    "statement": wait.get("statement"),
                }
            )

        return {
            "longest_blocked_read": longest("read"),
            "longest_blocked_write": longest("write"),
            "rolling_deploy_safe": self.rolling_deploy_safe,
        }

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "legs": {leg: self.verdict(leg) for leg in LEGS},
            "leg_steps": dict(self.legs),
            "deploy": self.deploy_summary(),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class ScriptPlace:
    """Where a revision's script is, for reports that point at code (JUnit, SARIF, GitHub annotations)."""

    path: str
    upgrade_line: int = 1  # the line of `def upgrade`
    downgrade_line: int = 1
    parents: tuple[str, ...] = ()  # its down_revision(s): the edges of the revision graph (the HTML report)

    def line_for(self, finding: Finding) -> int:
        """The review's own line; else the function the check ran (a downgrade's, a lint of the downgrade's SQL)."""
        if finding.check == "review" and (line := re.search(r":(\d+)\)$", finding.message)):
            return int(line[1])
        return self.downgrade_line if in_downgrade(finding) else self.upgrade_line


def in_downgrade(finding: Finding) -> bool:
    """Whether the finding is about the revision's downgrade: its leg's checks, the lint of its SQL, the new version
    meeting it (rolling back), or a wait the downgrade made the application's traffic sit through."""
    return (
        finding.check in ("downgrade", ROLLING_CHECKS[1])
        or (finding.check == "lint" and "(downgrade)" in finding.message)
        or (finding.check == "deploy" and " in the downgrade behind " in finding.message)
    )


@dataclass(frozen=True)
class RunInfo:
    """What the run was: the tool, the PostgreSQL it walked on, the data it generated, the scripts it read."""

    tool_version: str
    postgresql_version: str | None = None
    postgresql_source: str | None = None  # "system", "embedded", "named by --pg-bin", "named by --url", ...
    postgresql_bin_dir: str | None = None
    seed: int = 0
    rows: int = 0
    static_checks: bool = True  # the review and squawk ran: each revision has its lint and review case
    scripts: dict[str, ScriptPlace] = field(default_factory=dict)
    config_file: str | None = None  # alembic.ini: where a finding about the whole history points
    env_file: str | None = None  # env.py: where a lint finding about every revision points (what to set there)

    def to_dict(self) -> dict:
        return {
            "tool": {"name": "thirdai-platform", "version": self.tool_version},
            "postgresql": {
                "version": self.postgresql_version,
                "source": self.postgresql_source,
                "bin_dir": self.postgresql_bin_dir,
            },
            "seed": self.seed,
            "rows": self.rows,
        }


@dataclass
class WalkReport:
    revisions: list[RevisionResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # about the whole history: heads, drift, …
    seconds: float = 0.0
    run: RunInfo | None = None  # set by the command line
    interrupted: bool = False  # a partial report: the run was stopped before it ended

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
            **(self.run.to_dict() if self.run else {}),
            "passed": not self.fails(fail_on_limits) and not self.interrupted,
            "interrupted": self.interrupted,
            "counts": self.counts(),
            "seconds": round(self.seconds, 3),
            "findings": [f.to_dict() for f in self.findings],
            "revisions": [r.to_dict() for r in self.revisions],
        }
