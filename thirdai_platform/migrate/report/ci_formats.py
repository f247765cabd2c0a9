"""What CI systems read besides JUnit: GitHub Actions workflow commands (annotations on the revision scripts) and a
SARIF 2.1.0 log for code-scanning UIs. A failure is an error, a limit a warning; notes and known failures are in
the console and the other reports only, but for the deploy's notes (locks that held up live traffic, a running
version broken by the new schema), which SARIF carries as notes, with each revision's deploy numbers in the run's
properties.

GitHub's rules for a workflow command: `::error file=F,line=L,title=T::MESSAGE`, where the message escapes `%`,
CR and LF as %25, %0D, %0A, and a property also `:` and `,` as %3A, %2C.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from thirdai_platform.migrate.baseline import entry_of
from thirdai_platform.migrate.findings import FAILURE, LIMIT, NOTE, ROLLING_CHECKS, Finding, WalkReport
from thirdai_platform.migrate.report.files import relative_to_repository, write_atomically
from thirdai_platform.migrate.walk.deploy.verdict import DEPLOY, KINDS

LEVELS = {FAILURE: "error", LIMIT: "warning"}
SARIF_LEVELS = {**LEVELS, NOTE: "note"}
DEPLOY_CHECKS = (DEPLOY, *ROLLING_CHECKS)
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "thirdai-migrate"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def reported(report: WalkReport) -> list[Finding]:
    """The findings CI annotates: failures and limits, in the console's order."""
    return [f for f in report.all_findings() if f.severity in LEVELS]


def in_sarif(report: WalkReport) -> list[Finding]:
    """What CI annotates, and the deploy's notes."""
    return [
        f for f in report.all_findings() if f.severity in LEVELS or (f.severity == NOTE and f.check in DEPLOY_CHECKS)
    ]


def text_of(finding: Finding) -> str:
    """The finding as the console says it, without its '[failure] ' mark (the level says it)."""
    return str(finding).split("] ", 1)[1]


def place_of(report: WalkReport, finding: Finding) -> tuple[str, int] | None:
    """(the script relative to the repository, a line); for a finding about the whole history, env.py (lint) or
    the config."""
    info = report.run
    if info is None:
        return None
    place = info.scripts.get(finding.revision or "")
    if place is not None:
        return relative_to_repository(place.path), place.line_for(finding)
    if finding.check == "lint" and info.env_file and Path(info.env_file).is_file():
        return relative_to_repository(info.env_file), 1  # a setting every revision lacks: env.py sets it once
    return (relative_to_repository(info.config_file), 1) if info.config_file else None


def github_annotations(report: WalkReport) -> list[str]:
    """One workflow command per failure (::error) and limit (::warning)."""
    lines = []
    for finding in reported(report):
        title = f"migration {finding.severity}: {' '.join(filter(None, [finding.revision, finding.check]))}"
        properties = [f"title={escape_property(title)}"]
        if where := place_of(report, finding):
            properties[:0] = [f"file={escape_property(where[0])}", f"line={where[1]}"]
        lines.append(f"::{LEVELS[finding.severity]} {','.join(properties)}::{escape_data(text_of(finding))}")
    return lines


def rule_id(finding: Finding) -> str:
    """'review/drop-add-looks-like-rename', 'lint/ban-drop-column', 'walk/upgrade-again', 'limit/seed',
    'deploy/blocked-writes', 'deploy/rolling-deploy'."""
    if finding.check == DEPLOY:
        kinds = [kind for kind, says in KINDS.items() if finding.message.startswith(says)]
        return f"deploy/blocked-{kinds[0]}s" if kinds else DEPLOY
    if finding.check in ROLLING_CHECKS:
        return f"deploy/{finding.check.replace(' ', '-')}"
    if finding.severity == FAILURE and finding.check in ("review", "lint"):
        return f"{finding.check}/{finding.message.split(':')[0].split(' ')[0]}"
    kind = "walk" if finding.severity == FAILURE else "limit"
    return f"{kind}/{finding.check.replace(' ', '-')}"


def sarif_rule(rule: str, finding: Finding) -> dict:
    what = {LIMIT: "what the walk could not check", NOTE: "what a deploy does to live traffic"}.get(
        finding.severity, "a defect of the migration"
    )
    return {
        "id": rule,
        "name": rule.replace("/", "-"),
        "shortDescription": {"text": f"{finding.check}: {what}"},
        "defaultConfiguration": {"level": SARIF_LEVELS[finding.severity]},
    }


def sarif_result(report: WalkReport, finding: Finding, rule_index: int) -> dict:
    key = "\n".join(entry_of(finding))  # what stays the same from run to run: code scanning tracks it by this
    result = {
        "ruleId": rule_id(finding),
        "ruleIndex": rule_index,
        "level": SARIF_LEVELS[finding.severity],
        "message": {"text": text_of(finding)},
        "partialFingerprints": {"thirdaiMigrateFinding/v1": hashlib.sha256(key.encode()).hexdigest()},
    }
    if where := place_of(report, finding):
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": where[0], "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": where[1]},
                }
            }
        ]
    return result


def sarif_log(report: WalkReport) -> dict:
    rules: dict[str, dict] = {}
    results = []
    for finding in in_sarif(report):
        rule = rule_id(finding)
        rules.setdefault(rule, sarif_rule(rule, finding))
        results.append(sarif_result(report, finding, list(rules).index(rule)))
    driver = {
        "name": TOOL_NAME,
        "version": report.run.tool_version if report.run else "unknown",
        "rules": list(rules.values()),
    }
    deploys = [{"revision": result.revision, **result.deploy_summary()} for result in report.revisions]
    run = {"tool": {"driver": driver}, "results": results, "properties": {"revisions": deploys}}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def write_sarif(report: WalkReport, path: Path) -> None:
    text = json.dumps(sarif_log(report), indent=2, ensure_ascii=False)
    write_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))
