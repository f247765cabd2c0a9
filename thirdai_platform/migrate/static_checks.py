"""The checks that read revision scripts without a database: the static review and squawk's SQL lint, as findings."""
from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.findings import FAILURE, NOTE, Finding
from thirdai_platform.migrate.review import review_script
from thirdai_platform.migrate.sqllint import lint_revisions


def revisions_in_range(config: Config, rev_range: str | None = None) -> list[str]:
    """Revision ids oldest first: all of them, one (`REV`), or a range (`A:B`, either end may be left out)."""
    script = ScriptDirectory.from_config(config)
    try:
        if not rev_range:
            chosen = list(script.walk_revisions())
        elif ":" in rev_range:
            lower, upper = rev_range.split(":", 1)
            chosen = list(script.walk_revisions(lower or "base", upper or "heads"))
        else:
            chosen = [script.get_revision(rev_range)]
    except CommandError as error:
        raise UserError(str(error).splitlines()[0]) from None
    return [s.revision for s in reversed(chosen) if s is not None]


def review_findings(config: Config, revisions: list[str]) -> list[Finding]:
    script = ScriptDirectory.from_config(config)
    findings = []
    for revision in revisions:
        for found in review_script(Path(script.get_revision(revision).path)):
            severity = FAILURE if found.severity == "error" else NOTE
            findings.append(Finding(revision, "review", severity, f"{found.rule}: {found.message} ({Path(found.path).name}:{found.line})"))
    return findings


def lint_findings(config: Config, revisions: list[str]) -> list[Finding]:
    """squawk findings; each one not silenced with a reason in its script fails: an unexplained risk is not merged."""
    return [
        Finding(f.revision, "lint", FAILURE, f"{f.rule} ({f.direction}): {f.message}" + (f" — {f.help}" if f.help else ""),
                statement=f.statement or None)
        for f in lint_revisions(config, revisions)
    ]


def static_findings(config: Config, rev_range: str | None = None) -> list[Finding]:
    revisions = revisions_in_range(config, rev_range)
    return review_findings(config, revisions) + lint_findings(config, revisions)
