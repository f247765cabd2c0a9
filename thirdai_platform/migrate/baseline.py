"""Adopting a long history: the failures it has today are known, and only what is new or changed fails the run.

A baseline says which failures are known:
- `[tool.thirdai-migrate] baseline = "REV"` in the project's pyproject.toml (the one next to its alembic.ini, else
  its repository's): every failure of REV and its ancestors;
- a baseline file (`--write-baseline FILE` writes today's failures; `--baseline FILE`, or `baseline-file = "FILE"`
  in that pyproject.toml, reads it): each failure listed by revision, check and a key of its message that leaves
  out what changes from run to run (row counts, times, sample values); a failure whose message changes is new;
- `--changed-only` (a pull request's run): every failure of the revisions whose files are as on the default branch
  and that come after no changed revision.
A known failure keeps its place in the report with the severity `known`: shown apart, it does not fail the run.
The walk itself is the same: every revision is still walked, for the data to flow to the next.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from thirdai_platform.errors import UserError
from thirdai_platform.migrate import history
from thirdai_platform.migrate.findings import FAILURE, KNOWN, Finding, WalkReport
from thirdai_platform.migrate.git_changes import changed_files, repository_root
from thirdai_platform.migrate.session import Session

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SETTINGS = ("tool", "thirdai-migrate")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")  # a count, a time, a line number; not a part of a name
ADDRESS = re.compile(r"\b0x[0-9a-f]+\b")  # a Python object's address in a repr: other in every run
HEADER = """\
# Known failures of this history, written by `python -m thirdai_platform.migrate --write-baseline`.
# Each is accepted (reported as known, not failing the run) for as long as it stays the same; say why in its
# reason. Fix one and delete its entry; a failure not listed here fails the run.
"""

Entry = tuple[str, str, str]  # (revision, or "" for the whole history; check; key)


def stable_key(message: str) -> str:
    """The message without what changes from one run to the next: numbers become #, a sample row's values go."""
    return NUMBER.sub("#", ADDRESS.sub("0x#", message).split("; changed: ")[0].split(" (the row is gone)")[0]).strip()


def entry_of(finding: Finding) -> Entry:
    return finding.revision or "", finding.check, stable_key(finding.message)


@dataclass(frozen=True)
class Baseline:
    revisions: frozenset[str] = frozenset()  # every failure of these is known
    listed: frozenset[Entry] = frozenset()  # these failures are known

    def covers(self, finding: Finding) -> bool:
        return finding.revision in self.revisions or entry_of(finding) in self.listed

    def __or__(self, other: Baseline) -> Baseline:
        return Baseline(self.revisions | other.revisions, self.listed | other.listed)


def apply_baseline(report: WalkReport, baseline: Baseline) -> WalkReport:
    """The report with the failures the baseline covers made known; everything else as it was."""

    def judged(findings: list[Finding]) -> list[Finding]:
        return [replace(f, severity=KNOWN) if f.severity == FAILURE and baseline.covers(f) else f for f in findings]

    return replace(
        report,
        findings=judged(report.findings),
        revisions=[replace(result, findings=judged(result.findings)) for result in report.revisions],
    )


# --- the baseline file ---------------------------------------------------------------------------------------------


def read_baseline(path: Path) -> tuple[Baseline, dict[Entry, str]]:
    """The failures a baseline file lists, and the reason given for each."""
    try:
        known = tomllib.loads(path.read_text(encoding="utf-8")).get("known", [])
        reasons = {(item.get("revision", ""), item["check"], item["key"]): item.get("reason", "") for item in known}
    except OSError as error:
        raise UserError(f"cannot read the baseline {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as error:
        raise UserError(f"{path} is not a baseline file (write one with --write-baseline): {error}") from None
    return Baseline(listed=frozenset(reasons)), reasons


def write_baseline(path: Path, report: WalkReport) -> int:
    """Write today's failures (known ones included) to path, keeping the reasons already given there; returns how
    many it lists."""
    reasons = read_baseline(path)[1] if path.is_file() else {}
    failing = sorted({entry_of(f) for f in report.all_findings() if f.severity in (FAILURE, KNOWN)})
    blocks = [
        f"[[known]]\nrevision = {quoted(revision)}\ncheck = {quoted(check)}\nkey = {quoted(key)}\n"
        f"reason = {quoted(reasons.get((revision, check, key), ''))}\n"
        for revision, check, key in failing
    ]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HEADER + "".join(f"\n{block}" for block in blocks), encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write the baseline {path}: {error.strerror or error}") from None
    return len(failing)


def quoted(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(text, ensure_ascii=False)


# --- where a baseline comes from -----------------------------------------------------------------------------------


def project_settings(config: Config) -> tuple[dict, Path | None]:
    """[tool.thirdai-migrate] of the pyproject.toml next to alembic.ini, else of the repository root's; and its
    directory."""
    ini_dir = Path(config.config_file_name or "alembic.ini").resolve().parent
    for directory in dict.fromkeys([ini_dir, repository_root(ini_dir)]):
        candidate = directory / "pyproject.toml" if directory else None
        if candidate is None or not candidate.is_file():
            continue
        try:
            settings = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise UserError(f"cannot read {candidate}: {error}") from None
        for key in SETTINGS:
            settings = settings.get(key, {}) if isinstance(settings, dict) else {}
        if settings:
            return settings, directory
    return {}, None


def up_to(scripts: ScriptDirectory, revision: str, where: str) -> frozenset[str]:
    """The revision and all its ancestors."""
    try:
        return frozenset(history.ancestors(scripts, revision))
    except (CommandError, RevisionError):
        raise UserError(f"{where}: baseline = {revision!r} is no revision of the history") from None


def unchanged_revisions(scripts: ScriptDirectory, start: Path) -> frozenset[str]:
    """The revisions neither changed since the merge base nor descended from a changed one: a changed revision can
    break the revisions after it (their data, their schema), so those are gated with it."""
    changed_paths = changed_files(start)
    every = history.in_order(scripts)
    gated = history.descendants(scripts, [s.revision for s in every if Path(s.path).resolve() in changed_paths])
    return frozenset(s.revision for s in every if s.revision not in gated)


def chosen_baseline(session: Session, baseline_file: Path | None = None, changed_only: bool = False) -> Baseline:
    """Every source of known failures the project and the command line name, together; empty when none does."""
    settings, directory = project_settings(session.config)
    baseline = Baseline()
    if isinstance(settings.get("baseline"), str):
        where = str(directory / "pyproject.toml")
        baseline |= Baseline(revisions=up_to(session.scripts, settings["baseline"], where))
    for path in (baseline_file, directory / settings["baseline-file"] if "baseline-file" in settings else None):
        if path is not None:
            baseline |= read_baseline(path)[0]
    if changed_only:
        baseline |= Baseline(revisions=unchanged_revisions(session.scripts, Path(session.scripts.dir)))
    return baseline


def gate(report: WalkReport, baseline: Baseline, write_to: Path | None = None, say=print) -> WalkReport:
    """The report as judged: known failures made known; with write_to, today's failures written there first (and
    so all of them known)."""
    if write_to is not None:
        count = write_baseline(write_to, report)
        say(f"wrote {count} known failures to {write_to}: give each a reason, then walk with --baseline {write_to}")
        baseline |= read_baseline(write_to)[0]
    return apply_baseline(report, baseline)
