"""`casebook build --shard I/N` and `--merge DIR…`: N machines build the site a single one
builds, byte for byte, and a merge of shards that do not make one build is refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.site.shard import SHARD_DIR, Part, part_of
from tests.conftest import tree

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-20"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """The demo casebook with everything its cases refer to: e-invoices, own templates."""
    target = tmp_path / "book"
    target.mkdir()
    shutil.copy(ROOT / "casebook.yml", target / "casebook.yml")
    for folder in ("cases", "invoices", "templates"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, target / folder)
    return target


def invoke(book: Path, *args: str, today: str = DAY) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(book), "--today", today, *args])
    return result.exit_code, result.stdout, result.stderr


def shards(book: Path, total: int, *options: str) -> list[str]:
    folders = []
    for index in range(1, total + 1):
        folder = str(book / f"shard-{index}")
        code, out, err = invoke(book, "build", "--shard", f"{index}/{total}", "--out", folder,
                                *options)
        assert code in (0, 1) and f"built shard {index}/{total}" in out, err
        folders.append(folder)
    return folders


def test_three_shards_merged_are_the_one_machine_site_byte_for_byte(book: Path) -> None:
    code, _, err = invoke(book, "build", "--out", str(book / "whole"))
    assert code == 0, err
    folders = shards(book, 3)
    code, out, err = invoke(book, "build", "--merge", *folders, "--out", str(book / "merged"))
    assert code == 0 and "from 3 shards: 23 cases" in out, err
    whole, merged = tree(book / "whole"), tree(book / "merged")
    # every file, the stamp too: a later plain build finds the merged site up to date
    assert merged == whole
    assert "index.html" in whole and ".casebook-build" in whole
    assert not any(name.startswith(SHARD_DIR) for name in merged)


def test_each_case_is_rendered_by_exactly_one_shard(book: Path) -> None:
    folders = shards(book, 3)
    pages = [sorted(p.name for p in (Path(f) / "cases").rglob("*.html")) for f in folders]
    every = sorted(p.name for p in (book / "cases").rglob("*.md"))
    assert sorted(name for names in pages for name in names) == [
        name[:-3] + ".html" for name in every]
    assert not (Path(folders[0]) / "index.html").exists()  # the merge writes the dashboard


def test_a_shard_checks_the_whole_casebook(book: Path) -> None:
    """An invoice number used in two files is found by every shard, whichever renders the
    files; with --keep-going the merged site still equals the one-machine one."""
    source = next((book / "cases").glob("*.md"))
    shutil.copy(source, book / "cases" / "zz-copy.md")
    code, _, err = invoke(book, "build", "--shard", "1/2", "--out", str(book / "s1"))
    assert code == 1 and "zz-copy.md" in err and "build stopped" in err
    code, _, _ = invoke(book, "build", "--keep-going", "--out", str(book / "whole"))
    assert code == 1
    folders = shards(book, 2, "--keep-going")
    code, _, err = invoke(book, "build", "--merge", *folders, "--out", str(book / "merged"))
    assert code == 1, err
    assert tree(book / "merged") == tree(book / "whole")


def test_the_assignment_is_stable_and_covers_every_part() -> None:
    ids = [f"case-{n}" for n in range(400)]
    assert [part_of(i, 4) for i in ids] == [part_of(i, 4) for i in ids]
    assert {part_of(i, 4) for i in ids} == {1, 2, 3, 4}
    assert part_of("2026/rossi", 1) == 1
    assert part_of("rossi", 7) == 1  # a digest of the id: the same on every machine


@pytest.mark.parametrize("value", ["0/3", "4/3", "1/0", "3", "a/b", "1/3/2", "-1/3"])
def test_a_bad_shard_is_a_usage_error(book: Path, value: str) -> None:
    code, _, err = invoke(book, "build", "--shard", value)
    assert code == 2 and "--shard" in err
    assert "I/N" in err or "between" in err or "least" in err
    assert not (book / "site").exists()


def test_part_parses_i_of_n() -> None:
    assert Part.parse("2/5") == Part(2, 5) and str(Part(2, 5)) == "2/5"
    with pytest.raises(ValueError, match="between 1 and 3"):
        Part.parse("4/3")


def test_shard_and_merge_do_not_go_together(book: Path) -> None:
    code, _, err = invoke(book, "build", "--shard", "1/2", "--merge", "x")
    assert code == 2 and "cannot be used together" in err
    code, _, err = invoke(book, "build", "--merge")
    assert code == 2 and "needs the shards' folders" in err
    code, _, err = invoke(book, "build", "somewhere")
    assert code == 2 and "only --merge takes folders" in err


def test_missing_or_repeated_shards_are_refused(book: Path) -> None:
    one, two, three = shards(book, 3)
    out = str(book / "merged")
    code, _, err = invoke(book, "build", "--merge", one, three, "--out", out)
    assert code == 1 and "shards missing: 2/3" in err
    code, _, err = invoke(book, "build", "--merge", one, two, two, three, "--out", out)
    assert code == 1 and "shard 2/3 given twice" in err
    code, _, err = invoke(book, "build", "--merge", one, two, str(book / "cases"), "--out", out)
    assert code == 1 and "holds no shard" in err
    assert not (book / "merged").exists()


def test_shards_of_another_day_count_or_input_are_refused(book: Path) -> None:
    one, two = shards(book, 2)
    other = str(book / "other")
    invoke(book, "build", "--shard", "2/2", "--out", other, today="2026-11-21")
    out = str(book / "merged")
    code, _, err = invoke(book, "build", "--merge", one, other, "--out", out)
    assert code == 1 and "different day" in err and "same --today" in err
    code, _, err = invoke(book, "build", "--merge", one, two, "--out", out, today="2026-11-21")
    assert code == 1 and "the merge is for 2026-11-21" in err
    invoke(book, "build", "--shard", "3/3", "--out", other)
    code, _, err = invoke(book, "build", "--merge", one, other, "--out", out)
    assert code == 1 and "different number of shards" in err
    (book / "cases" / "il-portico.md").write_text(
        (book / "cases" / "il-portico.md").read_text("utf-8") + "\nA note.\n", "utf-8")
    invoke(book, "build", "--shard", "2/2", "--out", other)
    code, _, err = invoke(book, "build", "--merge", one, other, "--out", out)
    assert code == 1 and "different inputs" in err
    assert not (book / "merged").exists()


def test_damaged_pieces_are_refused(book: Path) -> None:
    one, two = shards(book, 2)
    pieces = Path(two) / SHARD_DIR / "pieces.pickle"
    pieces.write_bytes(pieces.read_bytes() + b"x")
    code, _, err = invoke(book, "build", "--merge", one, two, "--out", str(book / "merged"))
    assert code == 1 and "damaged or replaced" in err


def test_damaged_or_missing_pieces_files_are_refused(book: Path) -> None:
    """The cases' lines of the exports and rows of the dashboard travel in the shard's
    pieces files: their bytes go into the site, so each is checked against the header."""
    one, two = shards(book, 2)
    folder = Path(two) / SHARD_DIR / "pieces"
    (piece,) = folder.iterdir()
    data = piece.read_bytes()
    piece.write_bytes(data.replace(b"<td", b"<TD", 1))
    code, _, err = invoke(book, "build", "--merge", one, two, "--out", str(book / "merged"))
    assert code == 1 and "damaged or replaced" in err
    piece.unlink()
    code, _, err = invoke(book, "build", "--merge", one, two, "--out", str(book / "merged"))
    assert code == 1 and "does not hold the pieces files" in err
    assert not (book / "merged").exists()


def test_case_pages_with_git_history_merge_to_the_same_bytes(book: Path) -> None:
    """Each shard reads the files' history itself: the pages that show it are the same."""
    git = ["git", "-C", str(book), "-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "the cases"], check=True)
    invoke(book, "build", "--out", str(book / "whole"))
    folders = shards(book, 2)
    code, _, err = invoke(book, "build", "--merge", *folders, "--out", str(book / "merged"))
    assert code == 0, err
    assert tree(book / "merged") == tree(book / "whole")
    assert "the cases" in (book / "merged" / "cases" / "il-portico.html").read_text("utf-8")
