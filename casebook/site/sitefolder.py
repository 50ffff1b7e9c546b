"""The site's folder on disk: the stamp that says what a site was built from, files replaced
in one step, one build at a time, the leftovers of killed builds, the swap that puts a new
site in place of the old one, and the journal of an update made in place.

An update in place (`build` with a few cases changed) moves files from a folder prepared
beside the site into it, each in one step; the journal, in `.casebook-cache/`, lists every
move and removal before the first is made and goes only once the last is done, so that the
next build finishes an update that was killed half-way (`finish_update`): a reader sees each
page as it was or as it is to be, and the site ends whole in the new state."""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from casebook.atomic import write_atomic
from casebook.load.cache import CACHE_DIR

STAMP_FILE = ".casebook-build"
Chunks = Iterable[bytes]  # a file's content in pieces, written one after the other


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


# -- updating the site in place, with a journal -----------------------------------------------


def journal_path(root: Path, out: Path) -> Path:
    """The journal of an update of the site `out` (one per site folder)."""
    name = hashlib.blake2b(os.fsencode(out), digest_size=8).hexdigest()
    return root / CACHE_DIR / f"site-update-{name}.json"


def update_in_place(root: Path, out: Path, ready: Path, puts: list[str], drops: list[str]
                    ) -> bool:
    """Move each of `puts` (paths relative to the site) from the folder `ready`, beside the
    site, to its place in `out`, then take each of `drops` out of the site, and last put the
    stamp file, which says the update is complete. The journal is on disk before
    the first move and removed after the last. False, with nothing done, when the journal
    cannot be written (a read-only casebook): the site must be built anew."""
    journal = journal_path(root, out)
    record = {"out": str(out), "ready": str(ready), "put": puts, "drop": drops}
    try:
        make_trash(trash_folder(root))  # the cache folder, ignored by git
        write_atomic(journal, json.dumps(record, indent=0).encode())
    except OSError:
        return False
    _apply(out, ready, puts, drops, trash_folder(root))
    journal.unlink()
    return True


def finish_update(root: Path, out: Path) -> bool:
    """Finish the update in place of `out` that a killed process left, if any (with the build
    lock held, before the leftovers are cleared: the folder it moves from is one); True when
    there was one. When that folder is gone, the stamp goes: the next build renders all."""
    journal = journal_path(root, out)
    try:
        record = json.loads(journal.read_text("utf-8"))
        ready = Path(record["ready"])
        puts, drops = list(record["put"]), list(record["drop"])
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError):  # a journal cut short: never applied
        journal.unlink(missing_ok=True)
        return False
    if record.get("out") == str(out):
        if ready.is_dir():
            _apply(out, ready, puts, drops, trash_folder(root))
        else:
            (out / STAMP_FILE).unlink(missing_ok=True)
    journal.unlink()
    return True


def _apply(out: Path, ready: Path, puts: list[str], drops: list[str], trash: Path) -> None:
    """Every move and removal of an update; each one already done is skipped, so that a
    journal can be applied again."""
    made: set[str] = set()
    last = [STAMP_FILE] if STAMP_FILE in puts else []
    for relative in [p for p in puts if p != STAMP_FILE]:
        source = ready / relative
        if not os.path.lexists(source):  # moved already
            continue
        folder = os.path.dirname(relative)
        if folder and folder not in made:
            os.makedirs(out / folder, exist_ok=True)
            made.add(folder)
        _move(source, out / relative)
    for relative in drops:
        target = out / relative
        if target.is_dir() and not target.is_symlink():
            discard(target, trash)
        elif os.path.lexists(target):
            target.unlink()
    for folder in sorted({os.path.dirname(r) for r in drops if "/" in r}, reverse=True):
        _prune(out, folder)
    for relative in last:  # the stamp: the site is whole in its new state
        if os.path.lexists(ready / relative):
            _move(ready / relative, out / relative)


def _prune(out: Path, folder: str) -> None:
    """Remove `folder` of the site and the folders above it while they are empty (a new
    site would not have them)."""
    while folder:
        try:
            os.rmdir(out / folder)
        except OSError:  # not empty, or gone
            return
        folder = os.path.dirname(folder)


def _move(source: Path, target: Path) -> None:
    os.replace(source, target)


# -- results cached ahead of the site -------------------------------------------------------


def _building_path(root: Path, out: Path) -> Path:
    return journal_path(root, out).with_name(journal_path(root, out).stem + ".building")


def start_building(root: Path, out: Path) -> frozenset[str] | None:
    """Note that a build of `out` is under way, before it caches what it renders, and say
    what the last unfinished one left: the case files whose results it cached but whose
    pages never reached the site (to render again), or None when it was killed before it
    could say which (everything is rendered again)."""
    note = _building_path(root, out)
    left: frozenset[str] | None = frozenset()
    try:
        lines = note.read_text("utf-8").splitlines()
        left = frozenset(lines[1:]) if lines[:1] == ["rendered"] else None
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        left = None
    try:
        make_trash(trash_folder(root))
        note.write_bytes(b"")
    except OSError:  # a read-only cache: no results are kept either
        pass
    return left


def building_rendered(root: Path, out: Path, paths: frozenset[str]) -> None:
    """Note the case files whose results this build cached, until its site is in place."""
    text = "".join(f"{line}\n" for line in ("rendered", *sorted(paths)))
    with suppress(OSError):  # a read-only cache: no results are kept either
        write_atomic(_building_path(root, out), text.encode("utf-8"))


def done_building(root: Path, out: Path) -> None:
    """The build's site is in place (or it changed nothing): its cached results hold."""
    with suppress(OSError):  # gone, or a read-only cache, which holds no new results
        _building_path(root, out).unlink()
