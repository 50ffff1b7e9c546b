"""The git history of every case file, from one `git log` pass over the casebook, kept in its
cache by HEAD commit.

One pass over the whole history costs a fraction of a second where one `git log` per file would
cost minutes; renames are followed, so a file keeps its history when it moves. The map is kept
in `.casebook-cache/` under the HEAD it was read at; after new commits on top of that HEAD,
only those are read (`git log OLD..HEAD`) and put in front of what was kept. Each file's history
has a key, a digest of what its page shows of it, so that a build renders again only the cases
whose own history changed, not every case after any commit. Outside a git repository, or
without git, every history is empty: nothing here ever fails a build.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from casebook.load.cache import CACHE_DIR, code_key, read_table, write_table


@dataclass(frozen=True, kw_only=True)
class Commit:
    """A commit that touched a case file, as its page lists it."""

    date: str  # ISO date of the commit
    author: str
    subject: str
    hash: str  # short hash


MAX_PER_FILE = 30
_SEPARATOR = "\x1e"
_TABLE = "history"


@dataclass(frozen=True, kw_only=True)
class Histories:
    """Every case file's history at one HEAD commit, with the keys builds compare."""

    head: str | None = None
    prefix: str = ""  # the casebook's folder inside the repository, as `cases/` paths start
    abbrev: int = 0  # the length of a short hash then: it grows with the repository
    by_path: dict[str, tuple[Commit, ...]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # path → digest of its history
    key: str = ""  # a digest of every path's key: equal keys, equal histories

    @classmethod
    def of(cls, head: str | None, prefix: str, abbrev: int,
           by_path: dict[str, tuple[Commit, ...]]) -> Histories:
        keys = {path: history_key(found) for path, found in sorted(by_path.items())}
        whole = hashlib.blake2b(digest_size=16)
        for path, key in keys.items():
            whole.update(f"{path}\0{key}\n".encode())
        return cls(head=head, prefix=prefix, abbrev=abbrev, by_path=by_path, keys=keys,
                   key=whole.hexdigest() if keys else "")


def history_key(found: tuple[Commit, ...]) -> str:
    """A digest of a file's history as its page shows it (a longer short hash, too)."""
    digest = hashlib.blake2b(digest_size=12)
    for commit in found:
        digest.update(f"{commit.hash}\0{commit.date}\0{commit.author}\0{commit.subject}\n"
                      .encode())
    return digest.hexdigest()


def head(root: Path) -> str | None:
    """The HEAD commit; None outside git."""
    try:
        return _git(root, "rev-parse", "HEAD").strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def histories(root: Path) -> dict[str, tuple[Commit, ...]]:
    """Case path (relative to the root, e.g. `cases/rossi.md`) → its commits, newest first."""
    return read_histories(root).by_path


def read_histories(root: Path) -> Histories:
    """Every case file's history and its key, from the cache when HEAD has not moved, from
    the new commits alone when they lie on top of the HEAD kept, else from a whole pass."""
    try:
        prefix, now, abbrev = _where(root)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return Histories()  # not a repository, no git, or no commit yet
    kept = _kept(root)
    if kept is not None and (kept.prefix, kept.abbrev) != (prefix, abbrev):
        kept = None  # the kept short hashes would differ from a whole pass's
    if kept is not None and kept.head == now:
        return kept
    try:
        found = None
        if kept is not None and kept.head is not None:
            found = _newer(root, kept, now)
        if found is None:
            found = parse_log(_log(root), prefix)
    except (OSError, subprocess.CalledProcessError):
        return Histories()
    result = Histories.of(now, prefix, abbrev, found)
    write_table(root / CACHE_DIR, _TABLE, {"code": code_key(), "histories": result})
    return result


def _where(root: Path) -> tuple[str, str, int]:
    """The casebook's folder in its repository (`""` at the top), the HEAD commit and the
    length of its short hash."""
    lines = _git(root, "rev-parse", "--show-prefix", "HEAD", "--short", "HEAD").split("\n")
    if len(lines) < 3 or not lines[1].strip():
        raise ValueError("no HEAD")
    return lines[0].strip(), lines[1].strip(), len(lines[2].strip())


def _kept(root: Path) -> Histories | None:
    stored = read_table(root / CACHE_DIR, _TABLE)
    if not isinstance(stored, dict) or stored.get("code") != code_key():  # other code's
        return None
    found = stored.get("histories")
    return found if isinstance(found, Histories) else None


def _newer(root: Path, kept: Histories, now: str) -> dict[str, tuple[Commit, ...]] | None:
    """The histories at `now` from those `kept` and the commits since, when those commits
    form one line on top of the kept HEAD (no merge: then `git log` lists them first, and a
    whole pass would give the same order); None otherwise."""
    try:
        lines = _git(root, "rev-list", "--parents", f"{kept.head}..{now}").splitlines()
    except subprocess.CalledProcessError:  # the kept HEAD is gone (a rewritten history)
        return None
    expected = now
    for line in lines:
        commit, *parents = line.split()
        if commit != expected or len(parents) != 1:
            return None
        expected = parents[0]
    if not lines or expected != kept.head:
        return None
    added, renamed = _parse(_log(root, f"{kept.head}..{now}"), kept.prefix)
    merged: dict[str, list[Commit]] = {path: list(found) for path, found in added.items()}
    for path, found in kept.by_path.items():
        full = kept.prefix + path
        later = renamed.get(full, full).removeprefix(kept.prefix)
        merged.setdefault(later, []).extend(found)
    return {path: tuple(found[:MAX_PER_FILE]) for path, found in merged.items()}


def _log(root: Path, *revisions: str) -> str:
    return _git(root, "log", "-M", "--name-status", "--date=short",
                f"--format={_SEPARATOR}%h%x00%ad%x00%an%x00%s", *revisions, "--", "cases")


def parse_log(log: str, prefix: str = "") -> dict[str, tuple[Commit, ...]]:
    return _parse(log, prefix)[0]


def _parse(log: str, prefix: str) -> tuple[dict[str, tuple[Commit, ...]], dict[str, str]]:
    """Each path's commits (under the name it has at the newest commit) and, for each path
    renamed in the log, that name."""
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
    return {path: tuple(commits) for path, commits in found.items()}, later_name


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, check=True, timeout=60,
    )
    return result.stdout.decode("utf-8", errors="replace")
