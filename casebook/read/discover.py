"""Finding the case files of a casebook, and refusing what a casebook must not read.

A casebook is its folder (SPEC 1): the case files are the `*.md` files under `cases/`, and
nothing outside the folder is ever read through a link. Owns the walk of `cases/`, the rules of
case ids, the bounded read of one file and which template folders count; it parses nothing
and never writes.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from casebook.diagnostics import Diagnostic, Severity
from casebook.read.casefile import MAX_BYTES

CASES_DIR = "cases"
_CASE_ID = re.compile(r"[a-z0-9_\-/]+")


def case_files(root: Path) -> list[tuple[str, str]]:
    """(relative path, full path) of every case file, sorted; `_` and `.` names are skipped."""
    return scan(root)[0]


MAX_ID_LENGTH = 200  # characters of a case id: its page's file name must stay a legal name


def scan(root: Path) -> tuple[list[tuple[str, str]], list[Diagnostic]]:
    """The case files under `cases/`, sorted, and a diagnostic for each entry refused.

    A casebook is its folder: a link to a file or folder outside it is refused, never read
    (its content would not be in the repository, and a diagnostic could quote it); a folder
    reached twice (a link back up the tree) is walked once; anything but a regular file (a
    pipe, a device) is refused, so reading never blocks.
    """
    found: list[tuple[str, str]] = []
    refused: list[Diagnostic] = []
    top = os.path.realpath(root)
    start = str(root / CASES_DIR)
    seen = {os.path.realpath(start)}
    folders = [(start, CASES_DIR + "/")]
    if os.path.isdir(start) and not os.path.realpath(start).startswith(top + os.sep):
        folders.clear()
        refused.append(_refused(CASES_DIR, "outside", "the folder is a link to a place "
                                "outside the casebook: casebook reads only what is inside "
                                "its folder"))
    while folders:
        folder, relative = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(("_", ".")):
                continue
            where = relative + name
            problem = _refusal(entry, where, top, seen)
            if problem is not None:
                refused.append(problem)
            elif entry.is_dir():
                folders.append((entry.path, where + "/"))
            elif name.endswith(".md"):
                found.append((where, entry.path))
    found.sort()
    return found, sorted(refused)


def _refusal(entry: os.DirEntry[str], where: str, top: str, seen: set[str]) -> Diagnostic | None:
    """Why an entry of `cases/` is not read, or None; records the folders to walk in `seen`."""
    is_dir = entry.is_dir()
    if not is_dir and not where.endswith(".md"):
        return None
    what = "folder" if is_dir else "file"
    if entry.is_symlink():
        real = os.path.realpath(entry.path)
        if not real.startswith(top + os.sep):
            return _refused(where, "outside", f"the {what} is a link to a place outside the "
                            "casebook: casebook reads only what is inside its folder (copy "
                            f"the {what} in instead)")
    if is_dir:
        real = os.path.realpath(entry.path)
        cases = os.path.realpath(os.path.join(top, CASES_DIR))
        # A link to a folder of cases/ would read its cases twice (or forever, up the tree).
        if real in seen or (entry.is_symlink() and (real + os.sep).startswith(cases + os.sep)):
            return _refused(where, "link-loop", "the folder is a link to a folder that is read "
                            "already; it is skipped", Severity.WARNING)
        if len(where) > MAX_ID_LENGTH + len(CASES_DIR):
            return _refused(where, "too-deep", "folders nested this deep give case ids "
                            f"longer than {MAX_ID_LENGTH} characters; it is skipped")
        seen.add(real)
        return None
    if not entry.is_file() and os.path.lexists(entry.path) and os.path.exists(entry.path):
        return _refused(where, "not-a-file", "not a regular file (a pipe, a device or a "
                        "socket); a case file must be a plain file")
    return None


def _refused(where: str, code: str, message: str,
             severity: Severity = Severity.ERROR) -> Diagnostic:
    return Diagnostic(where, 1, 1, severity, code, message)


def read_limited(path: str) -> bytes | int:
    """The file's bytes, or its size when it is larger than a case file may be (the file is
    then not read: a 50 MB file is refused at once)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_BYTES:
            return size
        data = handle.read(MAX_BYTES + 1)
    return len(data) if len(data) > MAX_BYTES else data


def case_id(relative: str) -> str:
    """`cases/2026/rossi.md` → `2026/rossi`."""
    return relative.removeprefix(CASES_DIR + "/").removesuffix(".md")


def case_ids(root: Path) -> list[str]:
    """The id of every case file, sorted (for did-you-mean hints)."""
    return [case_id(relative) for relative, _ in case_files(root)]


def id_problem(relative: str) -> Diagnostic | None:
    """An error for a case id that breaks the rules, a warning for one Windows cannot hold."""
    cid = case_id(relative)
    problem = _id_error(cid)
    if problem is not None:
        return Diagnostic(relative, 1, 1, Severity.ERROR, "case-id", f"{problem}; rename the file")
    if any(_WINDOWS_NAME.fullmatch(part) for part in cid.split("/")):
        return Diagnostic(relative, 1, 1, Severity.WARNING, "case-id",
                          f"the case id {cid!r} holds a name Windows reserves for a device "
                          "(con, prn, aux, nul, com1…, lpt1…): the file cannot be checked "
                          "out there; rename it")
    return None


_WINDOWS_NAME = re.compile(r"(?:con|prn|aux|nul|com[0-9]|lpt[0-9])")


def _id_error(cid: str) -> str | None:
    if not _CASE_ID.fullmatch(cid):
        return f"the case id {cid[:MAX_ID_LENGTH]!r} may only hold a-z, 0-9, '-', '_' and '/'"
    if len(cid) > MAX_ID_LENGTH:
        return f"the case id is {len(cid)} characters long; at most {MAX_ID_LENGTH} are allowed"
    if "" in cid.split("/"):
        return f"the case id {cid!r} has an empty part"
    return None


def inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def template_dirs(root: Path | None) -> list[str]:
    """The casebook's own templates first, then the shipped ones. The casebook's folder counts
    only when it lies inside the casebook (`templates` may not be a link to elsewhere)."""
    shipped = str(resources.files("casebook").joinpath("templates"))
    if root is not None and (root / "templates").is_dir():
        own = os.path.realpath(root / "templates")
        if inside(own, os.path.realpath(root)):
            return [str(root / "templates"), shipped]
    return [shipped]
