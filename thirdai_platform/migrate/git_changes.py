"""Which files a branch changes: those that differ from the merge base with the default branch (for --changed-only).

The working tree counts, uncommitted and untracked files included: a revision written but not yet committed is new.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from thirdai_platform.errors import UserError

DEFAULT_BRANCHES = ("origin/HEAD", "main", "master")


def repository_root(start: Path) -> Path | None:
    """The nearest directory at or above start holding .git (a directory, or a file in a worktree)."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def git(start: Path, *arguments: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *arguments], cwd=start, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UserError("--changed-only needs git, and git is not installed") from None


def merge_base(start: Path) -> str:
    for branch in DEFAULT_BRANCHES:
        found = git(start, "merge-base", "HEAD", branch)
        if found.returncode == 0:
            return found.stdout.strip()
    raise UserError(
        f"--changed-only compares with the default branch, but none of {', '.join(DEFAULT_BRANCHES)} "
        f"is known in {start} (fetch it)"
    )


def changed_files(start: Path) -> set[Path]:
    """Files differing from the merge base of HEAD and the default branch, as resolved paths."""
    top = git(start, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UserError(f"--changed-only needs a git checkout, and {start} is not in one")
    root = Path(top.stdout.strip())
    differing = git(root, "diff", "--name-only", "-z", merge_base(root), "--").stdout
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z").stdout
    return {(root / name).resolve() for name in (differing + untracked).split("\0") if name}
