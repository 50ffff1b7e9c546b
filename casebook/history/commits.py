"""The git history of every case file, from one `git log` pass over the casebook.

One pass over the whole history costs a fraction of a second where one `git log` per file would
cost minutes; renames are followed, so a file keeps its history when it moves. Outside a git
repository, or without git, every history is empty: nothing here ever fails a build.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class Commit:
    """A commit that touched a case file, as its page lists it."""

    date: str  # ISO date of the commit
    author: str
    subject: str
    hash: str  # short hash


MAX_PER_FILE = 30
_SEPARATOR = "\x1e"


def head(root: Path) -> str | None:
    """The HEAD commit (histories change only with it); None outside git."""
    try:
        return _git(root, "rev-parse", "HEAD").strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def histories(root: Path) -> dict[str, tuple[Commit, ...]]:
    """Case path (relative to the root, e.g. `cases/rossi.md`) → its commits, newest first."""
    try:
        prefix = _git(root, "rev-parse", "--show-prefix").strip()
        log = _git(root, "log", "-M", "--name-status", "--date=short",
                   f"--format={_SEPARATOR}%h%x00%ad%x00%an%x00%s", "--", "cases")
    except (OSError, subprocess.CalledProcessError):
        return {}
    return parse_log(log, prefix)


def parse_log(log: str, prefix: str = "") -> dict[str, tuple[Commit, ...]]:
    found: dict[str, list[Commit]] = defaultdict(list)
    later_name: dict[str, str] = {}  # a path as it was → the path it has now
    for block in log.split(_SEPARATOR)[1:]:
        header, _, changes = block.partition("\n")
        short, day, author, subject = [*header.split("\x00"), "", "", "", ""][:4]
        commit = Commit(date=day, author=author, subject=subject, hash=short)
        for line in changes.splitlines():
            parts = line.split("\t")
            if len(parts) < 2:
                continue
            status, paths = parts[0], parts[1:]
            now = later_name.get(paths[-1], paths[-1])
            if status.startswith(("R", "C")) and len(paths) == 2:
                later_name[paths[0]] = now
            relative = now.removeprefix(prefix)
            if len(found[relative]) < MAX_PER_FILE:
                found[relative].append(commit)
    return {path: tuple(commits) for path, commits in found.items()}


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, check=True, timeout=60,
    )
    return result.stdout.decode("utf-8", errors="replace")
