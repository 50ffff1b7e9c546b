"""PDF letters: `letter --format pdf`, `build --pdf`, the running header, and the one line that
says how to install WeasyPrint when it is missing.

The demo casebook is the repository itself; on 2026-11-20 the next action of
mobilificio-carrara is its formal notice (one invoice, two A4 pages).
"""

from __future__ import annotations

import importlib.util
import io
import os
import select
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from casebook.cli.main import main
from casebook.site.oneletter import pdf_of, ready_letter
from casebook.site.pages import letter_subject
from tests.conftest import ROOT

DAY = date(2026, 11, 20)
CASE = "mobilificio-carrara"
CREDITOR = "Termoidraulica Valseriana S.r.l."
SUBJECT = ("Costituzione in mora e intimazione di pagamento – "
           "Fattura n. 2026/106 del 14/08/2026")
CASEBOOK = Path(sys.executable).with_name("casebook")
A4 = (595.28, 841.89)  # points

needs_pdf = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("weasyprint", "pypdf")),
    reason="the pdf and test extras are not installed")


def run(*args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    """casebook as its own process, on the demo casebook."""
    return subprocess.run([str(CASEBOOK), "-C", str(ROOT), "--today", DAY.isoformat(), *args],
                          stdout=stdout, stderr=subprocess.PIPE, timeout=120, check=False)


def invoke(book: Path, *args: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, ["-C", str(book), "--today", DAY.isoformat(), *args])
    return result.exit_code, result.stdout_bytes, result.stderr


def read(data: bytes) -> Any:  # a pypdf.PdfReader (pypdf: the test extra)
    import pypdf

    return pypdf.PdfReader(io.BytesIO(data))


def embedded(font: Any) -> bool:
    """Whether a font of the PDF carries its glyphs (a composite font, in its descendant)."""
    if "/DescendantFonts" in font:
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font["/FontDescriptor"].get_object()
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


# -- letter --format pdf -----------------------------------------------------------------------


@needs_pdf
def test_the_formal_notice_is_the_same_bytes_from_two_processes(tmp_path: Path) -> None:
    for name in ("a.pdf", "b.pdf"):
        done = run("letter", CASE, "formal-notice", "--format", "pdf", "--out",
                   str(tmp_path / name))
        assert done.returncode == 0, done.stderr
        assert done.stderr.decode() == f"wrote {tmp_path / name}\n"
    first = (tmp_path / "a.pdf").read_bytes()
    assert first.startswith(b"%PDF-") and first == (tmp_path / "b.pdf").read_bytes()
    # and in a process that has made other letters before (the fonts are found once)
    pdf_of(ready_letter(ROOT, "2026/officina-sala", "dossier", DAY), DAY)
    assert pdf_of(ready_letter(ROOT, CASE, "formal-notice", DAY), DAY) == first


@needs_pdf
def test_the_formal_notice_is_two_a4_pages_with_its_metadata(tmp_path: Path) -> None:
    code, _, _ = invoke(ROOT, "letter", CASE, "--format", "pdf", "--out", str(tmp_path / "x.pdf"))
    assert code == 0  # the next action's letter: the formal notice
    data = (tmp_path / "x.pdf").read_bytes()
    pdf = read(data)
    assert len(pdf.pages) == 2
    for page in pdf.pages:
        assert (round(float(page.mediabox.width), 2),
                round(float(page.mediabox.height), 2)) == A4
    info = pdf.metadata
    assert info is not None
    assert (info.title, info.author) == (SUBJECT, CREDITOR)
    assert (info["/CreationDate"], info["/ModDate"]) == ("D:20261120", "D:20261120")
    assert sorted(info) == ["/Author", "/CreationDate", "/ModDate", "/Producer", "/Title"]
    assert pdf.xmp_metadata is None  # no other date anywhere
    fonts = [font.get_object() for page in pdf.pages
             for font in page["/Resources"]["/Font"].values()]
    assert fonts and all(embedded(font) for font in fonts)
    assert "Pag. 1 di 2" in pdf.pages[0].extract_text()
    assert "Pag. 2 di 2" in pdf.pages[1].extract_text()


@needs_pdf
def test_the_pdf_goes_to_stdout_when_it_is_not_a_terminal(tmp_path: Path) -> None:
    code, out, _ = invoke(ROOT, "letter", CASE, "formal-notice", "--format", "pdf")
    assert code == 0
    invoke(ROOT, "letter", CASE, "formal-notice", "--format", "pdf", "--out",
           str(tmp_path / "x.pdf"))
    assert out == (tmp_path / "x.pdf").read_bytes()


def test_a_pdf_is_not_written_to_a_terminal(tmp_path: Path) -> None:
    primary, terminal = os.openpty()
    try:
        done = run("letter", CASE, "formal-notice", "--format", "pdf", stdout=terminal)
        os.close(terminal)
        shown = b""
        while select.select([primary], [], [], 0)[0]:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal was closed: nothing more
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    assert done.returncode == 1
    assert done.stderr.decode().strip() == (
        "Error: a PDF is not for the terminal: use --out FILE (or redirect stdout to a file)")
    assert shown == b""


def test_without_weasyprint_letter_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # `import weasyprint` fails
    code, out, err = invoke(ROOT, "letter", CASE, "formal-notice", "--format", "pdf",
                            "--out", str(tmp_path / "x.pdf"))
    assert code == 1 and out == b""
    assert err == ("Error: PDF letters need WeasyPrint: pip install 'casebook[pdf]' "
                   "(WeasyPrint also needs Pango >= 1.44 from the system)\n")
    assert not (tmp_path / "x.pdf").exists()
    code, out, _ = invoke(ROOT, "letter", CASE, "formal-notice", "--format", "text")
    assert code == 0 and out.startswith(b"Oggetto: " + SUBJECT.encode())  # text needs none


# -- the library: ready_letter, pdf_of ---------------------------------------------------------


def test_ready_letter_holds_what_a_message_needs() -> None:
    letter = ready_letter(ROOT, CASE, None, DAY)
    assert (letter.name, letter.channel, letter.subject) == ("formal-notice", "pec", SUBJECT)
    assert letter.case.id == CASE and letter.view.id == CASE
    assert letter.config.creditor.name == CREDITOR
    assert letter.text.startswith(f"Oggetto: {SUBJECT}\n")
    assert letter.html.startswith('<!DOCTYPE html>\n<html lang="it">')
    assert f'<span class="label">Oggetto: </span>{SUBJECT}</p>' in letter.html
    assert ready_letter(ROOT, CASE, "diffida", DAY) == letter  # a step's alias names it too


def test_the_subject_is_plain_text() -> None:
    letter = ready_letter(ROOT, "2026/officina-sala", "dossier", DAY)
    assert letter.subject == ("Fascicolo della pratica di recupero crediti nei confronti di "
                              "Officina Meccanica Sala S.n.c. di Sala Giorgio & C.")
    assert letter_subject("<p>no subject here</p>") is None


@needs_pdf
def test_a_long_letter_carries_the_running_header_from_page_2() -> None:
    letter = ready_letter(ROOT, "2026/officina-sala", "dossier", DAY)
    pdf = read(pdf_of(letter, DAY))
    assert len(pdf.pages) >= 2
    pages = [" ".join(page.extract_text().split()) for page in pdf.pages]
    header = f"{CREDITOR} Oggetto: {letter.subject}"  # the margin boxes come last
    assert pages[0].count("Oggetto: Fascicolo") == 1 and header not in pages[0]
    assert pages[0].endswith(f"Pag. 1 di {len(pages)}")
    for number, text in enumerate(pages[1:], start=2):
        assert text.endswith(f"{header} Pag. {number} di {len(pages)}"), text[-300:]


@needs_pdf
def test_a_pdf_fetches_nothing_a_page_names(tmp_path: Path) -> None:
    """A letter is self-contained: a file or address named in it is neither embedded nor
    fetched (WeasyPrint's own fetcher would attach the file to the PDF)."""
    from casebook.site.pdf import letter_pdf

    secret = tmp_path / "secret.txt"
    secret.write_text("not for the debtor")
    image = tmp_path / "x.png"
    image.write_bytes(read_png())
    page = (f'<html><head><link rel="attachment" href="{secret.as_uri()}"></head>'
            f'<body><p>x</p><img src="{image.as_uri()}"><img src="http://127.0.0.1:9/x.png">'
            "</body></html>")
    pdf = read(letter_pdf(page, DAY, title="t", author=None))
    assert list(pdf.attachments) == [] and len(pdf.pages[0].images) == 0
    assert "/Author" not in (pdf.metadata or {})


def read_png() -> bytes:
    """A 1×1 PNG."""
    import base64

    return base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
                            "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


# -- build --pdf -------------------------------------------------------------------------------


@needs_pdf
def test_build_pdf_writes_a_pdf_beside_every_letter(demo: Path) -> None:
    code, _, err = invoke(demo, "build", "--pdf")
    assert code == 0, err
    letters = demo / "site" / "letters"
    pages = sorted(p.relative_to(letters) for p in letters.rglob("*.html"))
    pdfs = sorted(p.relative_to(letters) for p in letters.rglob("*.pdf"))
    assert len(pages) > 20 and pdfs == [p.with_suffix(".pdf") for p in pages]
    for pdf in pdfs:
        assert (letters / pdf).read_bytes().startswith(b"%PDF-")
    case_page = (demo / "site" / "cases" / f"{CASE}.html").read_text("utf-8")
    assert f'href="../letters/{CASE}/formal-notice.html"' in case_page
    assert f'href="../letters/{CASE}/formal-notice.pdf"' in case_page
    nested = (demo / "site" / "cases" / "privati" / "ferrari-laura.html").read_text("utf-8")
    assert 'href="../../letters/privati/ferrari-laura/formal-notice.pdf"' in nested


@needs_pdf
def test_switching_pdf_on_or_off_renders_every_case_again(demo: Path) -> None:
    for path in (demo / "cases").rglob("*.md"):
        if path.stem not in (CASE, "carrozzeria-nava"):
            path.unlink()
    site = demo / "site"
    assert invoke(demo, "build", "--pdf")[1].endswith(b"2 cases, 2 rendered\n")
    letters = len(list(site.rglob("letters/**/*.html")))
    assert letters == 4 and len(list(site.rglob("*.pdf"))) == letters
    assert invoke(demo, "build", "--pdf")[1].endswith(b"up to date (2 cases)\n")
    assert invoke(demo, "build")[1].endswith(b"2 cases, 2 rendered\n")
    assert not list(site.rglob("*.pdf"))
    assert ".pdf" not in (site / "cases" / f"{CASE}.html").read_text("utf-8")
    assert invoke(demo, "build", "--pdf")[1].endswith(b"2 cases, 2 rendered\n")
    assert len(list(site.rglob("*.pdf"))) == letters


def test_build_pdf_without_weasyprint_builds_nothing(
        demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    code, out, err = invoke(demo, "build", "--pdf")
    assert code == 1 and out == b""
    assert err.startswith("Error: PDF letters need WeasyPrint: pip install 'casebook[pdf]'")
    assert len(err.splitlines()) == 1
    assert not (demo / "site").exists()
    assert not [p for p in demo.iterdir() if p.name.startswith(".site")]


def test_watch_and_serve_say_they_make_no_pdfs() -> None:
    result = CliRunner().invoke(main, ["build", "--help"])
    assert "watch and serve make no PDFs" in " ".join(result.output.split())
