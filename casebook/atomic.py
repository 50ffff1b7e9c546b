"""Atomic file writes: a file is either its old bytes or its new bytes, never a mix.

The new bytes go to a hidden temporary file beside the target (`.NAME.XXXXXXXX.tmp`; the
loader skips names that start with a dot), are flushed to disk and renamed over the target, and
the folder is flushed so that the rename survives a power cut. A failed write removes its
temporary file and leaves the target as it was. A process killed mid-write cannot clean up: the
next write of the same file removes temporary files abandoned long ago.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

ABANDONED_AFTER = 3600.0  # seconds; no write takes this long, so an older temporary file is dead


def write_atomic(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it over.

    With `exclusive`, refuse (FileExistsError) when `path` exists, so nothing is overwritten.
    Raises OSError (a read-only folder, a full disk) with `path` left untouched.
    """
    _place(path, data, exclusive)
    _sync_folder(path.parent)
    remove_abandoned(path)


def write_many(files: Sequence[tuple[Path, bytes, bool]], written: list[Path]) -> None:
    """`write_atomic` for many files at once (path, data, exclusive): each file is still
    either its old bytes or its new ones, but each folder is flushed, and cleared of
    abandoned temporary files, once rather than once per file. `written` receives each path
    as its new bytes are in place, so that a caller told of an OSError knows which were."""
    folders: dict[Path, list[str]] = {}
    for path, data, exclusive in files:
        _place(path, data, exclusive)
        written.append(path)
        folders.setdefault(path.parent, []).append(path.name)
    for folder, names in folders.items():
        _sync_folder(folder)
        _remove_abandoned_in(folder, names)


def _place(path: Path, data: bytes, exclusive: bool) -> None:
    """The new bytes flushed in a temporary file beside `path`, renamed over it."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            os.fchmod(fd, _mode_for(path))
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            os.link(temp, path)  # fails if path exists, unlike rename
            os.unlink(temp)
        else:
            os.replace(temp, path)
    except BaseException:
        _remove(temp)
        raise


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written: a write may take only part of them."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.EIO, "the write made no progress")
        view = view[written:]


def _remove(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries (the rename); a system that cannot is left as it is."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_abandoned(path: Path, now: float | None = None) -> list[str]:
    """Remove the temporary files of writes of `path` killed long ago; their names."""
    return _remove_abandoned_in(path.parent, [path.name], now)


_TEMPORARY = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp")


def _remove_abandoned_in(folder: Path, names: Sequence[str],
                         now: float | None = None) -> list[str]:
    """Remove the temporary files of writes of `names` in `folder` killed long ago."""
    wanted = set(names)
    limit = (time.time() if now is None else now) - ABANDONED_AFTER
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        found = _TEMPORARY.fullmatch(entry.name)
        if found is None or found.group(1) not in wanted:
            continue
        try:
            if entry.is_file(follow_symlinks=False) and \
                    entry.stat(follow_symlinks=False).st_mtime < limit:
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
    return removed


def _mode_for(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
