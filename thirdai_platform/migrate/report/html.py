"""The walk as one self-contained HTML page (`--html FILE`): inline CSS and SVG, no script, no external asset.

At the top the revision graph, parents above children, branches and merges drawn from each script's
down_revision, each revision with its verdict, its legs' times and its longest waits; below, per revision, its
findings, the locks each leg held, and a bar of the time live reads and writes waited per table. Every text is
escaped: a finding quotes SQL and values, which may hold anything.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from thirdai_platform.migrate.findings import FAILURE, KNOWN, LEGS, LIMIT, NOTE, RevisionResult, WalkReport
from thirdai_platform.migrate.report.files import write_atomically
from thirdai_platform.migrate.walk.deploy.verdict import KINDS, shown, waits_of

ROW, LANE, RADIUS = 26, 18, 6  # the graph's geometry, in pixels
COLOURS = {"failed": "#c62828", "known": "#1565c0", "passed": "#2e7d32", "not walked": "#9e9e9e"}
SEVERITY_ORDER = (FAILURE, KNOWN, LIMIT, NOTE)
STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #212121; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.failed { color: #c62828; } .passed { color: #2e7d32; } .known { color: #1565c0; } .not-walked { color: #9e9e9e; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ddd; padding: 2px 8px;
  text-align: left; vertical-align: top; } code { font-size: 12px; } li code { white-space: pre-wrap; }
li.failure { color: #c62828; } li.limit { color: #6a1b9a; } li.note { color: #795548; } li.known { color: #1565c0; }
.bar { background: #ef6c00; height: 10px; display: inline-block; min-width: 2px; }
svg text { font: 12px system-ui, sans-serif; }
"""

Graph = dict[str, tuple[str, ...]]  # revision → its parents, in order: parents before children


def verdict_of(result: RevisionResult | None) -> str:
    if result is None:
        return "not walked"
    if result.failed:
        return "failed"
    return "known" if any(f.severity == KNOWN for f in result.findings) else "passed"


def graph_of(report: WalkReport) -> Graph:
    """Every revision of the history with its parents, oldest first (the run's scripts, listed heads first); the
    revisions walked when the run did not say."""
    places = report.run.scripts if report.run else {}
    if not places:
        return {result.revision: () for result in report.revisions}
    return {revision: tuple(p for p in places[revision].parents if p in places) for revision in reversed(places)}


def free(reserved: dict[int, list[tuple[int, int]]], lane: int, start: int, end: int) -> bool:
    return all(end < first or start > last for first, last in reserved.get(lane, []))


def held_until(graph: Graph, rows: dict[str, int], children: dict[str, list[str]], revision: str) -> int:
    """The last row a revision's column is taken for: the row of the child continuing it, or the row before a merge
    it joins as another parent (a branch leaves at once, in a column of its own)."""
    until = rows[revision]
    continuing = next((c for c in children[revision] if graph[c][0] == revision), None)
    for child in children[revision]:
        if child == continuing:
            until = max(until, rows[child])
        elif graph[child][0] != revision:
            until = max(until, rows[child] - 1)
    return until


def lanes(graph: Graph) -> dict[str, int]:
    """A column per line of descent: a child continues its first parent's column (the first such child), a branch
    or a root takes the leftmost column free from the row after its parent to its own; a column stays taken until
    the row of the child continuing it, or of the merge it joins."""
    rows = {revision: row for row, revision in enumerate(graph)}
    children: dict[str, list[str]] = {revision: [] for revision in graph}
    for revision, parents in graph.items():
        for parent in parents:
            children[parent].append(revision)
    placed: dict[str, int] = {}
    reserved: dict[int, list[tuple[int, int]]] = {}
    for revision, parents in graph.items():
        row, first = rows[revision], parents[0] if parents else None
        continues = first is not None and next(c for c in children[first] if graph[c][0] == first) == revision
        if continues:
            lane = placed[first]
        else:
            start = rows[first] + 1 if first else row
            lane = next(lane for lane in range(len(graph) + 1) if free(reserved, lane, start, row))
            reserved.setdefault(lane, []).append((start, row))
        placed[revision] = lane
        reserved.setdefault(lane, []).append((row, held_until(graph, rows, children, revision)))
    return placed


def edge(graph: Graph, rows: dict[str, int], placed: dict[str, int], parent: str, child: str) -> str:
    """A straight line down a column; a branch leaves its parent's row for its own column; a merge's other parent
    comes down its column to the merge's row."""
    x1, y1 = LANE * placed[parent] + LANE / 2, ROW * rows[parent] + ROW / 2
    x2, y2 = LANE * placed[child] + LANE / 2, ROW * rows[child] + ROW / 2
    if x1 == x2:
        path = f"M{x1},{y1} L{x2},{y2}"
    elif graph[child][0] == parent:  # a branch
        path = f"M{x1},{y1} C{x1},{y1 + ROW / 2} {x2},{y1 + ROW / 2} {x2},{y1 + ROW} L{x2},{y2}"
    else:  # the merge's other parent
        path = f"M{x1},{y1} L{x1},{y2 - ROW} C{x1},{y2 - ROW / 2} {x2},{y2 - ROW / 2} {x2},{y2}"
    return f'<path d="{path}" fill="none" stroke="#757575" stroke-width="2"/>'


