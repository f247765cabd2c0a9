"""The checks that read revision scripts without a database: the static review and squawk's SQL lint, as findings.

What they cannot do is a LIMIT finding, never an exception: a script the review cannot read, SQL that cannot be
rendered offline, squawk missing. The walk's results must never be lost to the checks run after it.
"""

from __future__ import annotations

from pathlib import Path

from alembic.util import CommandError

from thirdai_platform.errors import UserError, first_line, one_line
from thirdai_platform.migrate import history
from thirdai_platform.migrate.findings import FAILURE, LIMIT, NOTE, Finding
from thirdai_platform.migrate.project_code import load_error
from thirdai_platform.migrate.render import RenderFailure, render_failures
from thirdai_platform.migrate.review import review_script
from thirdai_platform.migrate.review.sqllint import SquawkUnavailable, lint_revisions
from thirdai_platform.migrate.session import Session, percent_is_a_placeholder
from thirdai_platform.migrate.walk.scope import unscoped_reason


def revisions_in_range(session: Session, rev_range: str | None = None) -> list[str]:
    """Revision ids oldest first: all of them, one (`REV`), or a range (`A:B`, either end may be left out).

    A revision script that cannot be imported is a one-line UserError naming the file."""
    try:
        chosen = history.in_range(session.scripts, rev_range)
    except CommandError as error:
        raise UserError(first_line(error)) from None
    except Exception as error:  # a revision script raising at import: its own code can raise anything
        raise load_error(error, session.scripts) from None
    return [s.revision for s in chosen]


def review_findings(session: Session, revisions: list[str]) -> list[Finding]:
    script = session.scripts
    findings = []
    for revision in revisions:
        path = Path(script.get_revision(revision).path)
        try:
            found_in_script = review_script(path)
        except Exception as error:  # a script the review cannot parse: say so, review the others
            message = f"cannot review {path.name}: {one_line(error)}; not reviewed"
            findings.append(Finding(revision, "review", LIMIT, message))
            continue
        for found in found_in_script:
            if found.rule == "percent-in-raw-sql" and not percent_is_a_placeholder(session.config):
                continue  # the project's driver (asyncpg) sends the SQL as it is
            severity = FAILURE if found.severity == "error" else NOTE
            where = f"{Path(found.path).name}:{found.line}"
            findings.append(Finding(revision, "review", severity, f"{found.rule}: {found.message} ({where})"))
    return findings


def not_rendered_findings(failures: list[RenderFailure]) -> list[Finding]:
    """One LIMIT per revision whose SQL cannot be rendered offline (both directions in one when the error is the
    same)."""
    by_revision: dict[str, list[RenderFailure]] = {}
    for failure in failures:
        by_revision.setdefault(failure.revision, []).append(failure)
    findings = []
    for revision, failed in by_revision.items():
        if len(failed) == 2 and failed[0].error == failed[1].error:
            failed = [RenderFailure(revision, "upgrade and downgrade", failed[0].error, failed[0].statement)]
        findings += [
            Finding(
                revision,
                "lint",
                LIMIT,
                f"{f.direction} cannot be rendered offline: {f.error}; not linted",
                statement=f.statement,
            )
            for f in failed
        ]
    return findings


def whole_schema_limit(session: Session, revision: str) -> Finding | None:
    """The walk checks a revision on every table when it cannot tell which tables the revision acts on (its SQL
    cannot be rendered offline, or cannot be read): a LIMIT on that revision saying so and why; None otherwise."""
    reason = unscoped_reason(session, revision)
    return None if reason is None else Finding(revision, "scope", LIMIT, f"checked on every table: {reason}")


def lint_findings(session: Session, revisions: list[str]) -> list[Finding]:
    """squawk findings; each one not silenced with a reason in its script fails: an unexplained risk is not merged.
    SQL that cannot be rendered, and squawk missing, are limits of the lint."""
    try:
        found = lint_revisions(session, revisions)
    except SquawkUnavailable as error:
        found = []
        unavailable = [Finding(None, "lint", LIMIT, f"{error}; the SQL of the revisions was not linted")]
    else:
        unavailable = []
    per_session = [f for f in found if f.rule in SESSION_RULES]
    linted = [
        Finding(
            f.revision,
            "lint",
            FAILURE,
            f"{f.rule} ({f.direction}): {f.message}" + (f" — {f.help}" if f.help else ""),
            statement=f.statement or None,
        )
        for f in found
        if f.rule not in SESSION_RULES
    ]
    not_rendered = not_rendered_findings(render_failures(session, revisions))
    return unavailable + not_rendered + session_findings(per_session) + linted


# Rules about the session the migrations run in, not about a revision's statements: env.py sets the timeouts once
# for every revision (our env.py emits SET lock_timeout / statement_timeout), so one finding says it for all.
SESSION_RULES = frozenset({"require-lock-timeout", "require-statement-timeout"})


def session_findings(found: list) -> list[Finding]:
    findings = []
    for rule in sorted({f.rule for f in found}):
        revisions = sorted({f.revision for f in found if f.rule == rule})
        sample = next(f for f in found if f.rule == rule)
        findings.append(
            Finding(
                None,
                "lint",
                FAILURE,
                f"{rule} in {len(revisions)} revisions (first {revisions[0]}): "
                f"{sample.message} — set it once for every migration in "
                'env.py (context.execute("SET ...") before run_migrations)',
            )
        )
    return findings


def static_findings(session: Session, rev_range: str | None = None) -> list[Finding]:
    revisions = revisions_in_range(session, rev_range)
    return review_findings(session, revisions) + lint_findings(session, revisions)
