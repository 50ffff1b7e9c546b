"""The preview's in-place updates give the site a full build would give, byte for byte."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from casebook.site.build import BuildFailed, build
from casebook.site.incremental import LiveBuild
from casebook.site.sitefolder import STAMP_FILE, read_stamp
from tests.conftest import tree as site_tree

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)
PAID = "    reference: CRO 1219330017452\n"
PAYMENT = PAID + '  - {date: 2026-11-18, amount: 2318.00, invoice: "2026/151"}\n'


def tree(folder: Path) -> dict[str, str]:
    """The site's files but the stamp (which names the cases updated in place)."""
    return {k: v for k, v in site_tree(folder).items() if k != STAMP_FILE}


def fresh(book: Path, tmp_path: Path) -> dict[str, str]:
    """The site a full build of the casebook's current files gives, in a copy of it."""
    copy = tmp_path / "fresh"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(book, copy, ignore=shutil.ignore_patterns("site", ".casebook-cache"))
    build(copy, DAY)
    return tree(copy / "site")


def edit(book: Path, case: str, old: str, new: str) -> str:
    path = book / "cases" / f"{case}.md"
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), "utf-8")
    return f"cases/{case}.md"


def test_in_place_updates_match_a_full_build(demo: Path, tmp_path: Path) -> None:
    live = LiveBuild()
    out = demo / "site"
    assert live(demo, DAY, out).written

    # a payment, with the letters it no longer needs
    changed = edit(demo, "carrozzeria-nava", PAID, PAYMENT)
    result = live(demo, DAY, out, (changed,))
    assert result.rendered == 1
    assert tree(out) == fresh(demo, tmp_path)
    # what the update replaced waits in the ignored cache, never beside the site
    assert sorted(p.name for p in demo.iterdir()) == [".casebook-cache", "casebook.yml",
                                                      "cases", "site"]

    # a new case, a deleted case, a renamed case, in one burst
    shutil.copy(demo / "cases/il-portico.md", demo / "cases/2026/il-portico-bis.md")
    edit(demo, "2026/il-portico-bis", '"2026/120"', '"X2026/120"')
    (demo / "cases/tipografia-galli.md").unlink()
    (demo / "cases/mobilificio-carrara.md").rename(demo / "cases/mobili-carrara.md")
    burst = ("cases/2026/il-portico-bis.md", "cases/tipografia-galli.md",
             "cases/mobilificio-carrara.md", "cases/mobili-carrara.md")
    live(demo, DAY, out, burst)
    assert tree(out) == fresh(demo, tmp_path)
    assert not (out / "letters/tipografia-galli").exists()


def test_owners_statuses_and_the_agenda_follow_in_place_updates(demo: Path,
                                                                 tmp_path: Path) -> None:
    """The dashboard's orders and lists are kept by each update rather than made again from
    every case (`incremental._Ranking`): a new owner, the last case of an owner gone, a case
    leaving the agenda, each must give the page a full build gives."""
    live = LiveBuild()
    out = demo / "site"
    live(demo, DAY, out)
    steps = [
        ("albergo-lago-blu", "owner: marta", "owner: zeno"),  # a new owner
        ("carrozzeria-nava", PAID, PAYMENT),  # settles: off the agenda
        ("albergo-lago-blu", "owner: zeno", "owner: marta"),  # zeno gone again
    ]
    for case, old, new in steps:
        assert live(demo, DAY, out, (edit(demo, case, old, new),)).in_place
        assert tree(out) == fresh(demo, tmp_path)
    page = (out / "index.html").read_text("utf-8")
    assert "zeno" not in page


def test_a_broken_save_keeps_the_site_and_the_next_change_carries_it(
        demo: Path, tmp_path: Path) -> None:
    live = LiveBuild()
    out = demo / "site"
    live(demo, DAY, out)
    before = tree(out)
    broken = edit(demo, "il-portico", "amount: ", "amount: twelve ")  # every amount
    with pytest.raises(BuildFailed):
        live(demo, DAY, out, (broken,))
    assert tree(out) == before
    # another file changes while il-portico is still broken: still a failure
    other = edit(demo, "carrozzeria-nava", PAID, PAYMENT)
    with pytest.raises(BuildFailed):
        live(demo, DAY, out, (other,))
    assert tree(out) == before
    edit(demo, "il-portico", "amount: twelve ", "amount: ")
    live(demo, DAY, out, ("cases/il-portico.md",))
    assert tree(out) == fresh(demo, tmp_path)


def test_the_next_full_build_renders_what_was_updated_in_place(demo: Path) -> None:
    live = LiveBuild()
    out = demo / "site"
    live(demo, DAY, out)
    original = (demo / "cases/carrozzeria-nava.md").read_text("utf-8")
    page = out / "cases/carrozzeria-nava.html"
    first = page.read_bytes()
    changed = edit(demo, "carrozzeria-nava", PAID, PAYMENT)
    live(demo, DAY, out, (changed,))
    assert page.read_bytes() != first
    assert read_stamp(out)[2] == {changed}
    # back to the content of the full build: its cached pages must not be trusted blindly
    (demo / "cases/carrozzeria-nava.md").write_text(original, "utf-8")
    result = build(demo, DAY)
    assert result.written and result.rendered == 1
    assert page.read_bytes() == first
    assert read_stamp(out)[2] == frozenset()


def test_other_changes_take_a_full_build(demo: Path) -> None:
    live = LiveBuild()
    out = demo / "site"
    live(demo, DAY, out)
    config = demo / "casebook.yml"
    config.write_text(config.read_text("utf-8").replace("locale: it", "locale: en"), "utf-8")
    result = live(demo, DAY, out, ("casebook.yml",))
    assert result.rendered == 23
    assert 'lang="en"' in (out / "index.html").read_text("utf-8")
    assert live(demo, date(2026, 11, 21), out, ("cases/il-portico.md",)).rendered == 23


def test_an_invoice_number_used_twice_fails_the_update(demo: Path) -> None:
    live = LiveBuild()
    out = demo / "site"
    live(demo, DAY, out)
    before = tree(out)
    changed = edit(demo, "carrozzeria-nava", '"2026/165"', '"2026/120"')  # il-portico's
    with pytest.raises(BuildFailed) as failed:
        live(demo, DAY, out, (changed,))
    where = {d.path for d in failed.value.diagnostics if d.code == "duplicate-invoice"}
    assert where == {"cases/carrozzeria-nava.md", "cases/il-portico.md"}
    assert tree(out) == before
    edit(demo, "carrozzeria-nava", '"2026/120"', '"2026/165"')
    assert live(demo, DAY, out, (changed,)).in_place
