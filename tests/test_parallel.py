"""A walk split into parts, each on its own database in its own process, finds what the one-process walk finds."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url
from test_walk import HISTORIES, REPO_ROOT, walk_planted

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.findings import FAILURE, WalkReport
from thirdai_platform.migrate.render import DIRECTIONS
from thirdai_platform.migrate.session import load_session
from thirdai_platform.migrate.static_checks import revisions_in_range
from thirdai_platform.migrate.walk import parallel
from thirdai_platform.migrate.walk.parallel import ParallelWalk, parts_for, split
from thirdai_platform.migrate.walk.roundtrip import LEGS
from thirdai_platform.migrate.walk.walker import WalkOptions


def walk_in_parts(name: str, pg_server, parts: int) -> WalkReport:
    session = load_session(HISTORIES / name / "alembic.ini")
    databases = [pg_server.create_database() for _ in range(parts)]
    return ParallelWalk(session, databases, WalkOptions(rows=5), revisions_in_range(session)).collect()


def failed_checks(report: WalkReport) -> set[tuple[str | None, str]]:
    return {(f.revision, f.check) for f in report.all_findings() if f.severity == FAILURE}


def test_split_keeps_the_history_order_in_parts_of_about_equal_work():
    parts = split([f"r{i}" for i in range(10)], 3)

    assert [p.revisions for p in parts] == [("r0", "r1", "r2", "r3"), ("r4", "r5", "r6"), ("r7", "r8", "r9")]
    assert [(p.first, p.last) for p in parts] == [(True, False), (False, False), (False, True)]


@pytest.mark.parametrize("revisions, parts", [(50, 2), (400, 2), (100, 4), (7, 7), (9, 8)])
def test_a_later_part_climbs_first_so_it_walks_no_more_and_none_is_empty(revisions, parts):
    history = [f"r{i}" for i in range(revisions)]
    lengths = [len(p.revisions) for p in split(history, parts)]

    assert [r for p in split(history, parts) for r in p.revisions] == history
    assert min(lengths) >= 1 and lengths[0] == max(lengths)
    if revisions >= 50:
        assert lengths == sorted(lengths, reverse=True) and lengths[0] > lengths[-1]


def test_parts_follow_the_cpus_only_for_histories_long_enough():
    assert parts_for(10) == 1
    assert parts_for(10, jobs=3) == 3
    assert parts_for(2, jobs=8) == 2


@pytest.mark.parametrize(
    "name", ["clean", "rename_as_drop_add", "downgrade_missing", "leftovers", "drift", "two_heads"]
)
def test_a_walk_in_one_part_per_revision_finds_what_the_single_walk_finds(name, pg_server, database_url):
    single = walk_planted(name, database_url)
    parted = walk_in_parts(name, pg_server, parts=len(single.revisions))

    assert [r.revision for r in parted.revisions] == [r.revision for r in single.revisions]
    assert failed_checks(parted) == failed_checks(single)


def test_every_revision_of_a_later_part_is_walked_with_all_its_legs(pg_server):
    report = walk_in_parts("clean", pg_server, parts=3)

    assert [r.legs for r in report.revisions] == [{leg: "ok" for leg in LEGS}] * 3
    assert all(r.rows_checked > 0 for r in report.revisions)


def test_a_part_that_cannot_connect_is_a_user_error_not_a_hang(pg_server):
    session = load_session(HISTORIES / "clean" / "alembic.ini")
    unreachable = make_url("postgresql+psycopg2://nobody@127.0.0.1:1/nowhere")

    with pytest.raises(UserError, match="cannot connect to postgresql"):
        ParallelWalk(
            session, [pg_server.create_database(), unreachable], WalkOptions(rows=5), revisions_in_range(session)
        ).collect()


def test_the_lint_after_a_walk_in_parts_can_run_an_env_py_that_wants_a_database(tmp_path):
    """The planted histories' env.py connects even to render SQL offline: the lint hands it a database."""
    out = tmp_path / "out.json"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "thirdai_platform.migrate",
            "--jobs",
            "2",
            "--no-drift",
            "--json",
            str(out),
            "--config",
            str(HISTORIES / "rename_as_drop_add" / "alembic.ini"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert finished.returncode == 1 and "Traceback" not in finished.stderr, finished.stderr
    found = {(r["revision"], f["check"]) for r in json.loads(out.read_text())["revisions"] for f in r["findings"]}
    assert {("0002_full_name", "lint"), ("0002_full_name", "upgrade")} <= found


def test_a_part_killed_before_it_reports_is_an_error_not_a_hang(pg_server, monkeypatch):
    session = load_session(HISTORIES / "clean" / "alembic.ini")
    monkeypatch.setattr(parallel, "_walk_part", lambda *_: os._exit(9))  # as if the OOM killer took it

    with pytest.raises(RuntimeError, match=r"ended without a word \(exit code 9\)"):
        ParallelWalk(
            session, [pg_server.create_database() for _ in range(2)], WalkOptions(rows=5), revisions_in_range(session)
        ).collect()


def test_the_parts_hand_back_the_sql_they_rendered_so_the_lint_renders_nothing_again(pg_server):
    session = load_session(HISTORIES / "clean" / "alembic.ini")
    order = revisions_in_range(session)

    ParallelWalk(session, [pg_server.create_database() for _ in range(2)], WalkOptions(rows=5), order).collect()

    assert set(session.rendered) == {(revision, d) for revision in order for d in DIRECTIONS}
