"""The lawyer's file: `casebook letter CASE dossier --format zip` (SPEC 10), the receipts
`casebook receipts` keeps for it, and the dossier naming the lawyer and the court.

The casebooks are copies of the demo with its e-invoices (`invoices/`); on 2026-11-20
serramenti-bonfanti has one e-invoice and a written reminder by e-mail, and
immobiliare-belvedere is with the lawyer after three letters and a phone call.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import re
import select
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from casebook.cli.main import main
from casebook.engine.delivery import delivery_of
from casebook.imports.receipts import normal_message_id
from casebook.load.cases import open_case
from casebook.site.dossier_words import index_html, words_for
from casebook.site.oneletter import pdf_of, ready_letter
from tests.conftest import ROOT
from tests.test_receipts import DATA, daticert, receipt

DAY = date(2026, 11, 20)
NEXT_DAY = date(2026, 11, 21)
CASEBOOK = Path(sys.executable).with_name("casebook")
BONFANTI = "serramenti-bonfanti"
BELVEDERE = "immobiliare-belvedere"
SOURCES = {  # the demo's cases with an e-invoice, and its file
    "comune-di-valserina": "IT07986430168_0A7T1.xml",
    "edil-moretti": "IT07986430168_0A7K2.xml",
    "gelateria-donizetti": "IT07986430168_0A8C5.xml",
    BONFANTI: "IT07986430168_0A7M4.xml",
}
LAWYER = """
lawyer:
  name: Elena Rinaldi
  pec: elena.rinaldi@pec.example.it
  address: |
    Via Tiraboschi 12
    24122 Bergamo BG
"""
COURT = ('court: {filed: 2026-10-08, kind: decreto-ingiuntivo, number: "1234/2026", '
         "court: Tribunale di Bergamo}\n")

needs_pdf = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("weasyprint", "pypdf")),
    reason="the pdf and test extras are not installed")


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A copy of the demo casebook with its e-invoices."""
    target = tmp_path / "demo"
    target.mkdir()
    # without the demo's lawyer: the tests name their own, or none
    config = (ROOT / "casebook.yml").read_text(encoding="utf-8")
    (target / "casebook.yml").write_text(
        re.sub(r"^lawyer:.*?\n\n", "", config, count=1, flags=re.M | re.S), encoding="utf-8")
    for folder in ("cases", "invoices"):
        shutil.copytree(ROOT / folder, target / folder)
    return target


def run(book: Path, *args: str, today: date = DAY) -> Result:
    return CliRunner().invoke(main, ["-C", str(book), "--today", today.isoformat(), *args])


def lawyers_zip(book: Path, case: str, today: date = DAY) -> zipfile.ZipFile:
    out = book.parent / f"{case.replace('/', '--')}-{today}.zip"
    result = run(book, "letter", case, "dossier", "--format", "zip", "--out", str(out),
                 today=today)
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith(f"wrote {out}\n")
    return zipfile.ZipFile(out)


