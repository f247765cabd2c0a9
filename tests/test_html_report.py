"""The HTML page (`--html FILE`): one self-contained file, the revision graph with its branches and merges, each
revision's verdict and findings, every text escaped."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from thirdai_platform.migrate.findings import FAILURE, NOTE, Finding, RevisionResult, RunInfo, ScriptPlace, WalkReport
from thirdai_platform.migrate.report.html import graph_of, html_page, lanes, write_html

REPO = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert('x')</script> & \"quoted\""
# 0001 branches into 0002_a and 0002_b, which 0003_merge joins; 0004_c follows the merge, and 0005_d branches off
# 0002_b: two heads.
PARENTS = {
    "0005_d": ("0002_b",),
    "0004_c": ("0003_merge",),
    "0003_merge": ("0002_a", "0002_b"),
    "0002_b": ("0001",),
    "0002_a": ("0001",),
    "0001": (),
}  # heads first, as Alembic walks them


class Page(HTMLParser):
    """The tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def named(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def branched_report() -> WalkReport:
    ok = {"upgrade": "ok", "downgrade": "ok", "upgrade again": "ok"}
    places = {revision: ScriptPlace(f"/x/{revision}.py", parents=parents) for revision, parents in PARENTS.items()}
    results = [
        RevisionResult(revision, f"step {revision}", dict(ok), {"upgrade": 0.5}) for revision in reversed(PARENTS)
    ]
    merge = results[3]
    merge.findings.append(Finding("0003_merge", "downgrade", FAILURE, f"downgrade lost rows of {HOSTILE}", table="t"))
    merge.locks = {
        "upgrade": [
            {
                "table": "models",
                "mode": "ACCESS EXCLUSIVE",
                "seconds": 0.25,
                "statement": "ALTER TABLE models ADD COLUMN x int",
                "statement_seconds": 0.1,
            }
        ]
    }
    merge.blocked = {
        "upgrade": [
            {
                "table": "models",
                "kind": "write",
                "longest": 4.8,
                "total": 5.0,
                "waits": 2,
                "lock": "ACCESS EXCLUSIVE",
                "statement": "ALTER TABLE models ADD COLUMN x int",
            }
        ]
    }
    results[1].findings.append(Finding("0002_a", "rolling deploy", NOTE, "the running version reads t.y"))
    return WalkReport(
        results, [Finding(None, "heads", FAILURE, "2 heads: 0004_c, 0005_d")], 3.0, RunInfo("9.9.9", scripts=places)
    )


def test_branches_and_merges_get_columns_of_their_own_and_lines_never_cross_a_revision():
    graph = graph_of(branched_report())
    assert list(graph) == ["0001", "0002_a", "0002_b", "0003_merge", "0004_c", "0005_d"]
    placed = lanes(graph)
    assert placed["0001"] == placed["0002_a"] == placed["0003_merge"] == placed["0004_c"]
    assert placed["0002_b"] != placed["0002_a"]  # the branch, beside its sibling
    # 0005_d's line comes down from 0002_b (row 2) past the merge and 0004_c: not in their column
    assert placed["0005_d"] not in (placed["0003_merge"], placed["0004_c"])


def test_the_page_draws_every_edge_names_every_revision_and_shows_a_failing_revisions_finding(tmp_path):
    path = tmp_path / "reports" / "migrations.html"
    write_html(branched_report(), path)

    page = Page(path.read_text(encoding="utf-8"))
    text = "".join(page.text)
    assert len(page.named("path")) == sum(len(parents) for parents in PARENTS.values()) == 6
    assert len(page.named("circle")) == 6
    for revision in PARENTS:
        assert revision in text and {"id": f"rev-{revision}"} in page.named("section")
    assert "0003_merge  failed" in text and "0004_c  passed" in text and "writes wait 4.8 s" in text
    assert f"[failure] 0003_merge downgrade: downgrade lost rows of {HOSTILE}" in text
    assert "2 heads: 0004_c, 0005_d" in text and "ALTER TABLE models ADD COLUMN x int" in text
    assert "rolling deploy safe: no" in text and "0002_a  passed  upgrade 0.50s · rolling deploy unsafe" in text
    assert "migrations: FAILED" in text
    assert [bar["style"] for bar in page.named("span") if bar.get("class") == "bar"] == ["width:300px"]


def test_every_text_is_escaped_and_the_page_needs_nothing_outside_itself():
    html = html_page(branched_report())
    page = Page(html)

    assert "<script" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;" in html
    assert not page.named("script") and not page.named("link") and not page.named("img")
    assert all(
        not value.startswith(("http:", "https:", "//"))
        for _, attrs in page.tags
        for name, value in attrs.items()
        if name in ("href", "src") and value
    )


def test_the_walk_writes_the_page_of_a_history_with_two_heads(tmp_path):
    path = tmp_path / "walk.html"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "thirdai_platform.migrate",
            "--config",
            str(REPO / "tests" / "histories" / "two_heads" / "alembic.ini"),
            "--no-lint",
            "--no-drift",
            "--rows",
            "2",
            "--html",
            str(path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 1, finished.stdout + finished.stderr  # two heads fail the history

    page = Page(path.read_text(encoding="utf-8"))
    text = "".join(page.text)
    assert len(page.named("path")) == 2 and len(page.named("circle")) == 3
    assert all(revision in text for revision in ("0001_teams_users", "0002_team_slug", "0002_user_email"))
    assert "heads" in text
