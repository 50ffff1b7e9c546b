"""Which file-system events can change the site, and when a burst of them is over.

Owns the watcher (watchdog on the folders that hold sources, never on the output) and the
debouncer (one save is a burst of events: one rebuild). It builds nothing and serves nothing;
`time.monotonic()` only measures how long the casebook has been quiet.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from casebook.errors import CasebookError

QUIET = 0.06  # seconds without an event that end a burst: one save, one rebuild
SOURCES = ("cases", "templates")  # watched recursively; the root itself only for casebook.yml
CONFIG = "casebook.yml"

# Reads are left out (inotify reports `opened` and `closed_no_write`): every rebuild reads the
# case files and would trigger itself. Folder `modified` events only echo their files' events
# (and would let a swap file in cases/ trigger a rebuild).
EVENT_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileMovedEvent, FileDeletedEvent, FileClosedEvent,
    DirCreatedEvent, DirMovedEvent, DirDeletedEvent,
]
_KEPT = tuple(EVENT_FILTER)


# -- which changes matter ------------------------------------------------------------------------


def is_litter(name: str) -> bool:
    """Editors' and tools' side files: vim's swap files and its `4913` probe, backups (`x~`),
    emacs locks (`.#x`) and autosaves (`#x#`), and every hidden file or folder (temp files of
    atomic saves, `.casebook-cache/`, `.git/`, the build's staging folder)."""
    return (name.startswith(".") or name.endswith(("~", ".swp", ".swx")) or name == "4913"
            or (name.startswith("#") and name.endswith("#")))


def source_path(path: str, root: Path, out: Path, *, directory: bool = False) -> str | None:
    """`path` relative to the root when a change there can change the site, else None."""
    absolute = Path(path)
    if absolute == out or out in absolute.parents:
        return None  # the output: watching it would rebuild forever
    try:
        parts = PurePosixPath(absolute.relative_to(root).as_posix()).parts
    except ValueError:
        return None
    if not parts or any(is_litter(part) for part in parts):
        return None
    relative = "/".join(parts)
    if parts == (CONFIG,) or parts[0] == "templates":
        return relative
    if parts[0] == "cases" and (directory or len(parts) == 1 or parts[-1].endswith(".md")):
        return relative
    return None


def changed_paths(event: FileSystemEvent, root: Path, out: Path) -> tuple[str, ...]:
    """The sources an event touches: both ends of a move (editors save by renaming a temp file
    over the real one, which then appears only as the destination)."""
    if not isinstance(event, _KEPT):
        return ()
    ends = [event.src_path, event.dest_path] if event.dest_path else [event.src_path]
    found = (source_path(os.fsdecode(end), root, out, directory=event.is_directory)
             for end in ends)
    return tuple(dict.fromkeys(p for p in found if p is not None))


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, out: Path, on_change: Callable[[Iterable[str]], None]) -> None:
        self.root, self.out, self.on_change = root, out, on_change

    def dispatch(self, event: FileSystemEvent) -> None:
        paths = changed_paths(event, self.root, self.out)
        if paths:
            self.on_change(paths)


class Watcher:
    """watchdog on the folders that hold sources, never on files (an editor's rename-save
    would orphan a watch on the file) and never on the output."""

    def __init__(self, root: Path, out: Path, on_change: Callable[[Iterable[str]], None]) -> None:
        self.root = root
        self.handler = _Handler(root, out, on_change)
        self.observer = Observer()
        self._watched: dict[str, tuple[ObservedWatch, tuple[int, int]]] = {}

    def start(self) -> None:
        try:
            self.observer.schedule(self.handler, str(self.root), event_filter=EVENT_FILTER)
            self.refresh()
            self.observer.start()
        except OSError as exc:
            raise CasebookError(f"cannot watch {self.root}: {exc.strerror or exc}") from None

    def refresh(self) -> None:
        """Watch cases/ and templates/ as they are now: made after the start, or replaced."""
        for name in SOURCES:
            folder = self.root / name
            identity = _folder_identity(folder)
            current = self._watched.get(name)
            if current is not None and current[1] == identity:
                continue
            if current is not None:
                del self._watched[name]
                with contextlib.suppress(KeyError):  # already gone with its folder
                    self.observer.unschedule(current[0])
            if identity is not None:
                watch = self.observer.schedule(self.handler, str(folder), recursive=True,
                                               event_filter=EVENT_FILTER)
                self._watched[name] = (watch, identity)

    def stop(self) -> None:
        if self.observer.is_alive():
            self.observer.stop()
            self.observer.join(timeout=5)


def _folder_identity(folder: Path) -> tuple[int, int] | None:
    try:
        info = folder.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


# -- one burst, one rebuild ----------------------------------------------------------------------


@dataclass(frozen=True)
class Burst:
    started: float  # time.monotonic() of its first event
    paths: tuple[str, ...]


class Debouncer:
    """Gathers events and lets a burst through once `quiet` seconds pass without another."""

    def __init__(self, quiet: float = QUIET) -> None:
        self.quiet = quiet
        self._cond = threading.Condition()
        self._started: float | None = None
        self._last = 0.0
        self._paths: dict[str, None] = {}
        self._closed = False

    def poke(self, paths: Iterable[str] = ()) -> None:
        with self._cond:
            now = time.monotonic()
            if self._started is None:
                self._started = now
            self._last = now
            self._paths.update(dict.fromkeys(paths))
            self._cond.notify_all()

    def wait(self) -> Burst | None:
        """Block until a burst is over and return it; None once closed."""
        with self._cond:
            while not self._closed:
                if self._started is None:
                    self._cond.wait(1.0)  # a timeout keeps Ctrl-C prompt
                    continue
                left = self._last + self.quiet - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                burst = Burst(self._started, tuple(self._paths))
                self._started, self._paths = None, {}
                return burst
            return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
