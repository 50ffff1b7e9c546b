"""`casebook watch` and `serve`: which events count, one rebuild per save, the server, the
error overlay and live reload in a real browser (Debian's Chromium, driven by Playwright).

Everything listens on 127.0.0.1 only; every wait is bounded; each test stops what it started.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from watchdog.events import (
    DirCreatedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
    FileSystemEvent,
)

from casebook.cli.main import main
from casebook.diagnostics import Diagnostic, Severity
from casebook.errors import CasebookError
from casebook.serve.http import LiveSite, PortBusy, bind, inject
from casebook.serve.preview import Preview
from casebook.serve.watch import EVENT_FILTER, Debouncer, changed_paths, source_path
from casebook.site.build import BuildFailed, BuildResult
from tests.conftest import CHROMIUM

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 20)
BROKEN = "---\ndebtor: [\n---\n"


def until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Poll `condition` for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A copy of the demo casebook."""
    shutil.copy(ROOT / "casebook.yml", tmp_path / "casebook.yml")
    shutil.copytree(ROOT / "cases", tmp_path / "cases")
    return tmp_path


# -- which events count ------------------------------------------------------------------------


@pytest.mark.parametrize("relative", [
    "cases/.il-portico.md.swp", "cases/.il-portico.md.swx", "cases/il-portico.md~", "cases/4913",
    "cases/.#il-portico.md", "cases/#il-portico.md#", "cases/.il-portico.md.x1y2.tmp",
    "cases/.hidden/rossi.md", "casebook.yml~", ".casebook-cache/results.pickle",
    "site/index.html", "site/cases/rossi.md", ".site.build-abc/index.html",
    "cases/notes.txt", "README.md", "templates/.index.html.swp",
])
def test_editor_litter_output_and_other_files_are_ignored(tmp_path: Path, relative: str) -> None:
    out = tmp_path / "site"
    assert source_path(str(tmp_path / relative), tmp_path, out) is None


@pytest.mark.parametrize("relative", [
    "casebook.yml", "cases/il-portico.md", "cases/2026/officina-sala.md",
    "templates/index.html", "templates/assets/casebook.css", "cases", "templates",
])
def test_sources_count(tmp_path: Path, relative: str) -> None:
    assert source_path(str(tmp_path / relative), tmp_path, tmp_path / "site") == relative


