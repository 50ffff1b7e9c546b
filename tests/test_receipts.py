"""`casebook receipts`: PEC receipts into the log entry of the message they name (SPEC 9).

The receipts are home-made as providers make them: a signed multipart message with the
human-readable text, `daticert.xml` and (for a delivery) the original as `postacert.eml`, and the
headers X-Ricevuta and X-Riferimento-Message-ID. Each kind must add exactly the line
`delivery.receipt_line` makes to the note, every other byte of the case file as it was.
"""

from __future__ import annotations

from datetime import date
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from casebook.cli.main import main
from casebook.engine.delivery import Receipt, delivery_of, receipt_line
from casebook.imports import receipts_in
from casebook.imports.receipts import NotReceipt, PecReceipt, normal_message_id, read_receipt
from casebook.read.casefile import read_case
from casebook.read.config import read_config
from casebook.write import edit, notes

MID = "<20261120.rossi.formal-notice.1a2b3c4d@pec.example.it>"
MID_LINE = f"Message-ID: {MID}"
CASE = f"""\
---
debtor:
  name: Rossi Costruzioni S.r.l.   # the PEC is on the chamber of commerce register
  pec: rossicostruzioni@pec.example.it
invoices:
  - {{number: "2026/101", date: 2026-07-01, due: 2026-07-31, amount: 1220.00}}
---
Free notes about the debtor.

## 2026-11-03 phone reminder — Maria Bianchi
Invoice 2026/101 never arrived. Re-sent it by e-mail.

## 2026-11-20 pec formal-notice — Costituzione in mora
Sent by `casebook send`, 15 days to pay.
{MID_LINE}


## 2026-11-25 note
Waiting for the delivery receipt.
"""
RECEIPT_FOR = {"accettazione": "ACCETTAZIONE", "avvenuta-consegna": "CONSEGNA",
               "non-accettazione": "AVVISO DI NON ACCETTAZIONE",
               "errore-consegna": "AVVISO DI MANCATA CONSEGNA",
               "presa-in-carico": "PRESA IN CARICO"}
DATA = '<data zona="+0100"><giorno>20/11/2026</giorno><ora>10:32:05</ora></data>'
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<postacert tipo="avvenuta-consegna" errore="nessuno"><dati>&lol3;</dati></postacert>
"""


def daticert(tipo: str, *, data: str = DATA, msgid: str = MID, errore: str = "nessuno",
             detail: str = "") -> str:
    body = detail or ("<consegna>rossicostruzioni@pec.example.it</consegna>"
                      if tipo in ("avvenuta-consegna", "errore-consegna") else "")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="{tipo}" errore="{errore}">
  <intestazione>
    <mittente>amministrazione@pec.esempio.it</mittente>
    <destinatari tipo="certificato">rossicostruzioni@pec.example.it</destinatari>
    <risposte>amministrazione@pec.esempio.it</risposte>
    <oggetto>Costituzione in mora</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Esempio PEC S.p.A.</gestore-emittente>
    {data}
    <identificativo>opec21.20261120103205.04711.01.1.1@pec.example.it</identificativo>
    <msgid>{msgid.replace("<", "&lt;").replace(">", "&gt;")}</msgid>
    {body}
  </dati>
</postacert>
"""


