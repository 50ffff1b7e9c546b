"""Each case's pieces of the whole-site files, kept on disk: its line of each export, its row of
the plain-HTML table and of the windowed table's data, its agenda item.

They are made where the case is rendered and read only when a whole-site file is written, one
file at a time, so a build holds per case its dashboard row and where its pieces lie, never the
pieces themselves: memory does not grow with what the pages carry.

Every process that renders appends to one file of its own, made on first use, with a random
name, in the pieces folder (`.casebook-cache/pieces/`, or a shard's). A `Piece` says where a
case's pieces lie; the cached results (sealed) hold the pieces, so a file no sealed table
names is never read. A build makes its files durable before the results naming them are
written (`sync_all`) and removes the files no result names any more (`collect`),
once they are old enough that no other running command can still be reading them. A file
gone, or shorter than a piece says, raises `PiecesLost`: the build then renders every case
again.
"""

from __future__ import annotations

import atexit
from array import array
from itertools import accumulate
import os
import secrets
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import NamedTuple, TypeVar, overload

from casebook.atomic import write_all
from casebook.load.cache import CACHE_DIR

T = TypeVar("T")

FOLDER = "pieces"  # in the cache folder, or in a shard's
SUFFIX = ".bin"
GRACE = 600.0  # seconds an unnamed file is kept: a command still running may be reading it
OPEN_MOST = 64  # files a reader keeps open


def cache_folder(root: Path) -> Path:
    """The casebook's own pieces folder."""
    return root / CACHE_DIR / FOLDER


class Piece(NamedTuple):
    """Where one case's pieces lie: in which file, from which byte, and where each part
    ends, counted from there (packed: 100,000 of them are held at once)."""

    file: str
    offset: int
    ends: bytes  # `array("I")` of each part's end

    @property
    def sizes(self) -> tuple[int, ...]:
        ends = _ends(self)
        return tuple(end - start for start, end in zip((0, *ends), ends, strict=False))


def _ends(piece: Piece) -> array[int]:
    ends = array("I")
    ends.frombytes(piece.ends)
    return ends


class PiecesLost(Exception):
    """A pieces file is gone or cut short: what was cached cannot be used."""


class PieceWriter:
    """Appends pieces to a file of this process's own in `folder` (a forked process gets
    another). Where `folder` cannot be written (a read-only casebook), the pieces go to a
    private temporary folder instead, removed when the process that chose it ends: call
    `prepare` before forking, so that every process writes to the same folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._ready = False
        self._fd = -1
        self._pid = 0
        self._name = ""
        self._offset = 0

    def prepare(self) -> None:
        if self._ready:
            return
        self._ready = True
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if os.access(self.folder, os.W_OK | os.X_OK):
                return
        except OSError:
            pass
        self.folder = Path(tempfile.mkdtemp(prefix="casebook-pieces-"))
        atexit.register(_remove_folder, self.folder, os.getpid())

    def put(self, parts: Sequence[bytes]) -> Piece:
        if self._pid != os.getpid():
            self.prepare()
            self._open()
        data = b"".join(parts)
        write_all(self._fd, data)
        piece = Piece(self._name, self._offset, array("I", accumulate(map(len, parts))).tobytes())
        self._offset += len(data)
        return piece

    def _open(self) -> None:
        ignore = self.folder.parent / ".gitignore"
        if self.folder.parent.name == CACHE_DIR and not ignore.exists():
            with suppress(OSError):
                ignore.write_text("*\n")
        while True:
            name = secrets.token_hex(12) + SUFFIX
            try:
                fd = os.open(self.folder / name,
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            except FileExistsError:
                continue
            break
        self._fd, self._pid, self._name, self._offset = fd, os.getpid(), name, 0


def _remove_folder(folder: Path, owner: int) -> None:
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def sync_all(folder: Path, names: Iterable[str]) -> None:
    """The files `names` in `folder` on disk, whichever process wrote them (the workers)."""
    for name in sorted(set(names)):
        with suppress(FileNotFoundError):
            fd = os.open(folder / name, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def collect(folder: Path, named: set[str], now: float | None = None) -> None:
    """Remove the pieces files no result names, once older than `GRACE`."""
    limit = (time.time() if now is None else now) - GRACE
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.endswith(SUFFIX) and entry.name not in named:
            with suppress(OSError):
                if entry.stat().st_mtime < limit:
                    os.unlink(entry.path)


class PieceReader:
    """Reads pieces from the files of one or more pieces folders (a merge reads each
    shard's); keeps the last `OPEN_MOST` files open."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = tuple(folders)
        self._open: OrderedDict[str, int] = OrderedDict()

    def part(self, piece: Piece, at: int) -> bytes:
        """Part `at` of a case's pieces (negative counts from the end)."""
        ends = _ends(piece)
        at = at % len(ends)
        start = ends[at - 1] if at else 0
        size = ends[at] - start
        data = os.pread(self._fd(piece.file), size, piece.offset + start)
        if len(data) != size:
            raise PiecesLost(f"the pieces file {piece.file} is cut short")
        return data

    def parts(self, pieces: Sequence[Piece], at: int) -> Parts:
        """Part `at` of each piece, read as it is used."""
        return Parts(self, pieces, at)

    def _fd(self, name: str) -> int:
        fd = self._open.get(name)
        if fd is not None:
            self._open.move_to_end(name)
            return fd
        for folder in self.folders:
            try:
                fd = os.open(folder / name, os.O_RDONLY | os.O_CLOEXEC)
                break
            except FileNotFoundError:
                continue
        else:
            raise PiecesLost(f"the pieces file {name} is gone")
        self._open[name] = fd
        if len(self._open) > OPEN_MOST:
            os.close(self._open.popitem(last=False)[1])
        return fd

    def close(self) -> None:
        while self._open:
            os.close(self._open.popitem()[1])

    def __del__(self) -> None:
        with suppress(Exception):
            self.close()


class Decoded(Sequence[T]):
    """A sequence of parts, each decoded as it is read."""

    def __init__(self, parts: Parts, decode: Callable[[bytes], T]) -> None:
        self.parts, self.decode = parts, decode

    def __len__(self) -> int:
        return len(self.parts)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Decoded[T]: ...
    def __getitem__(self, index: int | slice) -> T | Decoded[T]:
        if isinstance(index, slice):
            return Decoded(self.parts[index], self.decode)
        return self.decode(self.parts[index])

    def __iter__(self) -> Iterator[T]:
        return map(self.decode, self.parts)


class Parts(Sequence[bytes]):
    """One part of many cases' pieces, as a sequence of bytes read when used."""

    def __init__(self, reader: PieceReader, pieces: Sequence[Piece], at: int) -> None:
        self.reader, self.pieces, self.at = reader, pieces, at

    def __len__(self) -> int:
        return len(self.pieces)

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Parts: ...
    def __getitem__(self, index: int | slice) -> bytes | Parts:
        if isinstance(index, slice):
            return Parts(self.reader, self.pieces[index], self.at)
        return self.reader.part(self.pieces[index], self.at)

    def __iter__(self) -> Iterator[bytes]:
        part, at = self.reader.part, self.at
        for piece in self.pieces:
            yield part(piece, at)
