"""`casebook build` and `casebook letter`: what is written, when, and what a failure leaves."""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.model import Creditor
from casebook.site import build as build_module
from casebook.site import sitefolder
from casebook.site.build import BuildFailed, build
from casebook.site.letters import place_of
from casebook.site.sitefolder import trash_folder
from casebook.write.scaffold import GITIGNORE
from tests.conftest import tree

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)


def test_build_writes_the_whole_site(demo: Path) -> None:
    result = build(demo, DAY)
    site = demo / "site"
    assert result.written and result.cases == 23 and result.rendered == 23
    for name in ("index.html", "actions.ics", "cases.csv", "casebook.json",
                 "assets/casebook.css", "assets/casebook.js",
                 "cases/il-portico.html", "cases/2026/officina-sala.html",
                 "letters/il-portico/formal-notice.html",
                 "letters/il-portico/statement.html",
                 "letters/privati/conti-paolo/plan-confirmation.html",
                 "letters/immobiliare-belvedere/dossier.html"):
        assert (site / name).is_file(), name
    exported = json.loads((site / "casebook.json").read_text())
    assert [r["case"] for r in exported] == sorted(r["case"] for r in exported)
    assert not list(demo.glob(".site.build-*"))
    assert not list(site.rglob("*.txt"))


def test_a_settled_case_gets_no_statement_unless_asked(demo: Path, tmp_path: Path) -> None:
    build(demo, DAY)
    site = demo / "site"
    page = (site / "cases/2026/colombo-costruzioni.html").read_text("utf-8")
    assert not (site / "letters/2026/colombo-costruzioni").exists()
    assert "statement.html" not in page
    assert "letters/il-portico/statement.html" in (site / "cases/il-portico.html").read_text()
    code, _, _ = invoke(demo, "letter", "2026/colombo-costruzioni", "statement",
                        "--out", str(tmp_path / "s.html"))
    assert code == 0 and "Estratto conto" in (tmp_path / "s.html").read_text("utf-8")


def test_each_letter_page_carries_its_plain_text(demo: Path) -> None:
    build(demo, DAY)
    page = (demo / "site/letters/il-portico/formal-notice.html").read_text("utf-8")
    text = CliRunner().invoke(main, ["-C", str(demo), "--today", DAY.isoformat(), "letter",
                                     "il-portico", "formal-notice", "--format", "text"]).output
    assert "costituzione in mora" in text.lower()
    shown = page.split('<details class="plain">', 1)[1].split("<pre>", 1)[1].split("</pre>")[0]
    assert html.unescape(shown) == text.rstrip("\n") or html.unescape(shown) == text
    assert "@media print { .plain { display: none; } }" in page


def test_same_input_and_day_give_identical_bytes(demo: Path, tmp_path: Path) -> None:
    build(demo, DAY)
    first = tree(demo / "site")
    shutil.rmtree(demo / "site")
    shutil.rmtree(demo / ".casebook-cache")
    build(demo, DAY)
    assert tree(demo / "site") == first


def test_nothing_changed_leaves_the_site_alone(demo: Path) -> None:
    build(demo, DAY)
    index = demo / "site" / "index.html"
    before = index.stat().st_ino
    result = build(demo, DAY)
    assert not result.written
    assert index.stat().st_ino == before


def test_one_changed_case_is_the_only_one_rendered(demo: Path) -> None:
    build(demo, DAY)
    untouched = (demo / "site" / "cases" / "il-portico.html").stat().st_ino
    path = demo / "cases" / "gelateria-donizetti.md"
    path.write_text(path.read_text().replace("Gelateria Donizetti S.r.l.", "Gelateria Nuova"))
    result = build(demo, DAY)
    assert result.written and result.rendered == 1
    assert "Gelateria Nuova" in (demo / "site" / "cases" / "gelateria-donizetti.html").read_text()
    assert "Gelateria Nuova" in (demo / "site" / "table-1.html").read_text()  # the dashboard
    assert "Gelateria Nuova" in (demo / "site" / "rows-0000.js").read_text()
    # the unchanged page is the same file, linked from the previous site
    assert (demo / "site" / "cases" / "il-portico.html").stat().st_ino == untouched


def test_another_day_renders_everything_again(demo: Path) -> None:
    build(demo, DAY)
    result = build(demo, date(2026, 11, 21))
    assert result.rendered == 23


