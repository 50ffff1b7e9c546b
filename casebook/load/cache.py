"""The casebook's own cache: content-keyed tables in its ignored `.casebook-cache/` folder.

`summaries` serve the checks, so `validate` reads no unchanged file twice; `results` hold the
result of one kind of work per file (the next actions of one day, a case's rendered output),
one table per kind so that `next` and `build` keep each other's, cut by path into
`RESULT_SHARDS` files so that a change to a few cases rewrites a few of those, not tens of
megabytes; `signatures` let an unchanged file go unread, as git trusts its index. Each table
is sealed (`casebook.usercache`): a file this user's casebook did not write is never
unpickled. A table that cannot be read is ignored; one that cannot be written only costs
speed. Whole case models are not kept: reading them back costs about as much as parsing the
file again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import zlib
from collections.abc import Iterable
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import Any

from casebook.load.files import FileSummary
from casebook.usercache import seal_of, unseal

log = logging.getLogger(__name__)

CACHE_DIR = ".casebook-cache"
RACY_NS = 2_000_000_000  # a file changed this close to the signatures' writing is read again

Signature = tuple[int, int, int, int, int]  # size, mtime and ctime in ns, inode, device
RESULT_SHARDS = 16


def shard_of(relative: str) -> int:
    """The file of its results table that holds a case's result."""
    return zlib.crc32(relative.encode("utf-8", "surrogateescape")) % RESULT_SHARDS


def signature(path: str) -> Signature | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


