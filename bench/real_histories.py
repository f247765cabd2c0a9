"""Walk public Alembic histories of other teams with our CLI, as a new user would, and tabulate what it says.

    python bench/real_histories.py [--only NAME] [--out DIR] [--timeout S]

Each history (bench/real_histories_prepare.py) is fetched from PyPI, set up as a project (their versions/, an
alembic.ini, a minimal env.py, the stubs its revisions need) and walked by `python -m thirdai_platform.migrate` in a
subprocess, in the history's own venv. Kept per history in DIR/NAME/: report.json, junit.xml, stdout.txt,
stderr.txt and classes.txt (the findings grouped by check and message shape, with one sample each); DIR/summary.json
holds the table. Results and judgements: docs/real-histories.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
from collections import defaultdict
from pathlib import Path

from real_histories_prepare import REPO, History, by_name, prepare, starting_schema, tool_snapshot, venv_for

TRACEBACK = "Traceback (most recent call last)"
COLUMNS = (
    "history",
    "version",
    "revisions",
    "failures",
    "limits",
    "notes",
    "seconds",
    "exit",
    "traceback",
    "stderr KB",
    "rerun",
)


def walk(
    ini: Path, python: Path, tool: Path | None, timeout: float, extra: tuple[str, ...] = (), tag: str = ""
) -> dict:
    """Run the CLI on one prepared history; what it printed goes next to its reports (named with tag)."""
    project = ini.parent
    # PYTHONPATH comes before the venv's editable install of the working tree.
    environment = {**os.environ, "PYTHONPATH": str(tool)} if tool else None
    command = [
        str(python),
        "-m",
        "thirdai_platform.migrate",
        "--config",
        str(ini),
        *extra,
        "--json",
        str(project / f"report{tag}.json"),
        "--junit-xml",
        str(project / f"junit{tag}.xml"),
    ]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=timeout, env=environment)
        code, stdout, stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        code, stdout, stderr = "timeout", as_text(expired.stdout), as_text(expired.stderr)
    seconds = time.monotonic() - started
    (project / f"stdout{tag}.txt").write_text(stdout)
    (project / f"stderr{tag}.txt").write_text(stderr)
    return {
        "exit": code,
        "seconds": round(seconds, 1),
        "traceback": TRACEBACK in stdout + stderr,
        "stderr KB": round(len(stderr.encode()) / 1024, 1),
    }


def as_text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def all_findings(report: dict) -> list[dict]:
    return report["findings"] + [finding for result in report["revisions"] for finding in result["findings"]]


def count(report: dict | None, severity: str) -> int | str:
    if report is None:
        return "-"
    return sum(finding["severity"] == severity for finding in all_findings(report))


def shape(message: str) -> str:
    """A message with its particulars (names, values, numbers, SQL) blanked, so findings of one kind group together."""
    text = re.sub(r"(CREATE|ALTER|DROP) .*$", r"\1 …", message)
    text = re.sub(r"(FOREIGN KEY|PRIMARY KEY|UNIQUE|CHECK) \(.*$", r"\1 (…)", text)
    text = re.sub(r"changed: ([\w\s,…]+) → .*$", "changed: …", text)  # a column list
    text = re.sub(r"'[^']*'|\"[^\"]*\"|\{[^}]*\}", "'…'", text)
    text = re.sub(r"\b[0-9a-f]{12}\b", "REV", text)
    text = re.sub(r"\b\d+(\.\d+)?\b", "N", text)
    text = re.sub(r"\b(of|in|on|to|into|table|column|index|constraint|type|relation|sequence)\s+[\w.]+", r"\1 X", text)
    return text[:110]


def classes(report: dict) -> list[tuple[str, str, str, list[dict]]]:
    """(severity, check, message shape, findings) groups, the largest first."""
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for finding in all_findings(report):
        groups[(finding["severity"], finding["check"], shape(finding["message"]))].append(finding)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0] != "failure", -len(item[1])))
    return [(severity, check, message, found) for (severity, check, message), found in ordered]


def write_classes(report: dict, path: Path) -> None:
    lines = []
    for severity, check, message, found in classes(report):
        sample = found[0]
        lines.append(f"## {len(found)} × [{severity}] {check}: {message}")
        lines.append(f"revisions: {', '.join(sorted({str(f['revision']) for f in found}))[:600]}")
        lines.append(f"sample: {sample['revision']}: {sample['message'][:600]}")
        for key in ("table", "column", "sample", "statement"):
            if sample.get(key):
                lines.append(f"  {key}: {json.dumps(sample[key], ensure_ascii=False, default=str)[:600]}")
        lines.append("")
    path.write_text("\n".join(lines))


def bench_one(history: History, out: Path, tool: Path | None, timeout: float) -> dict:
    row = {
        "history": history.name,
        "version": history.version,
        "driver": history.driver,
        "postgresql_only": history.postgresql_only,
    }
    try:
        ini = prepare(history, out)
        python = venv_for(history)
        start = starting_schema(history, python, ini.parent)
    except RuntimeError as error:
        return {**row, "exit": "not prepared", "error": str(error)}
    row["revisions on disk"] = len(list((ini.parent / "versions").glob("*.py")))  # Alembic does not recurse
    row.update(walk(ini, python, tool, timeout, start))
    report_file = ini.parent / "report.json"
    if not report_file.exists():
        # The CLI crashed before writing its report: the walk alone still tells what it found.
        rerun = walk(ini, python, tool, timeout, (*start, "--no-lint"), "-no-lint")
        row["rerun"] = f"--no-lint: exit {rerun['exit']}, {rerun['seconds']} s, traceback {rerun['traceback']}"
        report_file = ini.parent / "report-no-lint.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    row["revisions"] = len(report["revisions"]) if report else "-"
    for severity, column in (("failure", "failures"), ("limit", "limits"), ("note", "notes")):
        row[column] = count(report, severity)
    if report:
        write_classes(report, ini.parent / "classes.txt")
    return row


def print_table(rows: list[dict]) -> None:
    cells = [[str(row.get(column, "-")) for column in COLUMNS] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(COLUMNS)]
    print("  ".join(column.ljust(width) for column, width in zip(COLUMNS, widths)))
    for line in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)))
    for row in rows:
        if row.get("error"):
            print(f"{row['history']}: {row['error']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="one history by name, or 'repro' for the reproductions")
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "reports" / "real-histories",
        help="where the projects and their reports go (default: %(default)s)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per history (default: %(default)s)")
    parser.add_argument(
        "--tool",
        metavar="REF",
        help="walk with thirdai_platform as committed at this git ref (default: the working tree)",
    )
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    tool = tool_snapshot(args.tool) if args.tool else None
    rows = []
    for history in by_name(args.only):
        print(f"walking {history.name} {history.version} …", flush=True)
        rows.append({**bench_one(history, out, tool, args.timeout), "tool": tool.name if tool else "working tree"})
    summary = out / "summary.json"
    earlier = json.loads(summary.read_text()) if summary.exists() else {}
    summary.write_text(json.dumps({**earlier, **{row["history"]: row for row in rows}}, indent=2))
    print_table(rows)
    return 0 if all(isinstance(row.get("exit"), int) for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
