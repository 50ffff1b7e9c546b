"""A case's git history as facts: what each commit added, changed or removed.

Owns `file_history`, which reads every version of one case file from git (following renames)
in one `git log` and one `git cat-file --batch`, parses each version once and diffs it against
its parent with `history.diff`. It reads git and never writes anything, never reads the clock,
and never decides itself what differs between two versions. Old versions are parsed with
today's casebook.yml: the facts of a file do not depend on the config beyond step names.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from casebook.diagnostics import Severity, ordered
from casebook.errors import CasebookError
from casebook.history.diff import Change, diff_cases
from casebook.load.loader import load_config
from casebook.model import Case, Config
from casebook.read.casefile import read_case
from casebook.read.discover import case_id


class HistoryUnavailable(CasebookError):
    """No git, or no repository: the history cannot be read at all."""


@dataclass(frozen=True, kw_only=True)
class CommitFacts:
    """One commit that touched the case file, and what it did to the facts."""

    hash: str
    short: str
    date: str
    author: str
    subject: str
    path: str  # the file's path at this commit, relative to the casebook root
    renamed_from: str | None = None
    deleted: bool = False
    error: str | None = None  # the first error, when this version does not parse
    compared_with: str | None = None  # short hash, when not the parent's version (it did not parse)
    changes: tuple[Change, ...] = ()


# -- reading the history from git -----------------------------------------------------------

_RECORD = "\x1e"
_FIELD = "\x1f"
_FORMAT = f"--format={_RECORD}%H{_FIELD}%h{_FIELD}%ad{_FIELD}%an{_FIELD}%P{_FIELD}%s"


@dataclass(frozen=True)
class _Entry:
    """One commit of `git log --follow`, with the file's path there and at its parent."""

    hash: str
    short: str
    day: str
    author: str
    parent: str | None
    subject: str
    status: str
    path: str  # relative to the top of the repository
    parent_path: str


def file_history(root: Path, relative_path: str, since: str | None = None, *,
                 config: Config | None = None) -> list[CommitFacts]:
    """The commits that touched `relative_path` (relative to the casebook root), newest first,
    each with the facts it changed; with `since`, only the commits of `since..HEAD`.

    Raises HistoryUnavailable without git or outside a repository, CasebookError for an unknown
    revision; a case file with no commits has an empty history.
    """
    prefix = _git(root, "rev-parse", "--show-prefix").strip()
    wanted = None if since is None else _commits_after(root, since)
    if not _has_commits(root):
        return []
    entries = parse_log(_git(root, "log", "--follow", "-M", "-z", "--name-status",
                             "--date=short", _FORMAT, "--", relative_path),
                        prefix + relative_path)
    config = config if config is not None else load_config(root)[0]
    versions = _Versions(root, config, prefix, entries)
    found = [_facts(entry, versions, prefix, config.currency) for entry in reversed(entries)]
    return [f for f in reversed(found) if wanted is None or f.hash in wanted]


def parse_log(log: str, path: str) -> list[_Entry]:
    """`git log -z --name-status` records, newest first, following the file back through its
    renames (`path` is its path at HEAD, relative to the top of the repository)."""
    entries: list[_Entry] = []
    current = path
    for record in log.split(_RECORD)[1:]:
        header, _, changes = record.partition("\0")
        full, short, day, author, parents, subject = [*header.split(_FIELD, 5), *[""] * 6][:6]
        words = [w for w in changes.lstrip("\n").split("\0") if w]
        status = words[0][:1] if words else ""
        paths = words[1:3] if words else []
        new_path = paths[-1] if paths else current
        old_path = paths[0] if status in ("R", "C") and len(paths) == 2 else new_path
        parent = parents.split()[0] if parents.split() else None
        entries.append(_Entry(full, short, day, author, parent, subject, status, new_path,
                              old_path))
        current = old_path
    return entries


