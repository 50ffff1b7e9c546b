"""A commit renders again only the cases whose own file it touched (SPEC 11), and the git
history behind that is read once and then kept in the cache by HEAD."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from casebook.history import commits
from casebook.site import build as build_module
from casebook.site.build import BuildFailed, build
from tests.conftest import tree

DAY = date(2026, 11, 20)
CASE = "cases/il-portico.md"


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-11-01T12:00:00+01:00",
           "GIT_COMMITTER_DATE": "2026-11-01T12:00:00+01:00"}
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=Giulia",
                           "-c", "user.email=g@example.it", "-c", "commit.gpgsign=false", *args],
                          check=True, capture_output=True, text=True, env=env)
    return done.stdout


@pytest.fixture
def repo(demo: Path) -> Path:
    (demo / ".gitignore").write_text("site/\n.casebook-cache/\n")
    git(demo, "init", "-q")
    git(demo, "add", "-A")
    git(demo, "commit", "-qm", "the demo")
    return demo


def note(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\n## 2026-11-20 note — {text}\n")


def page_of(root: Path, case: str = "il-portico") -> str:
    return (root / "site" / "cases" / f"{case}.html").read_text("utf-8")


def test_a_commit_touching_one_case_renders_that_case_only(repo: Path) -> None:
    assert build(repo, DAY).rendered == 23
    note(repo / CASE, "richiamata")
    git(repo, "commit", "-qam", "Il Portico: richiamata")
    result = build(repo, DAY)
    assert result.written and result.rendered == 1
    assert "Il Portico: richiamata" in page_of(repo)


def test_committing_an_edit_already_built_renders_its_page_again(repo: Path) -> None:
    """The file's content is the same; its page shows the new commit all the same."""
    build(repo, DAY)
    note(repo / CASE, "sollecito")
    assert build(repo, DAY).rendered == 1
    assert "Il Portico: sollecito" not in page_of(repo)
    git(repo, "commit", "-qam", "Il Portico: sollecito")
    result = build(repo, DAY)
    assert result.written and result.rendered == 1
    assert "Il Portico: sollecito" in page_of(repo)


def test_a_commit_that_touches_no_case_leaves_the_site_up_to_date(repo: Path) -> None:
    build(repo, DAY)
    before = page_of(repo)
    (repo / "NOTES.txt").write_text("not a case\n")
    git(repo, "add", "NOTES.txt")
    git(repo, "commit", "-qm", "notes")
    result = build(repo, DAY)
    assert not result.written and result.rendered == 0
    assert page_of(repo) == before


def test_other_cases_keep_their_files_across_a_commit(repo: Path) -> None:
    build(repo, DAY)
    other = repo / "site" / "cases" / "albergo-lago-blu.html"
    inode = other.stat().st_ino
    note(repo / CASE, "x")
    git(repo, "commit", "-qam", "x")
    assert build(repo, DAY).rendered == 1
    assert other.stat().st_ino == inode  # linked from the previous site, not rendered


def test_histories_are_kept_by_head_and_extended_with_new_commits(repo: Path) -> None:
    first = commits.read_histories(repo)
    assert first.head == git(repo, "rev-parse", "HEAD").strip()
    assert (repo / ".casebook-cache" / "history.pickle").is_file()
    note(repo / CASE, "one")
    git(repo, "commit", "-qam", "one")
    git(repo, "mv", "cases/albergo-lago-blu.md", "cases/lago-blu.md")
    git(repo, "commit", "-qm", "renamed")
    kept = commits.read_histories(repo)
    (repo / ".casebook-cache" / "history.pickle").unlink()
    whole = commits.read_histories(repo)
    assert kept == whole  # the new commits on top of the kept map: what a whole pass reads
    assert [c.subject for c in whole.by_path[CASE]] == ["one", "the demo"]
    assert [c.subject for c in whole.by_path["cases/lago-blu.md"]] == ["renamed", "the demo"]
    assert whole.keys[CASE] != first.keys[CASE]
    assert whole.keys["cases/2026/colombo-costruzioni.md"] == \
        first.keys["cases/2026/colombo-costruzioni.md"]


def test_a_history_rewritten_is_read_whole_again(repo: Path) -> None:
    note(repo / CASE, "one")
    git(repo, "commit", "-qam", "one")
    commits.read_histories(repo)
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    note(repo / CASE, "two")
    git(repo, "commit", "-qam", "two")
    assert [c.subject for c in commits.read_histories(repo).by_path[CASE]] == ["two", "the demo"]


def test_outside_git_there_is_no_history(demo: Path) -> None:
    assert commits.read_histories(demo) == commits.Histories()
    assert build(demo, DAY).rendered == 23


# -- a build with a few cases changed updates the site where it stands ------------------------


def fresh_tree(root: Path, tmp_path: Path) -> dict[str, str]:
    copy = tmp_path / "fresh"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("site", ".casebook-cache", ".git"))
    build(copy, DAY)
    return tree(copy / "site")


def test_a_few_changed_cases_are_put_in_place(demo: Path, tmp_path: Path) -> None:
    build(demo, DAY)
    note(demo / CASE, "richiamata")
    (demo / "cases" / "albergo-lago-blu.md").unlink()
    result = build(demo, DAY)
    assert result.in_place and result.written and result.rendered == 1 and result.cases == 22
    assert tree(demo / "site") == fresh_tree(demo, tmp_path)  # what a new site would be
    assert not (demo / "site" / "cases" / "albergo-lago-blu.html").exists()
    assert not list((demo / ".casebook-cache").glob("site-update-*"))
    assert sorted(p.name for p in demo.iterdir()) == [".casebook-cache", "casebook.yml",
                                                      "cases", "site"]


def test_many_changed_cases_make_a_new_site(demo: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    build(demo, DAY)
    monkeypatch.setattr(build_module, "IN_PLACE_MAX", 1)
    note(demo / CASE, "uno")
    note(demo / "cases" / "albergo-lago-blu.md", "due")
    result = build(demo, DAY)
    assert result.written and not result.in_place and result.rendered == 2


def test_a_failed_build_leaves_no_cached_page_the_site_lacks(demo: Path) -> None:
    """The build that stops on an error has cached the pages of the cases it rendered; the
    next one renders them again, since they never reached the site."""
    build(demo, DAY)
    note(demo / CASE, "dopo l'errore")
    broken = demo / "cases" / "broken.md"
    broken.write_text("---\ndebtor: {}\n---\n")
    with pytest.raises(BuildFailed):
        build(demo, DAY)
    broken.unlink()
    result = build(demo, DAY)
    assert result.rendered == 1
    assert "dopo l&#39;errore" in page_of(demo) or "dopo l'errore" in page_of(demo)


def test_an_update_in_place_takes_out_the_calendar_of_an_owner_gone(demo: Path) -> None:
    """The whole-site files whose number varies (a calendar per owner, the table's data and
    pages) are taken out of the site when an update in place no longer writes them."""
    path = demo / "cases" / "tipografia-galli.md"
    path.write_text(path.read_text("utf-8").replace("owner: giulia", "owner: zeta"), "utf-8")
    build(demo, DAY)
    assert (demo / "site" / "actions-zeta.ics").is_file()
    path.write_text(path.read_text("utf-8").replace("owner: zeta", "owner: giulia"), "utf-8")
    result = build(demo, DAY)
    assert result.in_place and result.rendered == 1
    assert not (demo / "site" / "actions-zeta.ics").exists()
    in_place = tree(demo / "site")
    shutil.rmtree(demo / "site")
    shutil.rmtree(demo / ".casebook-cache")
    build(demo, DAY)
    assert tree(demo / "site") == in_place
