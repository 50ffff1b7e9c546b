"""The caches: a casebook from someone else's repository can carry a `.casebook-cache/`, and
nothing in it may ever be unpickled or run."""

from __future__ import annotations

import os
import pickle
import time
from datetime import date
from pathlib import Path

import pytest

from casebook import usercache
from casebook.load import cache, loader, workers
from casebook.load.loader import CACHE_DIR, load
from casebook.site.build import build

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)


class _Payload:
    """Unpickling this makes a folder: the proof that a pickle was trusted."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def test_a_cache_file_from_elsewhere_is_never_unpickled(demo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    cache = demo / CACHE_DIR
    cache.mkdir()
    hostile = pickle.dumps({"stamp": None, "entries": _Payload(marker)})
    (cache / "summaries.pickle").write_bytes(hostile)
    # and files laid out like sealed ones, with a made-up seal
    for name in ("results-build", "results-next"):
        (cache / f"{name}.pickle").write_bytes(b"\0" * usercache.SEAL_SIZE + hostile)
    result = build(demo, DAY)
    assert result.written and result.cases == 23
    assert not marker.exists()


def test_the_cache_is_sealed_and_still_used(demo: Path) -> None:
    load(demo)
    stored = (demo / CACHE_DIR / "summaries.pickle").read_bytes()
    assert usercache.unseal(stored) is not None
    assert usercache.unseal(stored[:-1] + bytes([stored[-1] ^ 1])) is None
    again = load(demo)
    assert again.worked == 0  # every file answered from the cache


def test_compiled_templates_never_live_inside_the_casebook(demo: Path) -> None:
    build(demo, DAY)
    inside = [p for p in (demo / CACHE_DIR).rglob("*") if p.is_file()]
    # tables, and the cases' pieces of the whole-site files (bytes, never code)
    assert all(p.suffix == ".pickle" or p.name == ".gitignore"
               or (p.parent.name == "pieces" and p.suffix == ".bin") for p in inside), inside
    folder = usercache.user_cache_dir()
    assert folder is not None and any((folder / "templates").iterdir())
    assert demo.resolve() not in folder.resolve().parents


def test_the_key_is_private() -> None:
    folder = usercache.user_cache_dir()
    assert folder is not None
    usercache.seal(b"x")
    assert os.stat(folder / "key").st_mode & 0o077 == 0


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The case files `load` reads from now on."""
    seen: list[str] = []
    real = loader.read_limited

    def counting(path: str) -> bytes | int:
        if path.endswith(".md"):
            seen.append(path)
        return real(path)

    monkeypatch.setattr(loader, "read_limited", counting)
    monkeypatch.setattr(workers, "read_limited", counting)
    return seen


def _age(root: Path, seconds: float) -> None:
    """Every case file as if written `seconds` ago (mtime; the ctime stays, as it must)."""
    for path in (root / "cases").rglob("*.md"):
        then = path.stat().st_mtime - seconds
        os.utime(path, (then, then))


def test_unchanged_files_are_not_read_again(demo: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 0)
    time.sleep(0.05)  # the files' ctime falls before the table's writing
    load(demo)
    reads = _reads(monkeypatch)
    again = load(demo)
    assert again.worked == 0 and reads == []
    assert len(again.files) == 23


def test_a_file_changed_in_place_is_read_again_even_with_its_old_size_and_mtime(
        demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 0)
    path = demo / "cases" / "il-portico.md"
    time.sleep(0.05)
    load(demo)
    before = path.stat()
    text = path.read_text("utf-8")
    assert "amount: 1952.00" in text
    path.write_text(text.replace("amount: 1952.00", "amount: -952.00", 1), "utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # a same-size edit, old mtime
    assert path.stat().st_size == before.st_size
    reads = _reads(monkeypatch)
    again = load(demo)
    assert set(reads) == {str(path)}  # its ctime moved: it is read, the other 19 are not
    assert any(d.path == "cases/il-portico.md" and "amount" in d.message
               for d in again.diagnostics)


def test_a_file_changed_just_before_the_cache_was_written_is_read_again(
        demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git's racily clean entries: a signature taken within the margin of the table's
    writing could hide a second change in the same clock tick, so it is not kept."""
    _age(demo, 0)  # every file's ctime is now, within the margin
    load(demo)
    reads = _reads(monkeypatch)
    load(demo)
    assert len(reads) == 23