def _facts(entry: _Entry, versions: _Versions, prefix: str, currency: str) -> CommitFacts:
    facts = CommitFacts(
        hash=entry.hash, short=entry.short, date=entry.day, author=entry.author,
        subject=entry.subject, path=_relative(entry.path, prefix),
        renamed_from=(_relative(entry.parent_path, prefix) if entry.status == "R" else None),
        deleted=entry.status == "D",
    )
    new = None if facts.deleted else versions.case(entry.hash, entry.path)
    if isinstance(new, str):
        return replace(facts, error=new)
    old = None if entry.parent is None else versions.case(entry.parent, entry.parent_path)
    compared_with = None
    if isinstance(old, str):  # the parent's version did not parse: compare with the last good one
        compared_with, old = versions.last_good if versions.last_good else (None, None)
    versions.last_good = None if new is None else (entry.short, new)
    return replace(facts, compared_with=compared_with,
                   changes=tuple(diff_cases(old, new, currency=currency)))


class _Versions:
    """Every version of the file, read from git in one `cat-file --batch` and parsed once."""

    def __init__(self, root: Path, config: Config, prefix: str, entries: list[_Entry]) -> None:
        self.config = config
        self.prefix = prefix
        specs = {f"{e.hash}:{e.path}" for e in entries if e.status != "D"}
        specs |= {f"{e.parent}:{e.parent_path}" for e in entries if e.parent}
        self.blobs = read_blobs(root, sorted(specs))
        self.parsed: dict[str, Case | str] = {}
        self.last_good: tuple[str, Case] | None = None

    def case(self, commit: str, path: str) -> Case | str | None:
        """The case at `commit`; None when the file is not there; the first error as text when
        it does not parse."""
        found = self.blobs.get(f"{commit}:{path}")
        if found is None:
            return None
        blob, data = found
        if blob not in self.parsed:
            self.parsed[blob] = self._parse(path, data)
        return self.parsed[blob]

    def _parse(self, path: str, data: bytes) -> Case | str:
        relative = _relative(path, self.prefix)
        parsed = read_case(case_id(relative), relative, data, self.config)
        errors = [d for d in ordered(parsed.diagnostics) if d.severity is Severity.ERROR]
        if errors:
            return f"line {errors[0].line}: {errors[0].message}"
        if parsed.case is None:
            return "the file could not be read"
        return parsed.case


def read_blobs(root: Path, specs: list[str]) -> dict[str, tuple[str, bytes]]:
    """`COMMIT:PATH` → (blob id, bytes) for each spec that names a file; like `git show
    COMMIT:PATH` for each, in one process."""
    if not specs:
        return {}
    out = _run(root, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in specs).encode())
    found: dict[str, tuple[str, bytes]] = {}
    at = 0
    for spec in specs:
        end = out.find(b"\n", at)
        if end < 0:
            break
        header = out[at:end].decode("utf-8", errors="replace").split()
        at = end + 1
        if len(header) != 3 or not header[2].isdigit():  # "<spec> missing", "ambiguous"
            continue
        size = int(header[2])
        if header[1] == "blob":
            found[spec] = (header[0], out[at:at + size])
        at += size + 1
    return found


def _relative(path: str, prefix: str) -> str:
    """A path from the top of the repository, relative to the casebook root when inside it."""
    return path.removeprefix(prefix)


def _commits_after(root: Path, since: str) -> set[str]:
    try:
        if since.startswith("-"):  # never let a revision be read as an option of git
            raise CasebookError(since)
        _git(root, "rev-parse", "--verify", "--quiet", f"{since}^{{commit}}")
    except CasebookError:
        raise CasebookError(f"unknown revision {since!r}: --since takes a commit, a tag or "
                            "a branch") from None
    return set(_git(root, "rev-list", f"{since}..HEAD").split())


def _has_commits(root: Path) -> bool:
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    except CasebookError:
        return False
    return True


def _git(root: Path, *args: str) -> str:
    return _run(root, *args).decode("utf-8", errors="replace")


def _run(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], input=stdin,
                                capture_output=True, timeout=120, check=False)
    except FileNotFoundError:
        raise HistoryUnavailable("git is not installed (or not on PATH); casebook history "
                                 "reads the case file's git history") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip()
        if "not a git repository" in message:
            raise HistoryUnavailable(f"{root} is not in a git repository; casebook history "
                                     "reads the case file's git history")
        raise CasebookError(f"git {args[0]} failed: {message.splitlines()[0] if message else ''}")
    return result.stdout
