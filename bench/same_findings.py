"""What the walk finds, without its timings: to check that a change for speed changes no finding.

    python bench/same_findings.py record before.json     # walk tests/histories/*, our history, a generated one
    python bench/same_findings.py record after.json
    python bench/same_findings.py diff before.json after.json
    python bench/same_findings.py diff-reports report-before.json report-after.json   # two CLI --json reports

Per revision: the legs' verdicts, the findings (with numbers of seconds blanked), rows checked, and the locks held
(table, mode, statement). Walked in one process, on one ephemeral server, rows 5, drift included.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

from thirdai_platform.migrate.server.ephemeral import start_server  # noqa: E402
from thirdai_platform.migrate.session import load_session  # noqa: E402
from thirdai_platform.migrate.walk.parallel import walk_database  # noqa: E402
from thirdai_platform.migrate.walk.walker import WalkOptions  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SECONDS = re.compile(r"\d+(\.\d+)?(e-?\d+)? ?s\b")
# now() in a migration: another value in every run
STAMP = re.compile(r"'?\d{4}-\d\d-\d\d[ T][\d:.+]+'?")


def without_times(value):
    if isinstance(value, str):
        return re.sub(r"0x[0-9a-f]+", "0x…", SECONDS.sub("N s", STAMP.sub("STAMP", value)))  # a repr's address
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if "seconds" not in k and k != "sample"}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def walked(ini: Path, url) -> dict:
    report = walk_database(load_session(ini, url=url), url, WalkOptions(rows=5, seed=0))
    revisions = {
        r.revision: {
            "legs": r.to_dict()["legs"],
            "rows_checked": r.rows_checked,
            "findings": [f.to_dict() for f in r.findings],
            "locks": {leg: [(h["table"], h["mode"], h["statement"]) for h in held] for leg, held in r.locks.items()},
        }
        for r in report.revisions
    }
    return without_times({"findings": [f.to_dict() for f in report.findings], "revisions": revisions})


def record(out: Path) -> None:
    with start_server() as server, tempfile.TemporaryDirectory() as scratch:
        projects = sorted(REPO.glob("tests/histories/*/alembic.ini")) + [
            REPO / "alembic.ini",
            generate(60, Path(scratch) / "generated"),
        ]
        results = {}
        for ini in projects:
            name = ini.parent.name if ini.parent != REPO else "ours"
            try:
                results[name] = walked(ini, server.create_database())
            except Exception as error:  # a history the walk refuses as a whole: that is its result too
                results[name] = {"error": f"{type(error).__name__}: {error}"}
            print(name, flush=True)
    out.write_text(json.dumps(results, indent=1, sort_keys=True, default=str))


def findings_of_report(report: dict) -> dict:
    """A CLI --json report as `record` keeps a walk: legs, findings, rows checked and locks per revision."""
    return {
        "findings": report["findings"],
        "revisions": {
            r["revision"]: {
                "legs": r["legs"],
                "rows_checked": r["rows_checked"],
                "findings": r["findings"],
                "locks": {
                    leg: [(h["table"], h["mode"], h["statement"]) for h in held] for leg, held in r["locks"].items()
                },
            }
            for r in report["revisions"]
        },
    }


def diff(before: Path, after: Path, reports: bool = False) -> int:
    def normalised(path: Path) -> list[str]:
        found = json.loads(path.read_text())
        found = findings_of_report(found) if reports else found
        return json.dumps(without_times(found), indent=1, sort_keys=True).splitlines()

    lines = list(difflib.unified_diff(normalised(before), normalised(after), str(before), str(after), lineterm=""))
    print("\n".join(lines) or "same findings")
    return 1 if lines else 0


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(Path(sys.argv[2]))
    else:
        raise SystemExit(diff(Path(sys.argv[2]), Path(sys.argv[3]), reports=sys.argv[1] == "diff-reports"))
