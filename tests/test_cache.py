"""The caches: a casebook from someone else's repository can carry a `.casebook-cache/`, and
nothing in it may ever be unpickled or run."""

from __future__ import annotations

import os
import pickle
from datetime import date
from pathlib import Path

from casebook import usercache
from casebook.build import build
from casebook.loader import CACHE_DIR, load

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
    assert result.written and result.cases == 20
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
    assert all(p.suffix == ".pickle" or p.name == ".gitignore" for p in inside), inside
    folder = usercache.user_cache_dir()
    assert folder is not None and any((folder / "templates").iterdir())
    assert demo.resolve() not in folder.resolve().parents


def test_the_key_is_private() -> None:
    folder = usercache.user_cache_dir()
    assert folder is not None
    usercache.seal(b"x")
    assert os.stat(folder / "key").st_mode & 0o077 == 0
