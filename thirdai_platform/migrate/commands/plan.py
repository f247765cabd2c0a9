"""`inv db.plan`: what `inv db.upgrade` would apply, each revision with its review and lint verdict (as `inv db.lint`
gives it) and, from a rehearsal's report (the walk's JSON, reports/migrations.json by default), what the walk
measured: its verdict, the upgrade's time, the strongest lock it held, how long live traffic waited, and whether
the running version survived it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from alembic.script import Script

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.findings import FAILURE, Finding, RevisionResult
from thirdai_platform.migrate.report.summary import counted
from thirdai_platform.migrate.session import Session
from thirdai_platform.migrate.static_checks import lint_findings, review_findings
from thirdai_platform.migrate.walk.deploy.verdict import shown

DEFAULT_REPORT = Path("reports/migrations.json")  # where `nox -s migrations` writes it


@dataclass(frozen=True)
class Rehearsal:
    path: Path
    rows: int | None
    results: dict[str, RevisionResult]


def read_rehearsal(path: Path | None) -> Rehearsal | None:
    """The walk's report at path (default: reports/migrations.json, None when there is none); a report named that
    cannot be read is a UserError."""
    named = path is not None
    path = path or DEFAULT_REPORT
    if not named and not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        results = {item["revision"]: rehearsed(item) for item in saved["revisions"]}
    except OSError as error:
        raise UserError(f"cannot read the rehearsal report {path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UserError(f"{path} is not a walk report (`nox -s migrations` writes one): {error!r}") from None
    return Rehearsal(path, saved.get("rows"), results)


def rehearsed(saved: dict) -> RevisionResult:
    """A revision's result as the report saved it (RevisionResult.to_dict)."""
    findings = [
        Finding(**{key: f.get(key) for key in ("revision", "check", "severity", "message", "table")})
        for f in saved.get("findings", [])
    ]
    return RevisionResult(
        saved["revision"],
        saved.get("message", ""),
        saved.get("leg_steps", {}),
        saved.get("leg_seconds", {}),
        saved.get("locks", {}),
        saved.get("statements", {}),
        saved.get("blocked", {}),
        findings=findings,
    )


def measured(result: RevisionResult) -> str:
    """'walk passed; upgrade 0.04 s; ACCESS EXCLUSIVE on models for 0.01 s; writes waited up to 4.8 s behind
    ACCESS EXCLUSIVE; rolling deploy safe'."""
    parts = [f"walk {'FAILED' if result.failed else 'passed'}"]
    if (seconds := result.leg_seconds.get("upgrade")) is not None:
        parts.append(f"upgrade {shown(seconds)}")
    locks = result.locks.get("upgrade") or []
    parts.append(
        f"{locks[0]['mode']} on {locks[0]['table']} for {shown(locks[0]['seconds'])}" if locks else "no table lock seen"
    )
    for kind in ("read", "write"):
        if wait := result.longest_blocked(kind):
            parts.append(
                f"{kind}s waited up to {shown(wait['longest'])} behind {wait.get('lock') or 'a lock'} ({wait['leg']})"
            )
    safe = result.rolling_deploy_safe
    parts.append("rolling deploy not tried" if safe is None else f"rolling deploy {'safe' if safe else 'NOT safe'}")
    return "; ".join(parts)


def rehearsal_line(rehearsal: Rehearsal | None, revision: str) -> str:
    if rehearsal is None:
        return f"not rehearsed: no {DEFAULT_REPORT} (run `nox -s migrations`, or name one with --report)"
    result = rehearsal.results.get(revision)
    if result is None:
        return f"not rehearsed: {rehearsal.path} has no walk of it"
    size = f", {rehearsal.rows} rows per table" if rehearsal.rows is not None else ""
    return f"rehearsed ({rehearsal.path}{size}): {measured(result)}"


def static_verdict(findings: list[Finding]) -> str:
    return (
        "review and lint: "
        + ("FAILED, " if any(f.severity == FAILURE for f in findings) else "passed, ")
        + counted(findings)
    )


def plan_lines(session: Session, current: tuple[str, ...], pending: list[Script], report: Path | None) -> list[str]:
    """What `inv db.plan` prints: where the database is, then each revision to apply, in order."""
    at = ", ".join(current) or "base"
    if not pending:
        return [f"the database is at head ({at}): nothing to apply"]
    rehearsal = read_rehearsal(report)
    revisions = [script.revision for script in pending]
    found = review_findings(session, revisions) + lint_findings(session, revisions)
    lines = [
        f"the database is at {at}; `inv db.upgrade` would apply {len(pending)} revision"
        f"{'s' * (len(pending) != 1)}, in order:"
    ]
    for script in pending:
        own = [f for f in found if f.revision == script.revision]
        lines += [f"{script.revision}: {(script.doc or '').strip()}", f"  {static_verdict(own)}"]
        lines += [f"    {f}" for f in own]
        lines.append(f"  {rehearsal_line(rehearsal, script.revision)}")
    lines += [f"every revision: {f}" for f in found if f.revision is None]
    return lines