def index_of(archive: zipfile.ZipFile) -> str:
    name = next(n for n in archive.namelist() if n.startswith("00-ind") and n.endswith(".txt"))
    return archive.read(name).decode("utf-8")


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces made one space: prose as wrapped."""
    return " ".join(text.split())


def attached_pdf(eml: bytes) -> bytes:
    message = message_from_bytes(eml, policy=policy.default)
    [part] = list(message.iter_attachments())
    data: bytes = part.get_content()
    return data


# -- what the zip holds ---------------------------------------------------------------------------


@needs_pdf
def test_the_pieces_in_order_with_the_e_invoice_as_received(book: Path) -> None:
    archive = lawyers_zip(book, BONFANTI)
    assert archive.namelist() == [
        "00-indice.pdf", "00-indice.txt", "01-dossier.pdf", "02-interessi.txt",
        "03-fatture/IT07986430168_0A7M4.xml",
        "04-lettere/2026-10-20-written-reminder.pdf",  # the reminder of 2026-10-01 was a call
    ]
    assert archive.read("03-fatture/IT07986430168_0A7M4.xml") == \
        (book / "invoices/IT07986430168_0A7M4.xml").read_bytes()
    dossier = ready_letter(book, BONFANTI, "dossier", DAY)
    assert archive.read("01-dossier.pdf") == pdf_of(dossier, DAY)
    index = index_of(archive)
    for line in ("01-dossier.pdf · 20/11/2026", "02-interessi.txt · 20/11/2026",
                 "03-fatture/IT07986430168_0A7M4.xml · 31/08/2026",
                 "04-lettere/2026-10-20-written-reminder.pdf · 20/10/2026"):
        assert f"\n{line}\n" in index
    assert ("Fattura elettronica n. 2026/119 del 31/08/2026, il file come è nella pratica. Se "
            "trasmessa tramite il Sistema di Interscambio (SdI), è prova scritta del credito "
            "(art. 634 c.p.c., come modificato dal D.Lgs. 164/2024).") in flat(index)
    assert "Nessuna ricevuta PEC registrata." in index


@needs_pdf
@pytest.mark.parametrize("case", sorted(SOURCES))
def test_each_e_invoice_of_the_demo_is_in_the_zip_byte_for_byte(book: Path, case: str) -> None:
    archive = lawyers_zip(book, case)
    name = SOURCES[case]
    assert [n for n in archive.namelist() if n.startswith("03-fatture/")] == [
        f"03-fatture/{name}"]
    assert archive.read(f"03-fatture/{name}") == (book / "invoices" / name).read_bytes()


@needs_pdf
def test_one_letter_per_step_sent_named_by_its_date_and_rendered_as_it_was_then(
        book: Path, tmp_path: Path) -> None:
    archive = lawyers_zip(book, BELVEDERE)
    # the call of 2026-06-03 and the note handing the file to the lawyer sent no letter
    assert [n for n in archive.namelist() if n.startswith("04-lettere/")] == [
        "04-lettere/2026-06-22-written-reminder.pdf",
        "04-lettere/2026-07-02-final-notice.pdf",
        "04-lettere/2026-07-20-formal-notice.pdf",
    ]
    # The formal notice as it was written: from the case file of that day, before its own
    # entry was logged (it must not list itself among the reminders already sent).
    text = (book / f"cases/{BELVEDERE}.md").read_text(encoding="utf-8")
    then = tmp_path / "then"
    (then / "cases").mkdir(parents=True)
    shutil.copy(book / "casebook.yml", then / "casebook.yml")
    (then / f"cases/{BELVEDERE}.md").write_text(
        text[:text.index("## 2026-07-20 pec messa-in-mora")], encoding="utf-8")
    written = ready_letter(then, BELVEDERE, "formal-notice", date(2026, 7, 20))
    assert "(costituzione in mora, PEC)" not in written.text
    assert archive.read("04-lettere/2026-07-20-formal-notice.pdf") == \
        pdf_of(written, date(2026, 7, 20))
    index = index_of(archive)
    assert "04-lettere/2026-07-20-formal-notice.pdf · 20/07/2026" in index
    assert ("inviata via PEC il 20/07/2026, riprodotta dalla pratica com'era quel giorno. "
            "Intimazione scritta di pagamento: costituisce in mora il debitore e interrompe la "
            "prescrizione (artt. 1219 e 2943 c.c.) dal giorno in cui gli è pervenuta.") \
        in flat(index)
    assert "04-lettere/2026-06-22-written-reminder.pdf · 22/06/2026" in index


@needs_pdf
def test_the_interest_statement_by_period(book: Path) -> None:
    archive = lawyers_zip(book, BELVEDERE)
    statement = archive.read("02-interessi.txt").decode("utf-8")
    assert statement.startswith("CONTEGGIO DEGLI INTERESSI\n"
                                "Immobiliare Belvedere S.r.l. – pratica immobiliare-belvedere\n")
    assert "interessi conteggiati fino al 30/06/2026, ultimo giorno con tasso noto" \
        in flat(statement)
    [row] = [line for line in statement.splitlines() if line.startswith("2026/052 ")]
    assert row.split() == ["2026/052", "01/06/2026", "30/06/2026", "30", "14.640,00", "10,15",
                           "%", "122,13"]
    assert "\nTotale interessi maturati" in statement and statement.count("122,13") == 2
    assert "  fattura 2026/052" in statement and statement.rstrip().endswith("40,00")


# -- a PEC sent, its message and its receipts ---------------------------------------------------


def send_and_log(book: Path) -> tuple[str, Path]:
    """The formal notice of serramenti-bonfanti written to outbox/ and logged as sent by PEC."""
    sent = run(book, "send", BONFANTI, "formal-notice")
    assert sent.exit_code == 0, sent.output
    eml = book / f"outbox/2026-11-20-{BONFANTI}-formal-notice.eml"
    message_id = str(message_from_bytes(eml.read_bytes(), policy=policy.default)["Message-ID"])
    logged = run(book, "log", BONFANTI, "pec", "formal-notice", "--title",
                 "Costituzione in mora", "-m", f"Sent by casebook send.\nMessage-ID: {message_id}")
    assert logged.exit_code == 0, logged.output
    return message_id, eml


def receipts_for(message_id: str, folder: Path) -> tuple[Path, Path]:
    accepted = folder / "accettazione.eml"
    accepted.parent.mkdir(parents=True, exist_ok=True)
    accepted.write_bytes(receipt("accettazione", reference=message_id, cert=daticert(
        "accettazione", msgid=message_id, data=DATA.replace("10:32:05", "10:30:01"))))
    delivered = folder / "consegna.eml"
    delivered.write_bytes(receipt("avvenuta-consegna", reference=message_id,
                                  cert=daticert("avvenuta-consegna", msgid=message_id)))
    return accepted, delivered


def kept_copy(book: Path, message_id: str, kind: str, data: bytes) -> Path:
    normal = normal_message_id(message_id)
    assert normal is not None
    folder = hashlib.sha1(normal.encode()).hexdigest()[:12]
    return book / "outbox/receipts" / folder / f"{kind}-{hashlib.sha256(data).hexdigest()[:12]}.eml"


@needs_pdf
def test_a_pec_sent_brings_its_message_and_its_receipts(book: Path, tmp_path: Path) -> None:
    message_id, eml = send_and_log(book)
    accepted, delivered = receipts_for(message_id, tmp_path / "inbox")
    recorded = run(book, "receipts", str(tmp_path / "inbox"), today=NEXT_DAY)
    assert recorded.exit_code == 0, recorded.output
    archive = lawyers_zip(book, BONFANTI, NEXT_DAY)
    names = archive.namelist()
    assert names[names.index("04-lettere/2026-10-20-written-reminder.pdf"):] == [
        "04-lettere/2026-10-20-written-reminder.pdf",
        "04-lettere/2026-11-20-formal-notice.eml",
        "04-lettere/2026-11-20-formal-notice.pdf",
        "05-ricevute/2026-11-20-formal-notice-accettazione.eml",
        "05-ricevute/2026-11-20-formal-notice-avvenuta-consegna.eml",
    ]
    assert archive.read("04-lettere/2026-11-20-formal-notice.eml") == eml.read_bytes()
    # the letter rendered again is the very PDF the message carried
    assert archive.read("04-lettere/2026-11-20-formal-notice.pdf") == \
        attached_pdf(eml.read_bytes())
    assert archive.read("05-ricevute/2026-11-20-formal-notice-accettazione.eml") == \
        accepted.read_bytes()
    assert archive.read("05-ricevute/2026-11-20-formal-notice-avvenuta-consegna.eml") == \
        delivered.read_bytes()
    index = index_of(archive)
    assert ("05-ricevute/2026-11-20-formal-notice-avvenuta-consegna.eml · 20/11/2026 10:32:05 "
            "+0100 Ricevuta di avvenuta consegna (diffida e costituzione in mora del "
            "20/11/2026): il messaggio è stato consegnato nella casella PEC del destinatario il "
            "20/11/2026 alle 10:32:05 (+0100); data e ora certe (art. 48 D.Lgs. 82/2005, "
            "CAD).") in flat(index)
    assert ("05-ricevute/2026-11-20-formal-notice-accettazione.eml · 20/11/2026 10:30:01 +0100 "
            "Ricevuta di accettazione") in flat(index)
    assert "Prova l'invio, non la consegna." in flat(index)
    assert f"Il messaggio come inviato, con la lettera in PDF allegata (Message-ID " \
        f"{message_id})." in flat(index)
    assert ("Consegnata nella casella PEC del destinatario il 20/11/2026 alle 10:32:05 "
            "(+0100).") in flat(index)


@needs_pdf
def test_a_receipt_the_note_records_without_its_file_is_listed_with_its_time(
        book: Path) -> None:
    send_and_log(book)
    path = book / f"cases/{BONFANTI}.md"
    path.write_text(path.read_text(encoding="utf-8") + "delivered 2026-11-20 18:02:44 +0100\n",
                    encoding="utf-8")
    assert delivery_of(open_case(book, BONFANTI).case.log[-1]).delivered_on == DAY
    archive = lawyers_zip(book, BONFANTI)
    assert not [n for n in archive.namelist() if n.startswith("05-ricevute/")]
    assert ("(file non presente) · 20/11/2026 18:02:44 +0100 Ricevuta di avvenuta consegna "
            "(diffida e costituzione in mora del 20/11/2026): il messaggio è stato consegnato "
            "nella casella PEC del destinatario il 20/11/2026 alle 18:02:44 (+0100); data e ora "
            "certe (art. 48 D.Lgs. 82/2005, CAD). Registrata nella pratica; il file della "
            "ricevuta non è nel fascicolo.") in flat(index_of(archive))


def test_receipts_keeps_one_copy_of_each_receipt_and_none_on_a_dry_run(
        book: Path, tmp_path: Path) -> None:
    message_id, _ = send_and_log(book)
    accepted, delivered = receipts_for(message_id, tmp_path / "inbox")
    dry = run(book, "receipts", str(accepted), str(delivered), "--dry-run", today=NEXT_DAY)
    assert dry.exit_code == 0, dry.output
    assert not (book / "outbox/receipts").exists()
    # the acceptance first; the delivery, recorded already, still gets its copy later
    assert run(book, "receipts", str(accepted), today=NEXT_DAY).exit_code == 0
    copies = {p.relative_to(book) for p in (book / "outbox/receipts").rglob("*") if p.is_file()}
    assert copies == {kept_copy(book, message_id, "accettazione",
                                accepted.read_bytes()).relative_to(book)}
    path = book / f"cases/{BONFANTI}.md"
    path.write_text(path.read_text(encoding="utf-8") + "delivered 2026-11-20 10:32:05 +0100\n",
                    encoding="utf-8")
    again = run(book, "receipts", str(accepted), str(delivered), today=NEXT_DAY)
    assert again.exit_code == 0, again.output
    assert "0 receipts added to 0 log entries, 2 already there" in again.stdout
    copy = kept_copy(book, message_id, "avvenuta-consegna", delivered.read_bytes())
    assert copy.read_bytes() == delivered.read_bytes()
    assert len([p for p in (book / "outbox/receipts").rglob("*") if p.is_file()]) == 2
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")]  # no temporary left


# -- the same bytes -------------------------------------------------------------------------------


@needs_pdf
def test_the_same_bytes_in_two_processes_with_fixed_entries(book: Path) -> None:
    made = [subprocess.run([str(CASEBOOK), "-C", str(book), "--today", DAY.isoformat(),
                            "letter", BELVEDERE, "dossier", "--format", "zip"],
                           capture_output=True, timeout=300, check=True).stdout
            for _ in range(2)]
    assert made[0] == made[1]
    archive = zipfile.ZipFile(io.BytesIO(made[0]))
    infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert archive.comment == b""
    for info in infos:
        assert info.date_time == (2026, 11, 20, 0, 0, 0)
        assert info.external_attr == 0o644 << 16
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert (info.extra, info.comment) == (b"", b"")


# -- the index ------------------------------------------------------------------------------------


@needs_pdf
def test_an_english_casebook_gets_an_english_index(book: Path) -> None:
    config = book / "casebook.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("locale: it", "locale: en"),
                      encoding="utf-8")
    archive = lawyers_zip(book, BONFANTI)
    assert archive.namelist()[:4] == ["00-index.pdf", "00-index.txt", "01-dossier.pdf",
                                      "02-interest.txt"]
    index = index_of(archive)
    assert index.startswith("INDEX OF THE FILE FOR THE LAWYER\n")
    assert "E-invoice no. 2026/119 of 31/08/2026" in flat(index)
    assert "sent by e-mail on 20/10/2026" in flat(index)
    statement = archive.read("02-interest.txt").decode("utf-8")
    assert "14,640.00" not in statement and "3,050.00" not in statement  # no periods yet
    assert "Fixed sum for recovery costs" in statement


@needs_pdf
def test_a_letter_that_no_longer_fits_is_listed_as_not_reproducible(book: Path) -> None:
    path = book / f"cases/{BONFANTI}.md"
    text = path.read_text(encoding="utf-8")
    # an e-mail reminder logged on a day the invoice was not yet due: no letter fits that day
    path.write_text(text + "\n## 2026-09-15 email reminder — early reminder\nSent too early.\n",
                    encoding="utf-8")
    out = book.parent / "x.zip"
    result = run(book, "letter", BONFANTI, "dossier", "--format", "zip", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: the reminder of 2026-09-15 is not reproducible: ")
    archive = zipfile.ZipFile(out)
    assert not [n for n in archive.namelist() if "2026-09-15" in n]
    assert ("(file non presente) · 15/09/2026 Sollecito di pagamento, inviata per e-mail il "
            "15/09/2026: non riproducibile, la lettera non corrisponde alla pratica com'era "
            "quel giorno.") in flat(index_of(archive))


@needs_pdf
def test_the_index_names_the_lawyer_and_an_e_invoice_whose_file_is_gone(book: Path) -> None:
    config = book / "casebook.yml"
    config.write_text(config.read_text(encoding="utf-8") + LAWYER, encoding="utf-8")
    (book / "invoices/IT07986430168_0A7M4.xml").unlink()
    archive = lawyers_zip(book, BONFANTI)
    assert not [n for n in archive.namelist() if n.startswith("03-fatture/")]
    index = index_of(archive)
    assert ("Creditore: Termoidraulica Valseriana S.r.l.\nLegale: Elena Rinaldi, PEC "
            "elena.rinaldi@pec.example.it, Via Tiraboschi 12, 24122 Bergamo BG\n") in index
    assert ("(file non presente) · 31/08/2026 Fattura n. 2026/119 del 31/08/2026: il file "
            "invoices/IT07986430168_0A7M4.xml indicato nella pratica non si trova nel "
            "casebook.") in flat(index)


def test_the_index_page_escapes_what_comes_from_case_files(book: Path) -> None:
    path = book / f"cases/{BONFANTI}.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "name: Serramenti Bonfanti S.r.l.", 'name: "<script>x</script> & Co"'),
        encoding="utf-8")
    dossier = ready_letter(book, BONFANTI, "dossier", DAY)
    from casebook.engine.words import Formats

    page = index_html(dossier, [], DAY, Formats("it", "EUR"), words_for("it"))
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt; &amp; Co" in page
    assert '<style>' in page and "@page" in page  # the letters' look


# -- the lawyer and the court in the dossier -------------------------------------------------------


def test_the_dossier_names_the_lawyer_only_when_configured(book: Path) -> None:
    plain = run(book, "letter", BELVEDERE, "dossier", "--format", "text")
    assert "Al legale / all'agenzia di recupero crediti incaricati" in plain.stdout
    assert "Rinaldi" not in plain.stdout.split("DEBITORE")[0]
    config = book / "casebook.yml"
    config.write_text(config.read_text(encoding="utf-8") + LAWYER, encoding="utf-8")
    named = run(book, "letter", BELVEDERE, "dossier", "--format", "text")
    assert named.exit_code == 0, named.output
    assert ("Alla c.a. dell'Avv. Elena Rinaldi\nVia Tiraboschi 12, 24122 Bergamo BG\n"
            "PEC: elena.rinaldi@pec.example.it\nDocumento riservato") in named.stdout
    page = run(book, "letter", BELVEDERE, "dossier").stdout
    assert "Alla c.a. dell'Avv. <span class=\"name\">Elena Rinaldi</span>" in page
    assert "PEC: elena.rinaldi@pec.example.it" in page
    config.write_text(config.read_text(encoding="utf-8").replace("locale: it", "locale: en"),
                      encoding="utf-8")
    english = run(book, "letter", BELVEDERE, "dossier", "--format", "text").stdout
    assert "For the attention of Elena Rinaldi\nVia Tiraboschi 12" in english


def test_the_dossier_shows_the_court_once_filed(book: Path) -> None:
    path = book / f"cases/{BELVEDERE}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n---\n", "\n" + COURT + "---\n", 1), encoding="utf-8")
    shown = run(book, "letter", BELVEDERE, "dossier", "--format", "text")
    assert shown.exit_code == 0, shown.output
    assert ("GIUDIZIO\n\nRicorso per decreto ingiuntivo depositato l'8 ottobre 2026 presso il\n"
            "Tribunale di Bergamo, RG 1234/2026.\n") in shown.stdout
    before = run(book, "letter", BELVEDERE, "dossier", "--format", "text",
                 today=date(2026, 10, 7))
    assert before.exit_code == 0 and "GIUDIZIO" not in before.stdout


# -- refusals -------------------------------------------------------------------------------------


def test_another_letter_has_no_zip(book: Path) -> None:
    out = book.parent / "x.zip"
    result = run(book, "letter", BONFANTI, "formal-notice", "--format", "zip", "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr == ("Error: only the dossier has a zip (the lawyer's file), not the "
                             f"formal notice: casebook letter {BONFANTI} dossier --format zip\n")
    assert not out.exists()


def test_a_zip_is_not_written_to_a_terminal() -> None:
    primary, terminal = os.openpty()
    try:
        done = subprocess.run([str(CASEBOOK), "-C", str(ROOT), "--today", DAY.isoformat(),
                               "letter", BELVEDERE, "dossier", "--format", "zip"],
                              stdout=terminal, stderr=subprocess.PIPE, timeout=120, check=False)
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
    assert done.returncode == 1 and shown == b""
    assert done.stderr.decode().strip() == (
        "Error: a zip is not for the terminal: use --out FILE (or redirect stdout to a file)")


def test_without_weasyprint_the_zip_says_how_to_install_it(
        book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # `import weasyprint` fails
    out = book.parent / "x.zip"
    result = run(book, "letter", BELVEDERE, "dossier", "--format", "zip", "--out", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == ("Error: PDF letters need WeasyPrint: pip install 'casebook[pdf]' "
                             "(WeasyPrint also needs Pango >= 1.44 from the system)\n")
    assert not out.exists()


def test_the_words_of_both_locales_name_the_same_phrases() -> None:
    italian, english = words_for("it").t, words_for("en").t
    assert set(italian) == set(english)
    for key in ("sections", "none", "via", "receipt", "interest", "st_method"):
        assert set(italian[key]) == set(english[key])
