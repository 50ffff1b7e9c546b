"""The site's folder on disk: the stamp that says what a site was built from, files replaced
in one step, one build at a time, the leftovers of killed builds, and the swap that puts a new
site in place of the old one."""

from __future__ import annotations

import ctypes
import fcntl
import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from casebook.load.cache import CACHE_DIR

STAMP_FILE = ".casebook-build"
Chunks = list[bytes]  # a file's content in pieces, written one after the other


def read_stamp(out: Path) -> tuple[str | None, str | None, frozenset[str]]:
    """(stamp, inputs key, case files updated in place since) of the site in `out`, if it
    was built by casebook. The stamp file reads:

        <stamp: day, templates, git HEAD, options>
        <inputs: digest of every input file, or empty while an update is under way>
        <one case file path per line, updated in place after the full build>
    """
    try:
        lines = (out / STAMP_FILE).read_text("utf-8").splitlines()
    except OSError:
        return None, None, frozenset()
    padded = [*lines, "", ""]
    return padded[0] or None, padded[1] or None, frozenset(filter(None, lines[2:]))


def write_stamp(folder: Path, stamp: str, inputs: str, dirty: frozenset[str] = frozenset()
                ) -> None:
    text = "".join(f"{line}\n" for line in (stamp, inputs, *sorted(dirty)))
    replace_file(folder / STAMP_FILE, text.encode("utf-8"))


def replace_file(path: Path, data: bytes | Chunks) -> None:
    """Put `data` at `path` in one step: a reader sees the old file or the new one, never a
    part. Site files are not flushed to disk one by one (a build can always be run again)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.writelines([data] if isinstance(data, bytes) else data)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """One build or in-place update of a site at a time (`serve` running while someone types
    `casebook build`): a lock on the folder that holds the site, which the system releases
    when the process ends, however it ends."""
    try:
        fd = os.open(out.parent, os.O_RDONLY)
    except OSError:  # nothing to lock: the build reports what it cannot write
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def trash_folder(root: Path) -> Path:
    """Where what a build or an update throws away waits to be deleted: inside the casebook's
    git-ignored `.casebook-cache/`, so that no half-deleted folder stands beside `site/` once
    a command has exited (`git add -A` right after a build must never pick up an old site)."""
    return root / CACHE_DIR / "trash"


def make_trash(trash: Path) -> None:
    """The trash folder, in a cache folder that git ignores even where the casebook's own
    `.gitignore` does not name it."""
    trash.mkdir(parents=True, exist_ok=True)
    ignore = trash.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


def clear_leftovers(out: Path, trash: Path) -> None:
    """Discard what killed builds and updates left: staging folders `.site.build-…` and old
    sites `.site.old-…` beside `out` (and `.site.trash-…`, where earlier versions kept
    their trash), and whatever `trash` still holds, which a deleter in the background may
    still be emptying; with the lock held, no other build uses them."""
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        entries = []
    prefix = f".{out.name}."
    for entry in entries:
        kind = entry.name[len(prefix):].split("-")[0]
        if (entry.name.startswith(prefix) and kind in ("build", "trash", "old")
                and entry.is_dir(follow_symlinks=False)):
            discard(Path(entry.path), trash)
    try:
        waiting = [Path(entry.path) for entry in os.scandir(trash)]
    except OSError:
        return
    for folder in waiting:
        _delete_in_background(folder)


_DELETER = ("import os, shutil, sys\n"
            "try:\n    os.nice(10)\nexcept OSError:\n    pass\n"
            "shutil.rmtree(sys.argv[1], ignore_errors=True)\n")
_serial = itertools.count()


def discard(folder: Path, trash: Path) -> None:
    """Delete a folder (an old site, a dead build's) without waiting for it: it is moved into
    `trash` at once, and a process of its own, at low priority, deletes it there. At 10,000
    cases an old site is 30,000 files; the user need not wait for them once the new site is
    in place. A folder that cannot be moved there (another file system) is deleted here."""
    target = trash / f"{os.getpid()}-{next(_serial)}"
    try:
        make_trash(trash)
        os.rename(folder, target)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return
    _delete_in_background(target)


def _delete_in_background(folder: Path) -> None:
    """A process of its own deletes `folder`; if none can start, it is deleted here (and if
    that process is killed, the next build clears what it left)."""
    try:
        subprocess.Popen([sys.executable, "-c", _DELETER, str(folder)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)


def umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# -- swapping the new site in -------------------------------------------------------------------


def swap(staging: Path, out: Path, trash: Path) -> None:
    """Put `staging` where `out` is, in one step where the system allows it; the old site
    goes to `trash`."""
    if out.exists() and _exchange(staging, out):
        discard(staging, trash)  # now holds the old site
        return
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.rename(out, old)
        os.rename(staging, out)
        discard(old, trash)
    else:
        os.rename(staging, out)


def _exchange(a: Path, b: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE): both paths swap atomically."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(done == 0)


# -- what a build takes from the site before it ---------------------------------------------


def contained_files(folder: Path) -> list[Path]:
    """The files under `folder` that really are inside it: a link to a file elsewhere
    (`templates/assets/x.css -> /etc/passwd`) is neither read nor published."""
    real = os.path.realpath(folder)
    return [p for p in sorted(folder.rglob("*"))
            if p.is_file() and os.path.realpath(p).startswith(real + os.sep)]


class PreviousIncomplete(Exception):
    """The previous site lacks a page that was to be reused (someone deleted it)."""


def link_previous(out: Path, staging: Path, case_id: str) -> None:
    """Hard-link an unchanged case's page and letters from the previous site. A large site
    has many thousands of these, so each costs as few system calls as can be: a folder is
    made only when a link finds it missing, and the letters are listed without a stat each."""
    if not _link(f"{out}/cases/{case_id}.html", f"{staging}/cases/{case_id}.html"):
        raise PreviousIncomplete(case_id)
    try:
        letters = os.scandir(f"{out}/letters/{case_id}")
    except (FileNotFoundError, NotADirectoryError):
        return
    with letters:
        for entry in letters:
            if entry.is_file(follow_symlinks=False):
                _link(entry.path, f"{staging}/letters/{case_id}/{entry.name}")


def _link(source: str, target: str) -> bool:
    """Link (else copy) `source` to `target`, making its folder if need be; False when
    `source` is not there."""
    try:
        os.link(source, target)
    except FileNotFoundError:
        if not os.path.isfile(source):
            return False
        os.makedirs(os.path.dirname(target), exist_ok=True)
        _link_or_copy(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)
    return True


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # no hard links here (a copy of a file gone since fails as well)
        shutil.copy2(source, target)