def test_an_invalid_case_stops_the_build_and_keeps_the_site(demo: Path) -> None:
    build(demo, DAY)
    before = tree(demo / "site")
    (demo / "cases" / "broken.md").write_text("---\ndebtor: {name: x}\ninvoices: 3\n---\n")
    with pytest.raises(BuildFailed) as failed:
        build(demo, DAY)
    assert [d.path for d in failed.value.diagnostics if d.severity == "error"] == [
        "cases/broken.md"]
    assert tree(demo / "site") == before
    assert not list(demo.glob(".site.build-*"))


def test_keep_going_lists_the_invalid_files_on_the_dashboard(demo: Path) -> None:
    (demo / "cases" / "broken.md").write_text("---\ndebtor: {name: x}\ninvoices: 3\n---\n")
    result = build(demo, DAY, keep_going=True)
    assert result.invalid == ["cases/broken.md"] and result.cases == 23
    index = (demo / "site" / "index.html").read_text()
    assert "cases/broken.md" in index
    assert not (demo / "site" / "cases" / "broken.html").exists()


def test_a_crash_while_rendering_keeps_the_previous_site(demo: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    build(demo, DAY)
    before = tree(demo / "site")
    calls = {"n": 0}
    original = build_module.Renderer.write_case

    def failing(self, case, out):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk on fire")
        return original(self, case, out)

    monkeypatch.setattr(build_module.Renderer, "write_case", failing)
    with pytest.raises(RuntimeError):
        build(demo, date(2026, 11, 21))
    assert tree(demo / "site") == before
    assert not list(demo.glob(".site.build-*"))


def test_the_casebooks_own_template_overrides_the_shipped_one(demo: Path) -> None:
    (demo / "templates").mkdir()
    (demo / "templates" / "case.html").write_text(
        "<p>{{ case.debtor.name }} owes {{ case.balance|money }}</p>\n")
    build(demo, DAY)
    page = (demo / "site" / "cases" / "il-portico.html").read_text()
    assert page == "<p>Il Portico S.n.c. di Brembilla Dario &amp; C. owes 1.452,00\xa0€</p>\n"


def test_a_template_cannot_read_outside_the_template_folders(demo: Path) -> None:
    (demo / "secret.txt").write_text("s3cret")
    (demo / "templates").mkdir()
    (demo / "templates" / "case.html").write_text('{% include "../secret.txt" %}')
    import jinja2

    with pytest.raises(jinja2.TemplateNotFound):
        build(demo, DAY)


def test_git_history_on_the_case_page(demo: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(demo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=Giulia", "-c", "user.email=g@example.it", "add", ".")
    git("-c", "user.name=Giulia", "-c", "user.email=g@example.it", "commit", "-qm",
        "Demo cases")
    git("mv", "cases/il-portico.md", "cases/portico.md")
    git("-c", "user.name=Luca", "-c", "user.email=l@example.it", "commit", "-qm",
        "Rename Portico")
    build(demo, DAY)
    page = (demo / "site" / "cases" / "portico.html").read_text()
    assert "Rename Portico" in page and "Demo cases" in page
    assert "Luca" in page and "Giulia" in page


def test_no_git_history_outside_a_repository(demo: Path) -> None:
    build(demo, DAY)
    assert "Demo cases" not in (demo / "site" / "cases" / "il-portico.html").read_text()


def test_place_of_the_creditor() -> None:
    assert place_of(Creditor(address="Via Verdi 2, 20121 Milano MI")) == "Milano"
    assert place_of(Creditor(address="Via Provinciale 48\n24021 Albino BG")) == "Albino"
    assert place_of(Creditor(address="1 High Street, London")) == "London"
    assert place_of(Creditor()) == ""


# -- the commands ------------------------------------------------------------------------------


def invoke(demo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-C", str(demo), "--today", "2026-11-20", *args])
    return result.exit_code, result.stdout, result.stderr


def test_build_command_exit_codes(demo: Path) -> None:
    code, out, _ = invoke(demo, "build")
    assert code == 0 and out.endswith("/demo/site: 23 cases, 23 rendered\n"), out
    code, out, _ = invoke(demo, "build")
    assert code == 0 and "up to date" in out
    (demo / "cases" / "broken.md").write_text("---\n---\n")
    code, _, err = invoke(demo, "build")
    assert code == 1
    assert "cases/broken.md:1:1: error: the front matter is empty" in err
    assert "the site was left as it was" in err
    code, _, _ = invoke(demo, "build", "--keep-going")
    assert code == 1


def test_build_out_folder(demo: Path, tmp_path: Path) -> None:
    code, _, _ = invoke(demo, "build", "--out", str(tmp_path / "public"))
    assert code == 0
    assert (tmp_path / "public" / "index.html").is_file()
    assert not (demo / "site").exists()


def test_letter_command(demo: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(demo, "letter", "il-portico")
    assert code == 0 and "<html" in out  # the next action's letter: the formal notice
    code, text, _ = invoke(demo, "letter", "il-portico", "diffida", "--format", "text")
    assert code == 0 and "<" not in text.split("\n", 1)[0]
    code, _, _ = invoke(demo, "letter", "il-portico", "statement", "--out",
                        str(tmp_path / "s.html"))
    assert code == 0 and (tmp_path / "s.html").read_text().startswith("<!")
    code, _, err = invoke(demo, "letter", "gelateria-donizetti")
    assert code == 1 and "has no letter" in err
    code, _, err = invoke(demo, "letter", "il-portico", "nonsense")
    assert code == 1 and "no letter 'nonsense'" in err


def test_an_override_can_extend_the_shipped_template(demo: Path) -> None:
    target = demo / "templates" / "letters" / "it"
    target.mkdir(parents=True)
    shutil.copy(ROOT / "templates" / "examples" / "formal-notice-termination.html",
                target / "formal-notice.html")
    build(demo, DAY)
    letter = (demo / "site" / "letters" / "il-portico" / "formal-notice.html").read_text()
    assert "art. 1454 c.c." in letter and "risolto di diritto" in letter
    assert "Il Portico S.n.c." in letter  # the rest of the shipped letter is still there


def test_a_broken_template_is_a_one_line_error_and_keeps_the_site(demo: Path) -> None:
    build(demo, DAY)
    before = tree(demo / "site")
    (demo / "templates").mkdir()
    (demo / "templates" / "case.html").write_text("{% if %}\n")
    code, _, err = invoke(demo, "build")
    assert code == 1
    assert err.startswith("Error: template error: ") and "case.html:1" in err
    assert "Traceback" not in err
    assert tree(demo / "site") == before


def test_a_page_deleted_from_the_previous_site_is_rendered_again(demo: Path) -> None:
    build(demo, DAY)
    (demo / "site" / "cases" / "il-portico.html").unlink()
    path = demo / "cases" / "gelateria-donizetti.md"
    path.write_text(path.read_text().replace("Gelateria Donizetti S.r.l.", "Gelateria Nuova"))
    result = build(demo, DAY)
    assert result.written
    assert (demo / "site" / "cases" / "il-portico.html").is_file()


def test_leftovers_of_killed_builds_are_cleared(demo: Path) -> None:
    stale = [demo / ".site.build-123-x1", demo / ".site.build-_n8hc71j",
             demo / ".site.trash-123-0", demo / ".site.old-77"]
    for folder in stale:
        (folder / "cases").mkdir(parents=True)
    waiting = trash_folder(demo) / "999-0"
    (waiting / "cases").mkdir(parents=True)
    (demo / ".site.builder-notes").write_text("not ours")
    build(demo, DAY)
    assert not any(p.exists() for p in stale)  # moved out of the casebook at once
    assert gone_soon(trash_folder(demo), "*")  # and deleted in the background
    assert (demo / ".site.builder-notes").exists()


def gone_soon(folder: Path, pattern: str, seconds: float = 20.0) -> bool:
    """Whether nothing in `folder` matches `pattern` within `seconds`."""
    deadline = time.monotonic() + seconds
    while list(folder.glob(pattern)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def beside_the_site(book: Path) -> list[str]:
    """What stands in the casebook's folder besides what the user put there."""
    return sorted(p.name for p in book.iterdir()
                  if p.name not in ("casebook.yml", "cases", "site", ".casebook-cache"))


def test_the_old_site_is_deleted_in_the_background(demo: Path) -> None:
    build(demo, DAY)
    old_page = demo / "site" / "cases" / "il-portico.html"
    inode = old_page.stat().st_ino
    build(demo, DAY + timedelta(days=1))  # another day: every page is new
    assert (demo / "site" / "cases" / "il-portico.html").stat().st_ino != inode
    assert beside_the_site(demo) == []  # at once, not once the deleter is done
    assert gone_soon(trash_folder(demo), "*")


def test_the_old_site_is_deleted_here_when_no_process_can_start(
        demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(demo, DAY)

    def no_process(*args: object, **kwargs: object) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(sitefolder.subprocess, "Popen", no_process)
    build(demo, DAY + timedelta(days=1))
    assert beside_the_site(demo) == []
    assert list(trash_folder(demo).iterdir()) == []


def test_git_add_right_after_a_build_adds_no_generated_file(demo: Path) -> None:
    """SPEC 1: once a command has exited, nothing of its own stands in the casebook but
    `site/` and `.casebook-cache/`, both ignored by the `.gitignore` that `init` writes."""
    (demo / ".gitignore").write_text(GITIGNORE)
    git = ["git", "-C", str(demo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "cases"], check=True)
    for day in range(3):  # each build after the first throws an old site away
        build(demo, DAY + timedelta(days=day))
        added = subprocess.run([*git, "add", "-A", "--dry-run"], check=True,
                               capture_output=True, text=True).stdout
        assert added == ""


def test_one_build_at_a_time(demo: Path) -> None:
    import threading

    from casebook.site.sitefolder import build_lock

    done = threading.Event()
    with build_lock(demo / "site"):
        worker = threading.Thread(target=lambda: (build(demo, DAY), done.set()))
        worker.start()
        assert not done.wait(1.0)  # waits for the lock
    worker.join(60)
    assert done.is_set() and (demo / "site" / "index.html").is_file()


def test_the_site_folder_is_readable_by_others(demo: Path) -> None:
    mask = os.umask(0o022)
    try:
        build(demo, DAY)
    finally:
        os.umask(mask)
    assert (demo / "site").stat().st_mode & 0o777 == 0o755


def test_every_export_is_built_linked_and_written_alike_by_the_cli(tmp_path: Path) -> None:
    """`site/outputs.py` lists the exports once: the build makes each file, the dashboard links
    to it, and `casebook export` with its format and dialect writes the same content (the
    calendar in another order: the site lists the most urgent first)."""
    from click.testing import CliRunner

    from casebook.cli.main import main
    from casebook.site.outputs import DIALECTS, EXPORTS, FORMATS

    book = tmp_path / "book"
    shutil.copytree(ROOT / "cases", book / "cases")
    shutil.copy(ROOT / "casebook.yml", book / "casebook.yml")
    build(book, DAY)
    index = (book / "site" / "index.html").read_text()
    assert {e.format for e in EXPORTS} == set(FORMATS)
    assert {e.dialect for e in EXPORTS if e.dialect} == set(DIALECTS)
    for export in EXPORTS:
        built = (book / "site" / export.file).read_bytes()
        assert f'href="{export.file}"' in index
        args = ["-C", str(book), "--today", DAY.isoformat(), "export", "--format", export.format]
        if export.dialect is not None:
            args += ["--dialect", export.dialect]
        written = CliRunner().invoke(main, args).stdout_bytes
        if export.order == "case":
            assert written == built, export.file
        else:
            events = [sorted(text.removesuffix(b"END:VCALENDAR\r\n").split(b"BEGIN:VEVENT"))
                      for text in (written, built)]
            assert events[0] == events[1] and len(events[0]) > 2


@pytest.mark.parametrize("parallel", [False, True])
def test_cases_the_checks_refuse_leave_nothing_in_the_site(
        demo: Path, parallel: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each case is rendered where it is parsed, before the casebook-wide checks: a case they
    then refuse (its invoice number used in another file too) has its files taken out again,
    and its result is not cached, so it is rendered once it is valid."""
    if parallel:  # the workers' road, on the demo's two dozen files
        monkeypatch.setattr("casebook.load.workers.PARALLEL_FROM", 1)
    text = (demo / "cases" / "il-portico.md").read_text()
    (demo / "cases" / "copy.md").write_text(text.replace("Il Portico", "Copia"))
    result = build(demo, DAY, keep_going=True)
    assert result.invalid == ["cases/copy.md", "cases/il-portico.md"]
    site = demo / "site"
    for cid in ("copy", "il-portico"):
        assert not (site / "cases" / f"{cid}.html").exists()
        assert not (site / "letters" / cid).exists()
    assert (site / "cases" / "edil-moretti.html").is_file()
    (demo / "cases" / "copy.md").unlink()
    again = build(demo, DAY, keep_going=True)
    assert again.invalid == [] and again.rendered == 1
    assert (site / "cases" / "il-portico.html").is_file()
    assert (site / "letters" / "il-portico").is_dir()
