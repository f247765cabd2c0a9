"""The review of one revision script: every rule's findings (rules.py) but those its ignore comments silence, and
the operations a reviewer should look at twice. A rule is silenced with `# review: ignore RULE-ID -- reason`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from thirdai_platform.migrate.review import syntax
from thirdai_platform.migrate.review.ignore_comments import ignore_comments
from thirdai_platform.migrate.review.rules import CHECKS, RAW_SQL_METHODS, RULES, rule_finding
from thirdai_platform.migrate.review.syntax import ParsedScript, ReviewFinding


def review_script(path: str | Path) -> list[ReviewFinding]:
    """Findings of every rule for one revision script, minus those silenced with a reasoned ignore comment."""
    script = syntax.load(path)
    raw = [finding for check in CHECKS for finding in check(script)]
    ignored, ignore_findings = _ignores(script)
    kept = [finding for finding in raw if finding.rule not in ignored]
    return sorted(kept + ignore_findings, key=lambda finding: (finding.line, finding.rule))


def risky_operations(path: str | Path) -> list[str]:
    """One line per operation a reviewer should look at twice: drops, type changes, enum changes, raw SQL."""
    script = syntax.load(path)
    lines = []
    for direction, function in script.functions.items():
        for call in syntax.calls(function):
            method = syntax.method(call)
            where = f"{direction} (line {call.lineno})"
            if method == "drop_table":
                lines.append(f"{where}: drops table {script.table_of(call)}")
            elif method == "drop_column":
                lines.append(f"{where}: drops column {script.table_of(call)}.{script.column_name_of(call)}")
            elif method == "alter_column" and syntax.keyword(call, "type_") is not None:
                column = f"{script.table_of(call)}.{script.column_name_of(call)}"
                lines.append(f"{where}: changes the type of {column} to {ast.unparse(syntax.keyword(call, 'type_'))}")
            elif method in ("create", "drop") and syntax.enum_name(syntax.receiver_enum(call, script)) is not None:
                lines.append(f"{where}: {method}s enum type {syntax.enum_name(syntax.receiver_enum(call, script))}")
            elif method == "EnumMigration":
                lines.append(f"{where}: changes enum labels ({syntax.shorten(ast.unparse(call))})")
            elif method in RAW_SQL_METHODS:
                lines.append(f"{where}: raw SQL {syntax.shorten(syntax.sql_text(call) or ast.unparse(call))}")
    return lines


def _ignores(script: ParsedScript) -> tuple[set[str], list[ReviewFinding]]:
    """Rule ids silenced by reasoned ignore comments, and findings for ignore comments that are not valid."""
    ignored, findings = set(), []
    for comment in ignore_comments(Path(script.path).read_text(encoding="utf-8"), "review"):
        rule = comment.rule
        if rule not in RULES:
            findings.append(
                rule_finding(script, "invalid-ignore", comment.line, f"ignore names an unknown rule {rule!r}")
            )
        elif not comment.reason:
            findings.append(
                rule_finding(
                    script,
                    "invalid-ignore",
                    comment.line,
                    f"ignore of {rule} needs a reason: # review: ignore {rule} -- why",
                )
            )
        else:
            ignored.add(rule)
    return ignored, findings