def test_a_folder_under_cases_counts_but_not_elsewhere(tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert source_path(str(tmp_path / "cases/2027"), tmp_path, out, directory=True) == \
        "cases/2027"
    assert source_path(str(tmp_path / "docs"), tmp_path, out, directory=True) is None


def test_a_rename_save_counts_by_its_destination(tmp_path: Path) -> None:
    """Editors and `casebook log` write a hidden temp file and rename it over the case."""
    cases, out = tmp_path / "cases", tmp_path / "site"
    save = FileMovedEvent(str(cases / ".rossi.md.abc.tmp"), str(cases / "rossi.md"))
    assert changed_paths(save, tmp_path, out) == ("cases/rossi.md",)
    backup = FileMovedEvent(str(cases / "rossi.md"), str(cases / "rossi.md~"))
    assert changed_paths(backup, tmp_path, out) == ("cases/rossi.md",)
    folder = DirMovedEvent(str(cases / "2025"), str(cases / "archivio"))
    assert changed_paths(folder, tmp_path, out) == ("cases/2025", "cases/archivio")
    away = FileMovedEvent(str(cases / "rossi.md"), str(tmp_path / "rossi.md"))
    assert changed_paths(away, tmp_path, out) == ("cases/rossi.md",)


def test_reads_and_folder_modifications_never_count(tmp_path: Path) -> None:
    case = str(tmp_path / "cases" / "rossi.md")
    for event in (FileOpenedEvent(case), FileClosedNoWriteEvent(case),
                  DirModifiedEvent(str(tmp_path / "cases"))):
        assert changed_paths(event, tmp_path, tmp_path / "site") == ()
    assert not {FileOpenedEvent, FileClosedNoWriteEvent, DirModifiedEvent} & set(EVENT_FILTER)
    for kept in (FileCreatedEvent, FileModifiedEvent, FileMovedEvent, FileDeletedEvent,
                 FileClosedEvent, DirCreatedEvent):
        assert kept in EVENT_FILTER


# -- one burst, one rebuild --------------------------------------------------------------------


class FakeBuild:
    """Counts builds; fails while `failing` holds diagnostics."""

    def __init__(self) -> None:
        self.calls = 0
        self.failing: list[Diagnostic] = []

    def __call__(self, root: Path, today: date, out: Path,
                 changed: tuple[str, ...] | None = None) -> BuildResult:
        self.calls += 1
        if self.failing:
            raise BuildFailed(self.failing)
        return BuildResult(out=out, diagnostics=[], cases=1, rendered=1, written=True)


@pytest.fixture
def looping(tmp_path: Path) -> Iterator[tuple[Preview, FakeBuild]]:
    """A preview whose rebuild loop runs in a thread, with a fake build."""
    (tmp_path / "cases").mkdir()
    fake = FakeBuild()
    preview = Preview(tmp_path, lambda: DAY, quiet=0.1, builder=fake)
    loop = threading.Thread(target=preview.run, daemon=True)
    loop.start()
    yield preview, fake
    preview.close()
    loop.join(timeout=5)
    assert not loop.is_alive()


def vim_save(cases: Path) -> list[FileSystemEvent]:
    """The 15-odd events of one `:w` in vim (backup by rename, new file, swap file)."""
    case, swap = str(cases / "rossi.md"), str(cases / ".rossi.md.swp")
    probe = str(cases / "4913")
    return [FileCreatedEvent(probe), FileOpenedEvent(probe), FileClosedEvent(probe),
            FileDeletedEvent(probe), FileMovedEvent(case, case + "~"), FileCreatedEvent(case),
            FileOpenedEvent(case), FileModifiedEvent(case), FileModifiedEvent(case),
            FileClosedEvent(case), FileModifiedEvent(swap), FileDeletedEvent(case + "~"),
            DirModifiedEvent(str(cases)), FileModifiedEvent(swap), FileClosedNoWriteEvent(case)]


def test_a_burst_of_events_is_one_rebuild(looping: tuple[Preview, FakeBuild],
                                          tmp_path: Path) -> None:
    preview, fake = looping
    reports = []
    preview.report = reports.append
    for event in vim_save(tmp_path / "cases"):
        preview.watcher.handler.dispatch(event)
    assert until(lambda: fake.calls >= 1)
    time.sleep(0.4)  # four quiet periods: nothing more comes
    assert fake.calls == 1
    assert reports[0].paths == ("cases/rossi.md",) and reports[0].ok


def test_litter_alone_never_rebuilds(looping: tuple[Preview, FakeBuild], tmp_path: Path) -> None:
    preview, fake = looping
    cases = tmp_path / "cases"
    for event in (FileModifiedEvent(str(cases / ".rossi.md.swp")), FileCreatedEvent(
            str(cases / "4913")), FileOpenedEvent(str(cases / "rossi.md")),
            FileModifiedEvent(str(tmp_path / "site" / "index.html"))):
        preview.watcher.handler.dispatch(event)
    time.sleep(0.4)
    assert fake.calls == 0


def test_the_debouncer_waits_for_quiet() -> None:
    debouncer = Debouncer(quiet=0.3)
    bursts = []
    collector = threading.Thread(target=lambda: bursts.extend(iter(debouncer.wait, None)))
    collector.start()
    for n in range(10):  # 10 ms apart: well inside the quiet period
        debouncer.poke([f"cases/{n % 2}.md"])
        time.sleep(0.01)
    assert until(lambda: len(bursts) == 1)
    debouncer.close()
    collector.join(timeout=5)
    assert len(bursts) == 1 and bursts[0].paths == ("cases/0.md", "cases/1.md")


def test_real_saves_through_inotify(tmp_path: Path) -> None:
    """The watcher on a real folder: litter and output are quiet, a rename-save is one
    rebuild, and a templates/ folder made after the start is watched too."""
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "rossi.md").write_text("old")
    fake = FakeBuild()
    reports = []
    preview = Preview(tmp_path, lambda: DAY, quiet=0.1, builder=fake, report=reports.append)
    preview.watch()
    loop = threading.Thread(target=preview.run, daemon=True)
    loop.start()
    try:
        (cases / ".rossi.md.swp").write_text("swap")
        (tmp_path / "site").mkdir()
        (tmp_path / "site" / "index.html").write_text("out")
        (tmp_path / ".casebook-cache").mkdir()
        (tmp_path / ".casebook-cache" / "x").write_text("cache")
        (cases / "rossi.md").read_text()
        time.sleep(0.5)
        assert fake.calls == 0
        (cases / ".rossi.md.tmp").write_text("new")
        os.replace(cases / ".rossi.md.tmp", cases / "rossi.md")
        assert until(lambda: fake.calls == 1)
        assert reports[-1].paths == ("cases/rossi.md",)
        (tmp_path / "templates").mkdir()
        assert until(lambda: fake.calls == 2)
        (tmp_path / "templates" / "index.html").write_text("mine")
        assert until(lambda: fake.calls == 3)
        assert reports[-1].paths == ("templates/index.html",)
        time.sleep(0.3)
        assert fake.calls == 3
    finally:
        preview.close()
        loop.join(timeout=5)
    assert not loop.is_alive() and not preview.watcher.observer.is_alive()