def graph_label(revision: str, result: RevisionResult | None) -> str:
    """'0002_x  failed  upgrade 0.50s · downgrade 2.00s · upgrade again 0.50s · writes wait 4.8 s · rolling deploy
    unsafe'."""
    if result is None:
        return f"{revision}  not walked"
    times = [f"{leg} {result.leg_seconds[leg]:.2f}s" for leg in LEGS if leg in result.leg_seconds]
    for kind in KINDS:
        if wait := result.longest_blocked(kind):
            times.append(f"{kind}s wait {shown(wait['longest'])}")
    if result.rolling_deploy_safe is False:
        times.append("rolling deploy unsafe")
    return f"{revision}  {verdict_of(result)}  {' · '.join(times)}"


def graph_svg(report: WalkReport) -> str:
    graph = graph_of(report)
    placed = lanes(graph)
    results = {result.revision: result for result in report.revisions}
    text_x = LANE * (max(placed.values(), default=0) + 1) + 8
    rows = {revision: row for row, revision in enumerate(graph)}
    parts = [edge(graph, rows, placed, parent, child) for child, parents in graph.items() for parent in parents]
    for row, revision in enumerate(graph):
        result = results.get(revision)
        x, y, colour = LANE * placed[revision] + LANE / 2, ROW * row + ROW / 2, COLOURS[verdict_of(result)]
        label = escape(graph_label(revision, result))
        parts.append(
            f'<a href="#{anchor(revision)}"><circle cx="{x}" cy="{y}" r="{RADIUS}" fill="{colour}"/>'
            f'<text x="{text_x}" y="{y + 4}" fill="{colour}">{label}</text></a>'
        )
    height, width = ROW * len(graph), text_x + 900
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="revision graph">{"".join(parts)}</svg>'
    )


def anchor(revision: str) -> str:
    return "rev-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in revision)


def findings_list(findings: list) -> str:
    ordered = sorted(findings, key=lambda f: SEVERITY_ORDER.index(f.severity) if f.severity in SEVERITY_ORDER else 9)
    items = "".join(f'<li class="{escape(f.severity)}"><code>{escape(str(f))}</code></li>' for f in ordered)
    return f"<ul>{items}</ul>" if items else "<p>no findings</p>"


def locks_table(result: RevisionResult) -> str:
    rows = [
        f"<tr><td>{escape(leg)}</td><td>{escape(lock['table'])}</td><td>{escape(lock['mode'])}</td>"
        f"<td>{lock['seconds']:.3f} s</td><td><code>{escape(lock.get('statement', ''))}</code></td></tr>"
        for leg in LEGS
        for lock in result.locks.get(leg, [])
    ]
    if not rows:
        return ""
    head = "<tr><th>leg</th><th>table</th><th>lock held</th><th>for</th><th>taken by</th></tr>"
    return f"<h3>locks</h3><table>{head}{''.join(rows)}</table>"


def blocked_bars(result: RevisionResult) -> str:
    """Per table and kind of traffic, its longest wait as a bar (scaled to this revision's longest)."""
    waits = [wait for kind in KINDS for wait in waits_of(result, kind)]
    if not waits:
        return ""
    longest = max(wait["longest"] for wait in waits) or 1.0
    rows = [
        f"<tr><td>{escape(KINDS[w['kind']])} {escape(w['table'])}</td><td>"
        f'<span class="bar" style="width:{max(1, round(300 * w["longest"] / longest))}px"></span> '
        f"{escape(shown(w['longest']))} ({escape(w['leg'])}, behind {escape(str(w.get('lock') or 'a lock'))})"
        f"</td></tr>"
        for w in waits
    ]
    return f"<h3>live traffic waited</h3><table>{''.join(rows)}</table>"


def revision_section(result: RevisionResult) -> str:
    verdict = verdict_of(result)
    legs = "".join(
        f"<td>{escape(leg)}: {escape(result.verdict(leg))}"
        f"{'' if leg not in result.leg_seconds else f' {result.leg_seconds[leg]:.2f} s'}</td>"
        for leg in LEGS
    )
    safe = {True: "yes", False: "no", None: "not tried"}[result.rolling_deploy_safe]
    return (
        f'<section id="{anchor(result.revision)}"><h2>{escape(result.revision)} '
        f'<span class="{verdict.replace(" ", "-")}">{escape(verdict)}</span></h2>'
        f"<p>{escape(result.message)}</p><table><tr>{legs}<td>rolling deploy safe: {safe}</td></tr></table>"
        f"{findings_list(result.findings)}{locks_table(result)}{blocked_bars(result)}</section>"
    )


def html_page(report: WalkReport, fail_on_limits: bool = False) -> str:
    verdict = "interrupted" if report.interrupted else "FAILED" if report.fails(fail_on_limits) else "passed"
    counts = ", ".join(f"{count} {severity}s" for severity, count in report.counts().items())
    history = f"<h2>the whole history</h2>{findings_list(report.findings)}" if report.findings else ""
    sections = "".join(revision_section(result) for result in report.revisions)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>migrations: {verdict}</title>'
        f"<style>{STYLE}</style></head><body><h1>migrations: "
        f'<span class="{"passed" if verdict == "passed" else "failed"}">{verdict}</span></h1>'
        f"<p>{len(report.revisions)} revisions walked, {escape(counts)}, {report.seconds:.1f} s</p>"
        f"{graph_svg(report)}{history}{sections}</body></html>\n"
    )


def write_html(report: WalkReport, path: Path, fail_on_limits: bool = False) -> None:
    page = html_page(report, fail_on_limits)
    write_atomically(path, lambda temp: temp.write_text(page, encoding="utf-8"))