def receipt(tipo: str, *, reference: str | None = MID, cert: str | None = None,
            ricevuta: str | None = None, date_header: str = "Fri, 20 Nov 2026 10:32:07 +0100"
            ) -> bytes:
    """A receipt as a provider sends it: multipart/signed around multipart/mixed."""
    mixed = EmailMessage()
    mixed.set_content(f"Ricevuta di {tipo}\n\nIl giorno 20/11/2026 alle ore 10:32:05 (+0100) "
                      "il messaggio \"Costituzione in mora\" ...\n")
    mixed.add_attachment((cert if cert is not None else daticert(tipo)).encode(),
                         maintype="application", subtype="xml", filename="daticert.xml")
    if tipo == "avvenuta-consegna":
        original = EmailMessage()
        original["Message-ID"] = MID
        original["Subject"] = "Costituzione in mora"
        original.set_content("Spettabile Rossi Costruzioni S.r.l., ...\n")
        mixed.add_attachment(original, filename="postacert.eml")
    signature = EmailMessage()
    signature.set_content(b"\x30\x82not a real signature", maintype="application",
                          subtype="pkcs7-signature", filename="smime.p7s")
    signed = EmailMessage()
    signed["Date"] = date_header
    signed["From"] = "posta-certificata@pec.example.it"
    signed["To"] = "amministrazione@pec.esempio.it"
    signed["Subject"] = f"{RECEIPT_FOR.get(tipo, tipo.upper())}: Costituzione in mora"
    signed["Message-ID"] = "<opec21.20261120103205.04711.01.1.1@pec.example.it>"
    signed["X-Ricevuta"] = ricevuta or tipo
    if reference is not None:
        signed["X-Riferimento-Message-ID"] = reference
    signed["MIME-Version"] = "1.0"
    signed["Content-Type"] = ('multipart/signed; protocol="application/pkcs7-signature"; '
                              'micalg=sha-256')
    signed.set_payload([mixed, signature])
    return signed.as_bytes(policy=policy.SMTP)


def casebook(tmp_path: Path, text: str = CASE, newline: str = "\n") -> Path:
    root = tmp_path / "book"
    (root / "cases").mkdir(parents=True)
    (root / "casebook.yml").write_text("locale: en\n", encoding="utf-8")
    (root / "cases" / "rossi.md").write_bytes(text.replace("\n", newline).encode())
    return root


def drop(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def run(root: Path, *args: str | Path) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), "--today", "2026-11-30", "receipts",
                                     *map(str, args)])


def with_lines(*lines: str, text: str = CASE) -> str:
    return text.replace(MID_LINE + "\n", "\n".join([MID_LINE, *lines]) + "\n", 1)


def entry_of(root: Path) -> Any:
    config = read_config(b"locale: en\n").config
    case = read_case("rossi", "cases/rossi.md", (root / "cases/rossi.md").read_bytes(),
                     config).case
    assert case is not None
    return case.log[1]


FAILED_REASON = "5.1.1 - Esempio PEC: casella del destinatario piena"
KINDS = [
    ("accettazione", "", Receipt(kind="accepted", day=date(2026, 11, 20), time="10:32:05",
                                 zone="+0100"), "accepted"),
    ("avvenuta-consegna", "", Receipt(kind="delivered", day=date(2026, 11, 20),
                                      time="10:32:05", zone="+0100"), "delivered"),
    ("non-accettazione", "altro", Receipt(kind="not accepted", day=date(2026, 11, 20),
                                          time="10:32:05", zone="+0100", reason="altro"),
     "failed"),
    ("errore-consegna", "no-dest", Receipt(kind="delivery failed", day=date(2026, 11, 20),
                                           time="10:32:05", zone="+0100",
                                           reason=FAILED_REASON), "failed"),
]


@pytest.mark.parametrize(("tipo", "errore", "expected", "state"), KINDS,
                         ids=[k[0] for k in KINDS])
def test_each_kind_adds_exactly_its_line_to_the_note(tmp_path: Path, tipo: str, errore: str,
                                                     expected: Receipt, state: str) -> None:
    root = casebook(tmp_path)
    folded = FAILED_REASON.replace(" - ", " -\n      ")  # as XML is indented: one line back
    detail = f"<errore-esteso>{folded}</errore-esteso>" if tipo == "errore-consegna" else ""
    path = drop(tmp_path, "r.eml", receipt(tipo, cert=daticert(tipo, errore=errore,
                                                               detail=detail)))
    result = run(root, path)
    assert result.exit_code == 0, result.output
    line = receipt_line(expected)
    assert line.startswith(f"{expected.kind} 2026-11-20 10:32:05 +0100")
    assert (root / "cases/rossi.md").read_text() == with_lines(line)
    assert f"cases/rossi.md: 2026-11-20 pec formal-notice — {line}\n" in result.stdout
    assert result.stdout.endswith("1 receipts added to 1 log entries, 0 already there, "
                                  "0 not matched\n")
    found = delivery_of(entry_of(root))
    assert found.receipts == (expected,) and found.state == state