# -- a failed build ------------------------------------------------------------------------------


def test_a_failed_build_keeps_its_errors_for_the_pages_until_a_good_one(tmp_path: Path) -> None:
    fake = FakeBuild()
    preview = Preview(tmp_path, lambda: DAY, builder=fake)
    first = preview.rebuild()
    fake.failing = [Diagnostic("cases/rossi.md", 3, 1, Severity.ERROR, "yaml", "bad <yaml>")]
    failed = preview.rebuild()
    assert not failed.ok and failed.build == first.build + 1
    assert failed.errors == ("cases/rossi.md:3:1: error: bad <yaml>",
                             "1 errors, 0 warnings in 1 files")
    page = inject(b"<html><body><p>site</p></body></html>", *preview.site.snapshot())
    assert b'id="casebook-errors"' in page and b"bad &lt;yaml&gt;" in page
    assert b"bad <yaml>" not in page
    fake.failing = []
    fixed = preview.rebuild()
    assert fixed.ok and fixed.build == failed.build + 1 and preview.site.errors == ()


def test_a_broken_template_is_shown_not_raised(tmp_path: Path) -> None:
    def broken(root: Path, today: date, out: Path, changed: object = None) -> BuildResult:
        raise ValueError("unexpected end of template")

    outcome = Preview(tmp_path, lambda: DAY, builder=broken).rebuild()
    assert outcome.errors == ("error: ValueError: unexpected end of template",)


@pytest.mark.parametrize(("template", "said"), [
    ("{% if %}\n", "templates/case.html:1: Expected an expression"),
    ("\n\n{{ 1 / 0 }}", "templates/case.html:3: ZeroDivisionError: division by zero"),
    ('{% include "nope.html" %}', "templates/case.html:1: no template nope.html"),
])
def test_a_broken_template_is_said_as_build_says_it(book: Path, template: str, said: str
                                                    ) -> None:
    (book / "templates").mkdir()
    (book / "templates" / "case.html").write_text(template)
    outcome = Preview(book, lambda: DAY).rebuild()
    assert len(outcome.errors) == 1 and outcome.errors[0].startswith(f"template error: {said}")
    built = CliRunner().invoke(main, ["-C", str(book), "--today", DAY.isoformat(), "build"])
    assert built.exit_code == 1
    assert built.stderr == f"Error: {outcome.errors[0]}; the site was left as it was\n"


def test_the_script_goes_before_the_last_body_end() -> None:
    page = inject(b"<body><pre>&lt;/body&gt;</pre></BODY>\n</html>", 7, ())
    assert page.endswith(b"</script></BODY>\n</html>")
    assert b"var build = 7," in page and b"casebook-errors" not in page
    assert inject(b"<p>fragment</p>", 1, ()).startswith(b"<p>fragment</p><script>")


def test_a_long_poll_answers_a_new_build_at_once_and_else_times_out() -> None:
    site = LiveSite()
    assert site.wait_other(5, timeout=10) == 0  # a page from an earlier server: reload
    started = time.monotonic()
    assert site.wait_other(0, timeout=0.1) == 0
    assert time.monotonic() - started >= 0.1
    threading.Timer(0.05, site.publish, args=((), True)).start()
    assert site.wait_other(0, timeout=10) == 1
    assert site.publish((), changed=False) == 1  # nothing new: the pages stay


# -- the server ------------------------------------------------------------------------------


