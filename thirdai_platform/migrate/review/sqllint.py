"""Lint the SQL each revision runs with squawk (https://squawkhq.com): locks, rewrites, destructive statements.

Alembic renders a revision offline (`--sql`), one revision and one direction at a time, so every finding belongs to
exactly one revision. A rule is silenced for one revision with `# squawk: ignore RULE -- reason` in its script.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.script import Script

from thirdai_platform.errors import UserError, first_line
from thirdai_platform.migrate import history, parsed_sql
from thirdai_platform.migrate.data_loss import declared_entries
from thirdai_platform.migrate.git_changes import repository_root
from thirdai_platform.migrate.render import DIRECTIONS, CannotRender, render_revision_sql, revision_script
from thirdai_platform.migrate.review.ignore_comments import ignore_comments
from thirdai_platform.migrate.session import Session

CONFIG_FILE = ".squawk.toml"
# Ours, for a project without its own: shipped in the package, so an installed tool has it too.
DEFAULT_CONFIG = Path(__file__).with_name("squawk.toml")
TRANSACTION_START = re.compile(r"(BEGIN|START\s+TRANSACTION)\b", re.IGNORECASE)
STATEMENT_PREVIEW = 160
# squawk's bans on drops a revision may declare in its data_loss
DROP_RULES = frozenset({"ban-drop-table", "ban-drop-column"})
# A downgrade exists to remove what its upgrade added, and the walk proves it gives the data back; squawk's bans
# on dropping things guard production upgrades, so they are not applied to the downgrade direction.
UNDOING_RULES = {
    "downgrade": frozenset(
        {
            "ban-drop-table",
            "ban-drop-column",
            "ban-drop-type",
            "ban-drop-constraint",
            "require-concurrent-index-deletion",
        }
    )
}


Step = tuple[str, str]  # (revision, direction)


@dataclass(frozen=True)
class LintFinding:
    revision: str
    direction: str  # "upgrade" | "downgrade"
    rule: str
    statement: str  # the offending SQL statement on one line, shortened
    message: str
    help: str  # squawk's advice, "" when it has none
    severity: str  # "error" | "warning"
    drops: frozenset[str] = frozenset()  # what the statement of a DROP_RULES finding drops: "table", "table.column"


class SquawkUnavailable(UserError):
    """squawk is not installed, or did not answer: the SQL lint cannot run."""


def squawk_executable() -> str:
    """The squawk binary installed next to this Python (the venv's bin), else the one on PATH."""
    beside_python = Path(sys.executable).with_name("squawk")
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which("squawk")
    if found is None:
        raise SquawkUnavailable("squawk is not installed: install the dev dependencies (pip install squawk-cli)")
    return found


def squawk_findings(sql_of: dict[Step, str], config_path: Path | None) -> dict[Step, list[LintFinding]]:
    """squawk's findings for the SQL of each (revision, direction), each tied to the statement it is about.

    One squawk run for all of them, one file each (a run per revision and direction cost ~10 ms each).
    config_path None means squawk's default rules, whatever .squawk.toml the working directory has.

    Alembic's own bookkeeping (the alembic_version table) is left out. SQL rendered by Alembic carries its
    transaction boundaries (BEGIN/COMMIT, and a COMMIT before an autocommit block), so squawk is told to assume
    a surrounding transaction only when the SQL has none of its own: SQL with and without its own transactions
    go to separate runs.
    """
    statements_of = {
        step: [statement for statement in parsed_sql.statements(sql) if "alembic_version" not in statement]
        for step, sql in sql_of.items()
    }
    with tempfile.TemporaryDirectory(prefix="squawk-") as directory:
        step_of_file, files_by_assumption = _squawk_files(Path(directory), statements_of)
        violations = [
            violation
            for in_transaction, paths in files_by_assumption.items()
            for violation in _run_squawk(paths, in_transaction, config_path)
        ]
    findings = {step: [] for step in sql_of}
    for violation in violations:
        step = step_of_file[Path(violation["file"]).name]
        findings[step].append(_lint_finding(step, statements_of[step], violation))
    return findings


def _squawk_files(
    directory: Path, statements_of: dict[Step, list[str]]
) -> tuple[dict[str, Step], dict[bool, list[Path]]]:
    """A file in directory for each step with statements: the step of each file name, and the files by whether
    squawk is to assume a surrounding transaction."""
    step_of_file, files_by_assumption = {}, {}
    for index, (step, statements) in enumerate(statements_of.items()):
        if not statements:
            continue
        path = directory / f"{index}.sql"
        # squawk reads one statement per paragraph, so the line of a finding tells its statement.
        path.write_text("\n\n".join(statements) + "\n", encoding="utf-8")
        step_of_file[path.name] = step
        in_transaction = not any(TRANSACTION_START.match(statement) for statement in statements)
        files_by_assumption.setdefault(in_transaction, []).append(path)
    return step_of_file, files_by_assumption


def _lint_finding(step: Step, statements: list[str], violation: dict) -> LintFinding:
    """One of squawk's violations as a finding, tied to the statement on the violation's line."""
    revision, direction = step
    index = bisect.bisect_right(_first_lines(statements), violation["line"]) - 1
    statement = statements[max(index, 0)]
    return LintFinding(
        revision=revision,
        direction=direction,
        rule=violation["rule_name"],
        statement=parsed_sql.shortened(statement, STATEMENT_PREVIEW),
        message=violation["message"],
        help=violation.get("help") or "",
        severity=violation["level"].lower(),
        drops=parsed_sql.dropped(statement) if violation["rule_name"] in DROP_RULES else frozenset(),
    )


def lint_revisions(session: Session, revisions: list[str] | None = None) -> list[LintFinding]:
    """Lint upgrade and downgrade SQL of the given revisions (all of them, oldest first, by default).

    Uses the .squawk.toml next to alembic.ini when there is one. A drop the revision declares in its `data_loss`
    is a reviewed decision, so squawk's ban-drop-table / ban-drop-column findings for it are left out.
    SQL that cannot be rendered offline is not linted: `render_failures` tells which and why.
    """
    scripts = session.scripts
    if revisions is None:
        revisions = [script.revision for script in history.in_order(scripts)]
    chosen = [revision_script(scripts, revision) for revision in revisions]
    sql_of = _rendered_sql(session, chosen)
    found = squawk_findings(sql_of, _squawk_config(session.config))
    findings = []
    for script in chosen:
        ignored, ignore_findings = _ignores(Path(script.path), script.revision)
        findings += ignore_findings
        for direction in [d for d in DIRECTIONS if (script.revision, d) in found]:
            declared = _declared_loss(script, direction)
            skipped = ignored | UNDOING_RULES.get(direction, frozenset())
            kept = [f for f in found[script.revision, direction] if f.rule not in skipped]
            findings += [f for f in kept if not _declared_drop(f, declared)]
    return findings


def _rendered_sql(session: Session, chosen: list[Script]) -> dict[Step, str]:
    sql_of = {}
    for script in chosen:
        for direction in DIRECTIONS:
            try:
                sql_of[script.revision, direction] = render_revision_sql(session, script.revision, direction)
            except CannotRender:
                continue
    return sql_of


def _run_squawk(paths: list[Path], in_transaction: bool, config_path: Path | None) -> list[dict]:
    arguments = [
        squawk_executable(),
        "--reporter",
        "json",
        "--assume-in-transaction" if in_transaction else "--no-assume-in-transaction",
        # Without a config file of ours, squawk's defaults: an empty file stops it from finding one in the cwd.
        "--config",
        str(config_path) if config_path is not None else os.devnull,
        *map(str, paths),
    ]
    try:
        result = subprocess.run(arguments, capture_output=True, text=True, check=False)
    except OSError as error:  # not executable, wrong architecture
        raise SquawkUnavailable(f"squawk cannot run: {error}") from None
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        answer = first_line(result.stderr) or first_line(result.stdout) or "no output"
        raise SquawkUnavailable(f"squawk failed (exit {result.returncode}): {answer}") from None


def _squawk_config(config: Config) -> Path | None:
    """The project's .squawk.toml: beside its alembic.ini, else at its repository's root; else ours."""
    ini_dir = Path(config.config_file_name or "alembic.ini").resolve().parent
    places = [place / CONFIG_FILE for place in (ini_dir, repository_root(ini_dir)) if place]
    return next((path for path in places if path.is_file()), DEFAULT_CONFIG)


def _declared_drop(finding: LintFinding, declared: set[str]) -> bool:
    """Whether everything the finding's statement drops is declared lost (a column also by declaring its table)."""
    return (
        finding.rule in DROP_RULES
        and bool(finding.drops)
        and all(dropped in declared or dropped.partition(".")[0] in declared for dropped in finding.drops)
    )


def _declared_loss(script: Script, direction: str) -> set[str]:
    """What the script's data_loss declares, read as the walk reads it; a malformed one (the walk's failure) none."""
    try:
        return declared_entries(getattr(script.module, "data_loss", None), direction)
    except ValueError:
        return set()


def _ignores(path: Path, revision: str) -> tuple[set[str], list[LintFinding]]:
    """squawk rules silenced in a revision script, and a finding for each ignore comment without a reason."""
    ignored, findings = set(), []
    for comment in ignore_comments(path.read_text(encoding="utf-8"), "squawk"):
        if comment.reason:
            ignored.add(comment.rule)
        else:
            findings.append(
                LintFinding(
                    revision=revision,
                    direction="upgrade",
                    rule="invalid-ignore",
                    statement="",
                    message=f"{path.name}:{comment.line}: squawk ignore of {comment.rule} has no reason",
                    help=f"write it as: # squawk: ignore {comment.rule} -- why this is safe here",
                    severity="error",
                )
            )
    return ignored, findings


# --- SQL text ------------------------------------------------------------------------------------------------------


def _first_lines(statements: list[str]) -> list[int]:
    """0-based line on which each statement starts once they are joined with a blank line between them."""
    lines, line = [], 0
    for statement in statements:
        lines.append(line)
        line += statement.count("\n") + 2
    return lines