@cache
def code_key() -> str:
    """A digest of casebook's own code and data: what it reads, decides and renders can change
    with any of them, so a cache made by other code is never read (no version to raise by
    hand)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".yml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


class Store:
    """The tables of one run. `kind` names the results table (`Task.kind`), `version` the
    inputs its results were made from (`Task.version`): results of another version are
    not read."""

    def __init__(self, folder: Path, config_key: str, kind: str | None, version: str,
                 enabled: bool) -> None:
        self.folder, self.enabled = folder, enabled
        self.stamp = (code_key(), config_key)
        self.task_stamp = (*self.stamp, kind, version)
        self.summaries: dict[str, FileSummary] = self._read("summaries", self.stamp)
        self.results_name = f"results-{kind or 'none'}"
        self.results: dict[str, tuple[str, Any]] = {}
        for shard in range(RESULT_SHARDS) if kind else ():
            self.results.update(self._read(self._shard_name(shard), self.task_stamp))
        self.signatures, self.trusted_before = self._read_signatures()
        self.dirty: set[str] = set()
        self.dirty_shards: set[int] = set()
        self.pending: dict[str, Signature | None] = {}  # taken before a worker reads the file

    def _read_signatures(self) -> tuple[dict[str, tuple[Signature, str]], int]:
        """Each file's key under its signature when it was last read, and the time before
        which a signature can be trusted: the moment the table was written, less a margin."""
        try:
            written = (self.folder / "signatures.pickle").stat().st_mtime_ns
        except OSError:
            return {}, 0
        return self._read("signatures", self.stamp), written - RACY_NS

    def known_key(self, relative: str, found_signature: Signature | None) -> str | None:
        """The file's key without reading it, as git trusts its index: when its size, times,
        inode and device are those it had when it was last read, and it had not changed for a
        while before that was written down. A file changed within `RACY_NS` of the
        table's writing could have changed again in the same tick of the clock: it is read."""
        found = self.signatures.get(relative)
        if (found_signature is None or found is None or found[0] != found_signature
                or max(found_signature[1], found_signature[2]) >= self.trusted_before):
            return None
        return found[1]

    def put_signature(self, relative: str, found_signature: Signature | None, key: str) -> None:
        if found_signature is None or not key:
            return
        entry = (found_signature, key)
        if self.signatures.get(relative) != entry:
            self.signatures[relative] = entry
            self.dirty.add("signatures")

    def _read(self, name: str, stamp: object) -> dict[str, Any]:
        if not self.enabled:
            return {}
        stored = read_table(self.folder, name)
        if not isinstance(stored, dict) or stored.get("stamp") != stamp:
            return {}
        entries = stored.get("entries")
        return entries if isinstance(entries, dict) else {}

    def summary(self, relative: str, key: str) -> FileSummary | None:
        found = self.summaries.get(relative)
        return found if found is not None and found.key == key else None

    def result(self, relative: str, key: str) -> tuple[bool, Any]:
        found = self.results.get(relative)
        return (True, found[1]) if found is not None and found[0] == key else (False, None)

    def put_summary(self, relative: str, summary: FileSummary) -> None:
        self.summaries[relative] = summary
        self.dirty.add("summaries")

    def put_result(self, relative: str, key: str, result: Any) -> None:
        self.results[relative] = (key, result)
        self.dirty_shards.add(shard_of(relative))

    def kept_results(self, present: set[str]) -> list[Any]:
        """The results `save` keeps: those of the files present."""
        return [entry[1] for relative, entry in self.results.items() if relative in present]

    def drop_results(self, paths: Iterable[str] | None = None) -> None:
        """Forget the cached results of `paths`, or all of them."""
        if paths is None:
            self.results.clear()
            self.dirty_shards.update(range(RESULT_SHARDS))
            return
        for relative in paths:
            if self.results.pop(relative, None) is not None:
                self.dirty_shards.add(shard_of(relative))

    def _shard_name(self, shard: int) -> str:
        return f"{self.results_name}-{shard:02d}"

    def save(self, present: set[str]) -> None:
        if not self.enabled:
            return
        tables: dict[str, dict[str, Any]] = {"summaries": self.summaries,
                                             "signatures": self.signatures}
        for name, entries in tables.items():
            gone = set(entries) - present
            for relative in gone:
                del entries[relative]
            if gone:
                self.dirty.add(name)
        self.drop_results(set(self.results) - present)
        for name in sorted(self.dirty):
            self._write(name, {"stamp": self.stamp, "entries": tables[name]})
        if self.dirty_shards and self.results_name != "results-none":
            shards: dict[int, dict[str, Any]] = {s: {} for s in self.dirty_shards}
            for relative, entry in self.results.items():
                held = shards.get(shard_of(relative))
                if held is not None:
                    held[relative] = entry
            for shard, entries in sorted(shards.items()):
                self._write(self._shard_name(shard),
                            {"stamp": self.task_stamp, "entries": entries})
        if "signatures" in self.dirty:
            self._drop_racy_signatures()

    def _drop_racy_signatures(self) -> None:
        """Git's "racily clean" rule: a signature taken within `RACY_NS` of the moment the
        table was written (that moment read off the file system's own clock, from the
        table's mtime) may hide a second change in the same tick; such entries are dropped
        and the table written again, so every signature it keeps is older than that margin."""
        try:
            written = (self.folder / "signatures.pickle").stat().st_mtime_ns
        except OSError:
            return
        racy = [relative for relative, (taken, _key) in self.signatures.items()
                if max(taken[1], taken[2]) >= written - RACY_NS]
        if racy:
            for relative in racy:
                del self.signatures[relative]
            self._write("signatures", {"stamp": self.stamp, "entries": self.signatures})

    def _write(self, name: str, content: dict[str, Any]) -> None:
        write_table(self.folder, name, content)


def read_table(folder: Path, name: str) -> Any:
    """What `write_table` stored under `name`; None when it is missing, unreadable, or was
    not written by this user's casebook (such a file is never unpickled)."""
    try:
        data = unseal((folder / f"{name}.pickle").read_bytes())
        return None if data is None else pickle.loads(data)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, KeyError,
            TypeError, ValueError, ImportError, IndexError):
        return None


def write_table(folder: Path, name: str, content: Any) -> None:
    """Store `content` under `name` in the cache folder `folder`, sealed, in one step; a
    cache that cannot be written only costs speed. It is not flushed to disk: a table cut
    short by a crash fails its seal and is ignored, which only costs speed too."""
    path = folder / f"{name}.pickle"
    temp = folder / f".{name}.pickle.{os.getpid()}.tmp"
    try:
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
        data = pickle.dumps(content, protocol=pickle.HIGHEST_PROTOCOL)
        with open(temp, "wb") as handle:
            handle.write(seal_of(data))
            handle.write(data)
        os.replace(temp, path)
    except OSError as exc:  # a read-only casebook still works, only slower
        with suppress(OSError):
            temp.unlink(missing_ok=True)
        log.info("cannot write the cache %s: %s", folder, exc)
