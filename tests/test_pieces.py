"""Each case's pieces of the whole-site files live on disk, not in memory: written where the
case is rendered, read as each whole-site file is written, collected once no cached result
names them; a piece gone makes the build render every case again, never a wrong site."""

from __future__ import annotations

import os
import time
from array import array
from datetime import date
from pathlib import Path

import pytest

from casebook.load.cache import CACHE_DIR, read_table
from casebook.site.build import build
from casebook.site.pages import CaseOutput
from casebook.site.pieces import (
    GRACE,
    Piece,
    PieceReader,
    PiecesLost,
    PieceWriter,
    cache_folder,
    collect,
)
from tests.conftest import tree

DAY = date(2026, 11, 20)


def test_pieces_read_back_part_by_part_and_lazily(tmp_path: Path) -> None:
    writer = PieceWriter(tmp_path / "pieces")
    first = writer.put([b"a1", b"", b"a333"])
    second = writer.put([b"b1", b"b22", b"b4444"])
    assert first.file == second.file and second.offset == 6
    assert first.sizes == (2, 0, 4) and second.sizes == (2, 3, 5)
    reader = PieceReader([tmp_path / "elsewhere", tmp_path / "pieces"])
    assert reader.part(first, 0) == b"a1" and reader.part(first, 1) == b""
    assert reader.part(second, -1) == b"b4444"
    parts = reader.parts([second, first, second], 1)
    assert len(parts) == 3 and list(parts) == [b"b22", b"", b"b22"]
    assert list(parts[1:]) == [b"", b"b22"] and parts[0] == b"b22"


def test_a_forked_process_writes_a_file_of_its_own(tmp_path: Path) -> None:
    writer = PieceWriter(tmp_path)
    mine = writer.put([b"parent"])
    pid = os.fork()
    if pid == 0:  # the child: its piece must not land in the parent's file
        code = 0 if writer.put([b"child"]).file != mine.file else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(list(tmp_path.glob("*.bin"))) == 2
    assert PieceReader([tmp_path]).part(writer.put([b"again"]), 0) == b"again"


def test_a_piece_gone_or_cut_short_is_lost(tmp_path: Path) -> None:
    writer = PieceWriter(tmp_path)
    piece = writer.put([b"12345"])
    with pytest.raises(PiecesLost):
        PieceReader([tmp_path]).part(Piece(piece.file, piece.offset, array("I", [9]).tobytes()),
                                     0)
    with pytest.raises(PiecesLost):
        PieceReader([tmp_path]).part(Piece("nowhere.bin", 0, array("I", [1]).tobytes()), 0)


def test_collect_keeps_what_is_named_and_what_is_recent(tmp_path: Path) -> None:
    for name in ("named.bin", "old.bin", "recent.bin", "other.txt"):
        (tmp_path / name).write_bytes(b"x")
    old = time.time() - GRACE - 60
    for name in ("named.bin", "old.bin", "other.txt"):
        os.utime(tmp_path / name, (old, old))
    collect(tmp_path, {"named.bin"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["named.bin", "other.txt",
                                                         "recent.bin"]


def test_the_cache_holds_rows_and_places_not_the_pieces(demo: Path) -> None:
    build(demo, DAY)
    results: dict[str, tuple[str, CaseOutput]] = {}
    for shard in range(16):
        table = read_table(demo / CACHE_DIR, f"results-build-{shard:02d}")
        if table is not None:
            results.update(table["entries"])
    assert len(results) == 23
    for _key, output in results.values():
        assert isinstance(output.piece, Piece) and not any(
            isinstance(value, bytes) for value in output)
    files = {output.piece.file for _key, output in results.values()}
    assert {p.name for p in cache_folder(demo).iterdir()} == files


def test_pieces_lost_make_the_next_build_render_every_case(demo: Path, tmp_path: Path
                                                            ) -> None:
    build(demo, DAY)
    for piece in cache_folder(demo).iterdir():
        piece.unlink()
    path = demo / "cases" / "il-portico.md"
    path.write_text(path.read_text() + "\n## 2026-11-19 phone\n\nCalled again.\n")
    result = build(demo, DAY)
    assert result.rendered == 23  # every case again: the others' pieces were gone
    cold = tmp_path / "cold"
    build(demo, DAY, out=cold, reuse_site=False)
    site, again = tree(demo / "site"), tree(cold)
    site.pop(".casebook-build"), again.pop(".casebook-build")
    assert site == again


def test_a_casebooks_own_dashboard_still_lists_every_row(demo: Path) -> None:
    """Only what places a row stays in memory; a template that lists the rows reads them."""
    (demo / "templates").mkdir(exist_ok=True)
    (demo / "templates" / "index.html").write_text(
        "{% for row in site.rows %}<p>{{ row.debtor }}|{{ row.balance }}</p>{% endfor %}"
        "{% for row in site.agenda %}<i>{{ row.id }}</i>{% endfor %}"
        "<b>{{ site.rows[0].id }} {{ site.rows[1:3]|length }}</b>")
    result = build(demo, DAY)
    page = (demo / "site" / "index.html").read_text()
    assert page.count("<p>") == result.cases == 23
    assert "<p>Il Portico S.n.c. di Brembilla Dario &amp; C.|" in page
    state = result.state
    assert state is not None
    first = state.by_urgency[0].row.id
    assert f"<b>{first} 2</b>" in page
    assert page.count("<i>") == len(state.agenda)