@pytest.fixture
def taken() -> Iterator[int]:
    """A port another server listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_busy_port_is_a_one_line_error(tmp_path: Path, taken: int) -> None:
    with pytest.raises(PortBusy, match=re.escape(f"port {taken} on 127.0.0.1 is in use")):
        bind("127.0.0.1", taken, LiveSite(), tmp_path)
    (tmp_path / "cases").mkdir()  # a casebook, with no case yet
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "serve", "--port", str(taken)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.strip() == (f"Error: port {taken} on 127.0.0.1 is in use: stop the "
                                     "other server, or choose another port with --port")
    assert not (tmp_path / "site").exists()  # nothing was built


def test_a_bad_host_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(CasebookError, match=re.escape("cannot serve on 192.0.2.1 port 0")):
        bind("192.0.2.1", 0, LiveSite(), tmp_path)  # TEST-NET: not an address of this machine


@pytest.fixture
def served(book: Path) -> Iterator[Preview]:
    """`casebook serve` in threads, on a free port of 127.0.0.1, with a fixed day."""
    preview = Preview(book, lambda: DAY)
    preview.bind("127.0.0.1", 0)
    preview.watch()
    preview.rebuild()
    preview.start_server()
    loop = threading.Thread(target=preview.run, daemon=True)
    loop.start()
    yield preview
    preview.close()
    loop.join(timeout=5)
    assert not loop.is_alive() and not preview.watcher.observer.is_alive()


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, dict(answer.headers), answer.read()


def test_html_gets_the_script_on_the_way_and_other_files_do_not(served: Preview) -> None:
    status, headers, body = get(served.url)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert b"var build = 1," in body and b"/__casebook/wait" in body
    assert body.rstrip().endswith(b"</script></body>\n</html>")
    assert b"__casebook" not in (served.out / "index.html").read_bytes()
    _, _, css = get(served.url + "assets/casebook.css")
    assert css == (served.out / "assets" / "casebook.css").read_bytes()
    served.server.poll_seconds = 0.2  # type: ignore[union-attr]
    _, _, answer = get(served.url + "__casebook/wait?build=1")
    assert json.loads(answer) == {"build": 1, "changed": False}
    _, _, answer = get(served.url + "__casebook/wait?build=0")
    assert json.loads(answer) == {"build": 1, "changed": True}


def test_the_url_is_on_127_0_0_1(served: Preview) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", served.url)


def test_without_a_site_the_root_shows_why(tmp_path: Path) -> None:
    fake = FakeBuild()
    fake.failing = [Diagnostic("casebook.yml", 1, 1, Severity.ERROR, "yaml", "bad config")]
    preview = Preview(tmp_path, lambda: DAY, builder=fake)
    preview.bind("127.0.0.1", 0)
    preview.rebuild()
    preview.start_server()
    try:
        with pytest.raises(urllib.error.HTTPError) as answer:
            get(preview.url)
        assert answer.value.code == 503
        body = answer.value.read()
        assert b"casebook.yml:1:1: error: bad config" in body and b"var build = 1," in body
        with pytest.raises(urllib.error.HTTPError, match="404"):
            get(preview.url + "cases/rossi.html")
    finally:
        preview.close()


def _default_sigint() -> None:
    """Ctrl-C as a terminal user has it: a child inherits an ignored SIGINT (the tests run as
    a background job of a script, say), and Python then leaves it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("command", [["watch"], ["serve", "--port", "0"]])
def test_ctrl_c_stops_cleanly(book: Path, command: list[str]) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "casebook", "-C", str(book), "--today", "2026-11-20", *command],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_default_sigint)
    try:
        assert child.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # bounded by the child's own output
            line = child.stdout.readline()
            lines.append(line)
            if not line or line.startswith(("watching", "serving")):
                break
        assert lines[-1].startswith(("watching", "serving")), lines
        if command[0] == "serve":
            url = lines[-1].split()[1]
            assert url.startswith("http://127.0.0.1:")
            assert get(url)[0] == 200
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=5)
    assert child.returncode == 0
    assert out.strip().endswith("stopped")
    assert "Traceback" not in err and "Aborted" not in err


# -- live reload in a real browser ---------------------------------------------------------------

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium); CI installs it",
)
NAME = "Il Portico S.n.c. di Brembilla Dario & C."


@needs_chromium
def test_the_open_dashboard_follows_the_files(page, served: Preview) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    case = served.root / "cases" / "il-portico.md"
    good = case.read_text(encoding="utf-8")
    table = page.locator("table#cases")
    page.goto(served.url)
    expect(table).to_contain_text(NAME)
    page.evaluate("window.casebookMark = 1")  # gone once the page reloads itself

    case.write_text(good.replace(NAME, "Trattoria Al Portico Nuovo S.r.l."), encoding="utf-8")
    expect(table).to_contain_text("Trattoria Al Portico Nuovo", timeout=2000)
    assert page.evaluate("window.casebookMark") is None

    case.write_text(BROKEN, encoding="utf-8")
    overlay = page.locator("#casebook-errors")
    expect(overlay).to_contain_text("cases/il-portico.md:3:1: error: YAML syntax", timeout=2000)
    expect(table).to_contain_text("Trattoria Al Portico Nuovo")  # the last good site
    assert b"casebook-errors" not in (served.out / "index.html").read_bytes()

    case.write_text(good.replace(NAME, "Osteria del Portico S.n.c."), encoding="utf-8")
    expect(table).to_contain_text("Osteria del Portico", timeout=2000)
    expect(overlay).to_have_count(0)
    assert errors == []