def test_the_reason_of_a_failure_comes_from_errore_esteso_else_errore(tmp_path: Path) -> None:
    line = "delivery failed 2026-11-20 10:32:05 +0100: " + FAILED_REASON
    assert receipt_line(_only(receipt("errore-consegna", cert=daticert(
        "errore-consegna", errore="no-dest",
        detail=f"<errore-esteso>{FAILED_REASON}</errore-esteso>")))) == line
    assert _only(receipt("errore-consegna", cert=daticert(
        "errore-consegna", errore="no-dest"))).reason == "no-dest"
    assert _only(receipt("avvenuta-consegna")).reason is None


def _only(data: bytes) -> Receipt:
    read = read_receipt("r.eml", data)
    assert isinstance(read, PecReceipt) and read.receipt is not None, read
    return read.receipt


def test_several_receipts_for_one_file_are_one_write(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = casebook(tmp_path)
    calls: list[list[Path]] = []
    real = receipts_in.write_many

    def counted(files: Any, written: list[Path]) -> None:
        calls.append([path for path, _, _ in files])
        real(files, written)

    monkeypatch.setattr(receipts_in, "write_many", counted)
    accepted = daticert("accettazione", data=DATA.replace("10:32:05", "10:30:01"))
    first = drop(tmp_path, "a.eml", receipt("accettazione", cert=accepted))
    second = drop(tmp_path, "b.eml", receipt("avvenuta-consegna"))
    result = run(root, first, second)
    assert result.exit_code == 0, result.output
    assert (root / "cases/rossi.md").read_text() == with_lines(
        "accepted 2026-11-20 10:30:01 +0100", "delivered 2026-11-20 10:32:05 +0100")
    assert calls == [[root / "cases/rossi.md"]]
    assert "2 receipts added to 1 log entries, 0 already there, 0 not matched" in result.stdout
    assert delivery_of(entry_of(root)).delivered_on == date(2026, 11, 20)


def test_the_same_receipt_twice_adds_nothing(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    path = drop(tmp_path, "r.eml", receipt("avvenuta-consegna"))
    assert run(root, path).exit_code == 0
    once = (root / "cases/rossi.md").read_bytes()
    again = run(root, path)
    assert again.exit_code == 0, again.output
    assert (root / "cases/rossi.md").read_bytes() == once
    assert ("cases/rossi.md: 2026-11-20 pec formal-notice — delivered 2026-11-20 10:32:05 "
            "+0100 (already there)") in again.stdout
    assert "0 receipts added to 0 log entries, 1 already there, 0 not matched" in again.stdout


def test_a_receipt_given_twice_in_one_run_is_added_once(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    data = receipt("avvenuta-consegna")
    result = run(root, drop(tmp_path, "r.eml", data), drop(tmp_path, "copy.eml", data))
    assert result.exit_code == 0, result.output
    assert (root / "cases/rossi.md").read_text() == with_lines(
        "delivered 2026-11-20 10:32:05 +0100")
    assert "1 receipts added to 1 log entries, 1 already there, 0 not matched" in result.stdout


def test_an_unknown_message_id_and_a_plain_email_are_listed_not_guessed(
        tmp_path: Path) -> None:
    root = casebook(tmp_path)
    other = "<20261120.bianchi.formal-notice.9f9f9f9f@pec.example.it>"
    unknown = drop(tmp_path, "unknown.eml", receipt("avvenuta-consegna", reference=other,
                                                    cert=daticert("avvenuta-consegna",
                                                                  msgid=other)))
    plain = EmailMessage()
    plain["From"] = "maria.bianchi@rossi.example.it"
    plain["Subject"] = "Re: Costituzione in mora"
    plain.set_content("Paghiamo venerdì.\n")
    letter = drop(tmp_path, "reply.eml", plain.as_bytes())
    result = run(root, unknown, letter)
    assert result.exit_code == 0, result.output
    assert (root / "cases/rossi.md").read_text() == CASE
    assert (f"not matched: {unknown} (avvenuta-consegna) names Message-ID {other}, which no "
            "log entry holds\n") in result.stdout
    assert f"not matched: {letter} is not a PEC receipt (no X-Ricevuta header)" in result.stdout
    assert "0 receipts added to 0 log entries, 0 already there, 2 not matched" in result.stdout


def test_a_folder_of_receipts_is_read_recursively_in_order(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    inbox = tmp_path / "inbox"
    accepted = daticert("accettazione", data=DATA.replace("10:32:05", "10:30:01"))
    drop(inbox, "2026-11/1-accettazione.EML", receipt("accettazione", cert=accepted))
    drop(inbox, "2026-11/2-consegna.eml", receipt("avvenuta-consegna"))
    drop(inbox, "2026-11/.hidden.eml", b"not even an e-mail")
    drop(inbox, "notes.txt", b"not a receipt")
    drop(inbox, "presa-in-carico.eml", receipt("presa-in-carico"))
    result = run(root, inbox)
    assert result.exit_code == 0, result.output
    assert (root / "cases/rossi.md").read_text() == with_lines(
        "accepted 2026-11-20 10:30:01 +0100", "delivered 2026-11-20 10:32:05 +0100")
    assert (f"nothing to record: {inbox / 'presa-in-carico.eml'} (presa-in-carico) names "
            f"Message-ID {MID}") in result.stdout
    assert result.stdout.endswith("2 receipts added to 1 log entries, 0 already there, "
                                  "0 not matched, 1 with nothing to record\n")


def test_a_hostile_daticert_is_one_error_and_nothing_is_written(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    bomb = drop(tmp_path, "bomb.eml", receipt("avvenuta-consegna", cert=BILLION_LAUGHS))
    good = drop(tmp_path, "good.eml", receipt("accettazione"))
    result = run(root, bomb, good)
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 1
    assert errors[0].startswith(f"{bomb}!daticert.xml:2:")
    assert "error: daticert.xml: refused: the file declares a DOCTYPE" in errors[0]
    assert (root / "cases/rossi.md").read_text() == with_lines(
        "accepted 2026-11-20 10:32:05 +0100")


def test_without_data_in_daticert_the_date_header_gives_the_time(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    path = drop(tmp_path, "r.eml", receipt(
        "avvenuta-consegna", cert=daticert("avvenuta-consegna", data=""),
        date_header="Sat, 21 Nov 2026 09:05:44 +0100"))
    result = run(root, path)
    assert result.exit_code == 0, result.output
    assert (root / "cases/rossi.md").read_text() == with_lines(
        "delivered 2026-11-21 09:05:44 +0100")


def test_a_crlf_case_file_keeps_crlf(tmp_path: Path) -> None:
    root = casebook(tmp_path, newline="\r\n")
    result = run(root, drop(tmp_path, "r.eml", receipt("avvenuta-consegna")))
    assert result.exit_code == 0, result.output
    data = (root / "cases/rossi.md").read_bytes()
    assert data == with_lines("delivered 2026-11-20 10:32:05 +0100").replace(
        "\n", "\r\n").encode()


def test_a_dry_run_says_what_it_would_add_and_writes_nothing(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    result = run(root, drop(tmp_path, "r.eml", receipt("avvenuta-consegna")), "--dry-run")
    assert result.exit_code == 0, result.output
    assert (root / "cases/rossi.md").read_text() == CASE
    assert ("cases/rossi.md: 2026-11-20 pec formal-notice — delivered 2026-11-20 10:32:05 "
            "+0100\n") in result.stdout
    assert ("1 receipts would be added to 1 log entries, 0 already there, 0 not matched "
            "(dry run: nothing written)") in result.stdout


def test_the_message_id_falls_back_to_msgid_and_matches_the_domain_in_any_case(
        tmp_path: Path) -> None:
    root = casebook(tmp_path)
    shouted = MID.replace("pec.example.it", "PEC.Example.IT")
    from_cert = drop(tmp_path, "a.eml", receipt("accettazione", reference=None,
                                                cert=daticert("accettazione", msgid=shouted)))
    other_local = MID.replace("rossi", "ROSSI")
    wrong_local = drop(tmp_path, "b.eml", receipt("avvenuta-consegna", reference=other_local))
    result = run(root, from_cert, wrong_local)
    assert result.exit_code == 0, result.output
    assert (root / "cases/rossi.md").read_text() == with_lines(
        "accepted 2026-11-20 10:32:05 +0100")
    assert f"names Message-ID {other_local}, which no log entry holds" in result.stdout
    assert normal_message_id(" 20261120.X@PEC.example.IT ") == "<20261120.X@pec.example.it>"
    assert normal_message_id("<two> <ids@x>") is None


def test_two_entries_holding_one_message_id_are_not_guessed(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    (root / "cases/rossi-bis.md").write_text(CASE.replace("2026/101", "2026/102"))
    result = run(root, drop(tmp_path, "r.eml", receipt("avvenuta-consegna")))
    assert result.exit_code == 0, result.output
    assert "which 2 log entries hold (cases/rossi-bis.md:13, cases/rossi.md:13)" in result.stdout
    assert (root / "cases/rossi.md").read_text() == CASE


def test_a_case_file_with_errors_is_named_when_nothing_matches(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    (root / "cases/rossi.md").write_text(CASE.replace("amount: 1220.00", "amount: -5"))
    result = run(root, drop(tmp_path, "r.eml", receipt("avvenuta-consegna")))
    assert result.exit_code == 0, result.output
    assert ("which no log entry holds (1 case files with errors were not searched: casebook "
            "validate says why)") in result.stdout


def test_trailing_blanks_after_the_message_id_stay_where_they_were(tmp_path: Path) -> None:
    text = CASE.replace(MID_LINE, MID_LINE + "  ")
    root = casebook(tmp_path, text)
    result = run(root, drop(tmp_path, "r.eml", receipt("avvenuta-consegna")))
    assert result.exit_code == 0, result.output
    assert (root / "cases/rossi.md").read_text() == text.replace(
        MID_LINE + "  \n", MID_LINE + "  \ndelivered 2026-11-20 10:32:05 +0100\n")


@pytest.mark.parametrize(("data", "where", "message"), [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "r.eml:1:1", "not an e-mail: it has no header"),
    (receipt("avvenuta-consegna", ricevuta="conferma-lettura"), "r.eml:1:1",
     "X-Ricevuta 'conferma-lettura' is no PEC receipt casebook knows"),
    (receipt("avvenuta-consegna", cert=daticert(
        "avvenuta-consegna", data='<data zona="CET"><giorno>2026-11-20</giorno></data>')),
     "r.eml!daticert.xml:11:5", "<data> must hold <giorno>dd/mm/yyyy</giorno>"),
    (receipt("avvenuta-consegna", reference=None, cert=daticert("avvenuta-consegna", msgid="")),
     "r.eml:1:1", "the receipt names no message"),
    (receipt("avvenuta-consegna", cert="<fattura/>"), "r.eml!daticert.xml:1:1",
     "is not a PEC certification: its root is <fattura>"),
])
def test_a_file_that_is_no_readable_receipt_is_an_error(tmp_path: Path, data: bytes,
                                                        where: str, message: str) -> None:
    root = casebook(tmp_path)
    result = run(root, drop(tmp_path, "r.eml", data))
    assert result.exit_code == 1
    [error] = result.stderr.splitlines()
    assert error.startswith(f"{tmp_path / where}: error: ") and message in error, error
    assert (root / "cases/rossi.md").read_text() == CASE


def test_a_plain_email_reads_as_no_receipt() -> None:
    plain = b"From: someone@example.it\nSubject: hello\n\nHello.\n"
    assert read_receipt("x.eml", plain) == NotReceipt(
        name="x.eml", why="is not a PEC receipt (no X-Ricevuta header)")


# -- the edit underneath ----------------------------------------------------------------------

NOTE_CASES = [
    # the last entry, its note ending the file without a final newline
    (CASE.rstrip("\n"), 18, CASE.rstrip("\n") + "\nX"),
    # blank lines after the note stay after the new line
    (CASE, 13, with_lines("X")),
    # a `## ` line inside fenced code is the note's text, not the next heading
    (CASE.replace(MID_LINE + "\n", MID_LINE + "\n```\n## not a heading\n```\n"), 13,
     CASE.replace(MID_LINE + "\n", MID_LINE + "\n```\n## not a heading\n```\nX\n")),
    # a byte-order mark stays
    ("\ufeff" + CASE, 13, "\ufeff" + with_lines("X")),
]


@pytest.mark.parametrize(("text", "heading", "expected"), NOTE_CASES)
def test_append_to_entry_puts_the_line_after_the_note(text: str, heading: int,
                                                      expected: str) -> None:
    assert notes.append_to_entry(text, heading, "X") == expected


def test_append_to_entry_refuses_a_line_that_is_no_heading() -> None:
    with pytest.raises(edit.Refused, match="line 14 is not the heading of a log entry"):
        notes.append_to_entry(CASE, 14, "X")


def test_verify_appended_refuses_any_other_change() -> None:
    config = read_config(None).config
    before = read_case("rossi", "cases/rossi.md", CASE.encode(), config)
    good = with_lines("delivered 2026-11-20 10:32:05 +0100")
    after = read_case("rossi", "cases/rossi.md", good.encode(), config)
    assert notes.verify_appended(before, after, {1: ["delivered 2026-11-20 10:32:05 +0100"]}) \
        == []
    changed = good.replace("15 days", "10 days")
    wrong = read_case("rossi", "cases/rossi.md", changed.encode(), config)
    with pytest.raises(edit.Refused, match="would not read back"):
        notes.verify_appended(before, wrong, {1: ["delivered 2026-11-20 10:32:05 +0100"]})


def test_an_entry_that_moved_since_the_casebook_was_read_is_refused(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    read = read_receipt("r.eml", receipt("avvenuta-consegna"))
    assert isinstance(read, PecReceipt)
    stale = receipts_in.SentMessages("rossi", "cases/rossi.md", ((MID, 1, 12),))
    planned = receipts_in.plan([read], [], [stale])
    applied = receipts_in.apply(root, read_config(None).config, planned.changes, dry_run=False)
    [refusal] = applied.diagnostics
    assert refusal.code == "refused" and "the file changed" in refusal.message
    assert applied.files == [] and (root / "cases/rossi.md").read_text() == CASE


def test_a_file_changed_on_disk_meanwhile_is_left_as_it_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = casebook(tmp_path)
    edited = CASE + "\nWritten in an editor meanwhile.\n"
    real = receipts_in._prepare

    def then_edited(*args: Any) -> Any:
        prepared = real(*args)
        (root / "cases/rossi.md").write_text(edited)
        return prepared

    monkeypatch.setattr(receipts_in, "_prepare", then_edited)
    result = run(root, drop(tmp_path, "r.eml", receipt("avvenuta-consegna")))
    assert result.exit_code == 1
    assert result.stderr.startswith("cases/rossi.md:1:1: error: the file changed on disk")
    assert (root / "cases/rossi.md").read_text() == edited
    assert result.stdout == "0 receipts added to 0 log entries, 0 already there, 0 not matched\n"
