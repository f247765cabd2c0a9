"""The deploy-safety table of a walk's JSON report, in Markdown (docs/deploy-safety.md):

    python -m thirdai_platform.migrate --rows 100000 --json reports/rehearsal.json
    python bench/deploy_table.py reports/rehearsal.json

One row per revision: its upgrade's time, the strongest lock the upgrade held (table, mode, how long), the longest
wait of the probe's reads and writes over the three legs (with the lock and the statement behind it) and whether the
running version survives the revision's schema.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HEADER = (
    "| revision | upgrade s | strongest lock of the upgrade | longest read wait | longest write wait | rolling deploy |\n"
    "|---|---|---|---|---|---|"
)


def lock_cell(locks: list[dict]) -> str:
    """The first lock the walk lists is the strongest (then the longest)."""
    if not locks:
        return "-"
    lock = locks[0]
    return f"{lock['mode']} on {lock['table']}, {lock['seconds']:.2f} s"


def wait_cell(wait: dict | None) -> str:
    if wait is None:
        return "-"
    statement = " ".join(str(wait.get("statement") or "").split())[:60]
    return f"{wait['seconds']:.2f} s on {wait['table']} ({wait['leg']}, {wait.get('lock')}: `{statement}`)"


def row(revision: dict) -> str:
    deploy = revision["deploy"]
    safe = {True: "safe", False: "**not safe**", None: "not tried"}[deploy["rolling_deploy_safe"]]
    cells = [
        revision["revision"],
        f"{revision['leg_seconds'].get('upgrade', 0):.2f}",
        lock_cell(revision["locks"].get("upgrade", [])),
        wait_cell(deploy["longest_blocked_read"]),
        wait_cell(deploy["longest_blocked_write"]),
        safe,
    ]
    return "| " + " | ".join(cells) + " |"


def main(report: Path) -> None:
    saved = json.loads(report.read_text())
    print(HEADER)
    for revision in saved["revisions"]:
        print(row(revision))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
