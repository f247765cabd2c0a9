"""A verdict a team can gate on: how long the probe's live reads and writes waited behind each revision's locks,
judged against the team's limits, after the walk, over its results (so a walk in parts needs nothing of its own).

The limits come from the project's pyproject.toml, `[tool.thirdai-migrate]` (the table baseline.py reads):
`max-blocked-write = "2s"`, `max-blocked-read = "500ms"`, `rolling-deploys = true`; the command line's
`--max-blocked-write`, `--max-blocked-read` and `--(no-)rolling-deploys` win over them. Without a limit, traffic
that waited is a NOTE with its numbers; past a limit, a FAILURE of the check "deploy".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from alembic.config import Config

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.baseline import project_settings
from thirdai_platform.migrate.findings import FAILURE, NOTE, Finding, RevisionResult, WalkReport

DEPLOY = "deploy"  # the check's name in findings
KINDS = {"write": "writes to", "read": "reads of"}  # the probe's kinds of traffic, as a message names them
SETTING = {"write": "max-blocked-write", "read": "max-blocked-read"}
ROLLING_SETTING = "rolling-deploys"
DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|min|h)\s*")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
EXAMPLES = "e.g. 2s, 500ms, 1.5s, 1m"
STATEMENT_SHOWN = 80  # characters of the statement holding the lock a message quotes
# A wait shorter than this is a note only when a limit asks for less: no deploy notices it, and how long it is
# depends on the machine's load more than on the migration.
NOTE_FROM = 0.1


@dataclass(frozen=True)
class DeployLimits:
    max_blocked: dict[str, float | None]  # kind ("read", "write") → the longest wait allowed, in seconds; None: any
    rolling_deploys: bool = False  # a version that breaks on the new schema fails the revision (WalkOptions)


NO_LIMITS = DeployLimits({"read": None, "write": None})


def parse_duration(text: object, where: str) -> float:
    """Seconds of "2s", "500ms", "1.5s", "1m"; anything else is a one-line UserError naming where it was given."""
    found = DURATION.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise UserError(f"{where} {text!r} is not a duration ({EXAMPLES})")
    return float(found[1]) * UNIT_SECONDS[found[2]]


def chosen_limits(
    config: Config,
    max_blocked_write: str | None = None,
    max_blocked_read: str | None = None,
    rolling_deploys: bool | None = None,
) -> DeployLimits:
    """The project's limits (its pyproject.toml), each overridden by the command line's when given."""
    settings, directory = project_settings(config)
    pyproject = f"in {directory / 'pyproject.toml'}" if directory else ""
    given = {"write": max_blocked_write, "read": max_blocked_read}
    limits: dict[str, float | None] = {}
    for kind, name in SETTING.items():
        if given[kind] is not None:
            limits[kind] = parse_duration(given[kind], f"--{name}")
        else:
            limits[kind] = parse_duration(settings[name], f"{name} {pyproject}:") if name in settings else None
    if rolling_deploys is None:
        rolling_deploys = settings.get(ROLLING_SETTING, False)
        if not isinstance(rolling_deploys, bool):
            raise UserError(f"{ROLLING_SETTING} {pyproject} must be true or false, not {rolling_deploys!r}")
    return DeployLimits(limits, rolling_deploys)


def shown(seconds: float) -> str:
    """'4.8 s', '0.512 s', '12 ms'."""
    return f"{seconds * 1000:.3g} ms" if seconds < 0.01 else f"{seconds:.3g} s"


def waits_of(result: RevisionResult, kind: str) -> list[dict]:
    """The longest wait of this kind per table over the legs, with its leg; longest first."""
    longest: dict[str, dict] = {}
    for leg, waits in result.blocked.items():
        for wait in waits:
            known = longest.get(wait["table"])
            if wait["kind"] == kind and (known is None or wait["longest"] > known["longest"]):
                longest[wait["table"]] = {**wait, "leg": leg}
    return sorted(longest.values(), key=lambda wait: (-wait["longest"], wait["table"]))


def wait_finding(result: RevisionResult, wait: dict, limit: float | None) -> Finding:
    """'writes to models waited up to 4.8 s (3 waits, 6.1 s in all) in the upgrade behind ACCESS EXCLUSIVE held
    by ALTER TABLE models ...', a FAILURE naming the limit when it is over it."""
    kind = wait["kind"]
    statement = " ".join(str(wait.get("statement") or "").split())
    if len(statement) > STATEMENT_SHOWN:
        statement = statement[:STATEMENT_SHOWN].rsplit(" ", 1)[0] + " ..."
    held = f" held by {statement}" if statement else ""
    # Worded so that a baseline's key (numbers left out) stays the same from run to run: no plural that follows a
    # count, and the upgrade whichever of its two runs waited longer.
    leg = "downgrade" if wait["leg"] == "downgrade" else "upgrade"
    message = (
        f"{KINDS[kind]} {wait['table']} waited up to {shown(wait['longest'])} (waits: {wait.get('waits', 1)}, "
        f"{shown(wait.get('total', wait['longest']))} in all) in the {leg} behind "
        f"{wait.get('lock') or 'a lock'}{held}"
    )
    over = limit is not None and wait["longest"] > limit
    if over:
        message += f": longer than the {shown(limit)} allowed ({SETTING[kind]})"
    return Finding(result.revision, DEPLOY, FAILURE if over else NOTE, message, table=wait["table"])


def deploy_findings(result: RevisionResult, limits: DeployLimits) -> list[Finding]:
    """A finding per table and kind that waited: past its limit a failure; else a note once the wait is long enough
    for a deploy to notice (the shorter ones stay numbers in the reports)."""
    return [
        wait_finding(result, wait, limits.max_blocked[kind])
        for kind in KINDS
        for wait in waits_of(result, kind)
        if wait["longest"] >= NOTE_FROM
        or (limits.max_blocked[kind] is not None and wait["longest"] > limits.max_blocked[kind])
    ]


def judge_deploys(report: WalkReport, limits: DeployLimits) -> WalkReport:
    """The report with each revision's waits as findings: notes, or failures past the limits."""
    judged = [
        replace(result, findings=result.findings + deploy_findings(result, limits)) for result in report.revisions
    ]
    return replace(report, revisions=judged)
