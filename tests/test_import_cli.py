"""`casebook import fatturapa` as a user runs it: e-invoices in, cases and invoices out, and
nothing twice (SPEC 8). The e-invoices are the home-made ones of tests/einvoices."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from casebook.cli.main import main

EINVOICES = Path(__file__).parent / "einvoices"
ROSSI = EINVOICES / "IT09876540155_00001.xml"  # Rossi Costruzioni, 2026/101, 1,220.00
SPLIT = EINVOICES / "IT09876540155_00002.xml"  # a public body, split payment, two parts
CREDIT_NOTE = EINVOICES / "IT09876540155_00009.xml"  # NC-2026/7, 110.00


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), "--today", "2026-12-04", *args])


def casebook(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    result = CliRunner().invoke(main, ["--today", "2026-12-04", "init", str(root)])
    assert result.exit_code == 0, result.output
    for example in (root / "cases").glob("*.md"):
        example.unlink()
    return root


def digest(root: Path) -> str:
    total = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()
                       and ".casebook-cache" not in p.parts):
        total.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return total.hexdigest()


def test_a_folder_of_einvoices_becomes_cases_and_the_originals_are_kept(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    result = run(root, "import", "fatturapa", str(ROSSI), str(SPLIT))
    assert result.exit_code == 0, result.output
    assert f"{ROSSI} → cases/rossi-costruzioni.md (new case)" in result.output
    assert "+ invoice 2026/101 of 2026-07-01: 1220.00, due 2026-07-31" in result.output
    assert "added 2 invoices and 0 credit notes to 2 cases (2 new) from 2 e-invoices" \
        in result.output
    rossi = (root / "cases" / "rossi-costruzioni.md").read_text()
    assert "  name: \"Rossi Costruzioni S.r.l.\"\n  kind: business\n  vat: IT" in rossi
    assert "    source: invoices/IT09876540155_00001.xml\n" in rossi
    public = (root / "cases" / "comune-di-valbrembo.md").read_text()
    assert "  kind: public\n" in public
    assert ("    amount: 800.40\n    total: 976.49\n" in public
            and "    schedule: [{due: 2026-04-09, amount: 400.20}, {due: 2026-05-09, "
                "amount: 400.20}]\n" in public)
    assert (root / "invoices" / ROSSI.name).read_bytes() == ROSSI.read_bytes()
    assert run(root, "validate").exit_code == 0
    shown = run(root, "next").output
    assert "comune-di-valbrembo" in shown and "800.40" in shown


def test_importing_the_same_files_again_changes_no_byte(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    assert run(root, "import", "fatturapa", str(EINVOICES)).exit_code in (0, 1)
    before = digest(root)
    again = run(root, "import", "fatturapa", str(EINVOICES))
    assert digest(root) == before
    assert "added 0 invoices and 0 credit notes to 0 cases (0 new)" in again.output
    assert "= invoice 2026/101: already in cases/rossi-costruzioni.md" in again.output


def test_a_dry_run_prints_the_additions_and_writes_nothing(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    before = digest(root)
    result = run(root, "import", "fatturapa", "--dry-run", str(ROSSI))
    assert result.exit_code == 0, result.output
    assert "+ invoice 2026/101 of 2026-07-01: 1220.00, due 2026-07-31" in result.output
    assert "would add 1 invoices" in result.output and "(dry run: nothing written)" \
        in result.output
    assert digest(root) == before
    assert not (root / "invoices").exists()


def test_an_existing_case_found_by_vat_gets_the_invoice_inserted(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    text = ("---\n# the debtor, found by its VAT number\ndebtor:\n  name: Rossi\n"
            "  vat: \"IT 01234560157\"   # with a space\n\ninvoices: []  # none yet\n---\n"
            "## 2026-09-01 phone — Maria\nCalled.\n")
    (root / "cases" / "rossi.md").write_text(text)
    result = run(root, "import", "fatturapa", str(ROSSI))
    assert result.exit_code == 0, result.output
    assert f"{ROSSI} → cases/rossi.md\n" in result.output
    after = (root / "cases" / "rossi.md").read_text()
    assert after.startswith("---\n# the debtor, found by its VAT number\ndebtor:\n  name: Rossi\n"
                            "  vat: \"IT 01234560157\"   # with a space\n\ninvoices:   # none yet\n"
                            "  - number: \"2026/101\"\n")
    assert after.endswith("---\n## 2026-09-01 phone — Maria\nCalled.\n")
    assert not (root / "cases" / "rossi-costruzioni.md").exists()


def test_a_credit_note_goes_on_the_invoice_it_names(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    note = tmp_path / "IT09876540155_00010.xml"
    note.write_text(CREDIT_NOTE.read_text().replace("2026/115", "2026/101"))
    result = run(root, "import", "fatturapa", str(ROSSI), str(note))
    assert result.exit_code == 0, result.output
    assert "+ credit note NC-2026/7 of 2026-09-10: 110.00 on invoice 2026/101" in result.output
    text = (root / "cases" / "rossi-costruzioni.md").read_text()
    assert ("credits:\n  - number: \"NC-2026/7\"\n    date: 2026-09-10\n    amount: 110.00\n"
            "    invoice: \"2026/101\"\n") in text
    assert "1,110.00" in run(root, "next").output


def test_a_credit_note_for_an_unknown_invoice_is_refused_with_the_reason(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    result = run(root, "import", "fatturapa", str(CREDIT_NOTE))
    assert result.exit_code == 1
    assert "credit note NC-2026/7 lowers invoice 2026/115, which is not in the casebook" \
        in result.output


def test_a_hostile_file_is_one_error_and_nothing_is_written(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n<lolz>&lol2;</lolz>\n')
    before = digest(root)
    result = run(root, "import", "fatturapa", str(bomb))
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{bomb}:2:")
    assert digest(root) == before


def test_a_casebook_with_errors_is_not_imported_into(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    (root / "cases" / "broken.md").write_text("---\ndebtor: {name: X, vta: IT1}\n---\n")
    result = run(root, "import", "fatturapa", str(ROSSI))
    assert result.exit_code == 1
    assert "nothing was imported: 1 errors in the casebook" in result.output
    assert not (root / "cases" / "rossi-costruzioni.md").exists()


def test_the_case_page_links_the_einvoice(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    assert run(root, "import", "fatturapa", str(ROSSI)).exit_code == 0
    assert run(root, "build").exit_code == 0
    page = (root / "site" / "cases" / "rossi-costruzioni.html").read_text()
    link = f'href="../letters/rossi-costruzioni/{ROSSI.name}"'
    assert link in page
    copied = root / "site" / "letters" / "rossi-costruzioni" / ROSSI.name
    assert copied.read_bytes() == ROSSI.read_bytes()


def test_an_einvoice_of_another_name_in_invoices_is_not_overwritten(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    (root / "invoices").mkdir()
    shutil.copy(SPLIT, root / "invoices" / ROSSI.name)  # same name, other bytes
    result = run(root, "import", "fatturapa", str(ROSSI))
    assert result.exit_code == 1
    assert "already holds a different file" in result.output
    assert (root / "invoices" / ROSSI.name).read_bytes() == SPLIT.read_bytes()
    assert not (root / "cases" / "rossi-costruzioni.md").exists()


def test_an_einvoice_the_creditor_received_is_left_out(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    config = root / "casebook.yml"
    config.write_text(config.read_text().replace("vat: IT00000000000", "vat: IT01234560157"))
    result = run(root, "import", "fatturapa", str(ROSSI))
    assert "warning: the buyer is the creditor (IT01234560157)" in result.output
    assert not (root / "cases" / "rossi-costruzioni.md").exists()


def test_a_zip_from_the_sdi_portal_is_imported_member_by_member(tmp_path: Path) -> None:
    import zipfile

    root = casebook(tmp_path)
    archive = tmp_path / "fatture.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(ROSSI, f"2026/{ROSSI.name}")
        z.write(SPLIT, SPLIT.name)
    result = run(root, "import", "fatturapa", str(archive))
    assert result.exit_code == 0, result.output
    assert f"{archive}!2026/{ROSSI.name} → cases/rossi-costruzioni.md (new case)" in result.output
    assert (root / "invoices" / ROSSI.name).read_bytes() == ROSSI.read_bytes()
    assert (root / "invoices" / SPLIT.name).read_bytes() == SPLIT.read_bytes()
    before = digest(root)
    assert run(root, "import", "fatturapa", str(archive)).exit_code == 0
    assert digest(root) == before


# -- import bank ----------------------------------------------------------------------------

STATEMENTS = Path(__file__).parent / "statements"
CAMT = STATEMENTS / "camt053-v02.xml"  # SALDO FT 101/2026, 1,220.00, ref BANK-REF-0001
RULES = Path(__file__).parent.parent / "casebook" / "data" / "bank-rules" \
    / "italian-home-banking.yml"


def with_rossi(tmp_path: Path) -> Path:
    root = casebook(tmp_path)
    assert run(root, "import", "fatturapa", str(ROSSI)).exit_code == 0
    return root


def test_a_statement_records_the_payments_it_matches_and_learns_the_iban(tmp_path: Path) -> None:
    root = with_rossi(tmp_path)
    result = run(root, "import", "bank", str(CAMT))
    assert result.exit_code == 0, result.output
    assert ("  + payment 2026-11-16 1220.00 on invoice 2026/101, ref BANK-REF-0001: the "
            "remittance text names invoice 2026/101 ('SALDO FT 101/2026')") in result.output
    assert "not matched (5), left for you to record:" in result.output
    text = (root / "cases" / "rossi-costruzioni.md").read_text()
    assert "  sdi: M5UXCR1\n  iban: IT60X0542811101000000123456\n" in text
    assert ("payments:\n  - date: 2026-11-16\n    amount: 1220.00\n    invoice: \"2026/101\"\n"
            "    method: bonifico\n    reference: BANK-REF-0001\n") in text
    assert "settled  close" in run(root, "next").output  # paid: the case can be closed


def test_a_statement_imported_again_adds_nothing(tmp_path: Path) -> None:
    root = with_rossi(tmp_path)
    assert run(root, "import", "bank", str(CAMT)).exit_code == 0
    before = digest(root)
    again = run(root, "import", "bank", str(CAMT))
    assert again.exit_code == 0
    assert "0 payments matched to 0 cases, 5 not matched, 1 already recorded" in again.output
    assert digest(root) == before


def test_a_bank_dry_run_prints_the_payments_and_writes_nothing(tmp_path: Path) -> None:
    root = with_rossi(tmp_path)
    before = digest(root)
    result = run(root, "import", "bank", "--dry-run", str(CAMT))
    assert "  + payment 2026-11-16 1220.00 on invoice 2026/101" in result.output
    assert "dry run: nothing written" in result.output
    assert digest(root) == before


def test_a_csv_export_is_read_through_the_shipped_rules(tmp_path: Path) -> None:
    root = with_rossi(tmp_path)
    result = run(root, "import", "bank", "--rules", "italian-home-banking",
                 str(STATEMENTS / "movimenti.csv"))
    assert result.exit_code == 1  # two rows could not be read: said, and left out
    assert "movimenti.csv:4:" in result.output and "movimenti.csv:7:" in result.output
    assert "  + payment 2026-11-15 1220.00 on invoice 2026/101" in result.output
    assert "reference: \"sha1:" in (root / "cases" / "rossi-costruzioni.md").read_text()


def test_a_hostile_statement_is_one_error_and_nothing_is_written(tmp_path: Path) -> None:
    root = with_rossi(tmp_path)
    before = digest(root)
    result = run(root, "import", "bank", str(STATEMENTS / "billion-laughs.xml"))
    assert result.exit_code == 1
    assert len([line for line in result.output.splitlines() if ": error: " in line]) == 1
    assert digest(root) == before


def camt(entries: list[tuple[str, str, str, str]]) -> str:
    """A camt.053 of booked credits: (reference, date, amount, remittance text)."""
    body = "".join(
        f"<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
        f"<BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls>"
        f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        for ref, day, amount, text in entries)
    return ('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            f"<BkToCstmrStmt><Stmt>{body}</Stmt></BkToCstmrStmt></Document>")


def test_what_one_import_left_ambiguous_a_second_import_leaves_alone(tmp_path: Path) -> None:
    root = casebook(tmp_path)
    for name, number in (("alfa", "2026/1"), ("beta", "2026/2")):
        (root / "cases" / f"{name}.md").write_text(
            f"---\ndebtor: {{name: {name.title()}}}\ninvoices: [{{number: \"{number}\", "
            "date: 2026-10-01, due: 2026-10-31, amount: 100.00}]\n---\n")
    statement = tmp_path / "camt.xml"
    statement.write_text(camt([("R1", "2026-11-10", "100.00", "BONIFICO"),
                               ("R2", "2026-11-11", "100.00", "SALDO FT 1/2026")]))
    first = run(root, "import", "bank", str(statement))
    assert first.exit_code == 0, first.output
    assert "1 payments matched to 1 cases, 1 not matched, 0 already recorded" in first.output
    assert "ambiguous" in first.output
    before = digest(root)
    second = run(root, "import", "bank", str(statement))
    assert "0 payments matched to 0 cases, 1 not matched, 1 already recorded" in second.output
    assert digest(root) == before


def test_an_iban_learned_from_a_statement_does_not_match_more_of_it_the_second_time(
        tmp_path: Path) -> None:
    root = casebook(tmp_path)
    (root / "cases" / "alfa.md").write_text(
        "---\ndebtor: {name: Alfa}\ninvoices: [{number: \"2026/1\", date: 2026-10-01, "
        "due: 2026-10-31, amount: 500.00}]\n---\n")
    iban = "IT60X0542811101000000123456"
    entry = ("<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
             "<BookgDt><Dt>2026-11-1{n}</Dt></BookgDt><AcctSvcrRef>K{n}</AcctSvcrRef><NtryDtls>"
             "<TxDtls><RltdPties><DbtrAcct><Id><IBAN>" + iban + "</IBAN></Id></DbtrAcct>"
             "</RltdPties><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
    body = (entry.format(amount="70.00", n=0, text="ACCONTO")
            + entry.format(amount="100.00", n=1, text="FT 1/2026"))
    statement = tmp_path / "camt.xml"
    statement.write_text(camt([]).replace("<Stmt></Stmt>", f"<Stmt>{body}</Stmt>"))
    first = run(root, "import", "bank", str(statement))
    assert f"+ debtor.iban {iban}" in first.output
    assert "1 payments matched to 1 cases, 1 not matched" in first.output
    before = digest(root)
    second = run(root, "import", "bank", str(statement))
    assert "0 payments matched to 0 cases, 1 not matched, 1 already recorded" in second.output
    assert digest(root) == before


def test_an_invoice_number_another_debtor_holds_is_refused_and_opens_no_case(
        tmp_path: Path) -> None:
    root = casebook(tmp_path)
    (root / "cases" / "other.md").write_text(
        "---\ndebtor: {name: Other, vat: IT09876540155}\ninvoices: [{number: \"2026/101\", "
        "date: 2026-07-01, due: 2026-07-31, amount: 1220.00}]\n---\n")
    result = run(root, "import", "fatturapa", str(ROSSI))
    assert result.exit_code == 1
    assert ("error: invoice 2026/101 is already in cases/other.md, whose debtor is not this "
            "e-invoice's buyer") in result.output
    assert not (root / "cases" / "rossi-costruzioni.md").exists()
    assert not (root / "invoices").exists()


def test_an_invoice_already_there_with_other_figures_is_warned_about_and_left(
        tmp_path: Path) -> None:
    root = casebook(tmp_path)
    assert run(root, "import", "fatturapa", str(ROSSI)).exit_code == 0
    path = root / "cases" / "rossi-costruzioni.md"
    path.write_text(path.read_text().replace("amount: 1220.00", "amount: 1200.00"))
    before = digest(root)
    result = run(root, "import", "fatturapa", str(ROSSI))
    assert ("warning: invoice 2026/101 in cases/rossi-costruzioni.md has amount 1200.00 (the "
            "e-invoice says 1220.00); the case file is left as it is") in result.output
    assert digest(root) == before


def test_a_credit_that_found_nothing_left_open_finds_nothing_the_second_time(
        tmp_path: Path) -> None:
    root = casebook(tmp_path)
    (root / "cases" / "nava.md").write_text(
        "---\ndebtor: {name: Carrozzeria Nava S.r.l.}\ninvoices: [{number: \"2026/5\", "
        "date: 2026-10-01, due: 2026-10-31, amount: 250.16}]\n---\n")
    entry = ("<Ntry><Amt Ccy=\"EUR\">250.16</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
             "<BookgDt><Dt>2026-11-1{n}</Dt></BookgDt><AcctSvcrRef>N{n}</AcctSvcrRef><NtryDtls>"
             "<TxDtls><RltdPties><Dbtr><Nm>{who}</Nm></Dbtr></RltdPties><RmtInf><Ustrd>BONIFICO"
             "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
    body = (entry.format(n=3, who="CARROZZERIA NAVA SRL")
            + entry.format(n=6, who="CONDOMINIO VIA TASSO 12"))
    statement = tmp_path / "camt.xml"
    statement.write_text(camt([]).replace("<Stmt></Stmt>", f"<Stmt>{body}</Stmt>"))
    first = run(root, "import", "bank", str(statement))
    assert "the payer's name 'CARROZZERIA NAVA SRL' is the debtor's" in first.output
    assert "1 payments matched to 1 cases, 1 not matched" in first.output
    before = digest(root)
    second = run(root, "import", "bank", str(statement))
    assert "0 payments matched to 0 cases, 1 not matched, 1 already recorded" in second.output
    assert digest(root) == before


def test_many_changes_are_prepared_on_every_core_alike(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from casebook.imports import writer

    books = []
    for parallel in (False, True):
        root = casebook(tmp_path / str(parallel))
        monkeypatch.setattr(writer, "PARALLEL_FROM", 1 if parallel else 10_000)
        result = run(root, "import", "fatturapa", str(EINVOICES))
        books.append((result.output.replace(str(root), "ROOT"), digest(root)))
    assert books[0] == books[1]
    assert "added 8 invoices" in books[0][0]


def test_a_batch_of_writes_clears_the_temporary_files_of_killed_writes(tmp_path: Path) -> None:
    import os
    import time

    from casebook.atomic import write_many

    folder = tmp_path / "cases"
    folder.mkdir()
    dead = folder / ".a.md.abcd1234.tmp"  # a write of a.md killed two hours ago
    other = folder / ".b.md.abcd1234.tmp"  # of a file this batch does not write
    for leftover in (dead, other):
        leftover.write_text("half")
        os.utime(leftover, (time.time() - 7200, time.time() - 7200))
    written: list[Path] = []
    write_many([(folder / "a.md", b"new", False), (folder / "c.md", b"c", True)], written)
    assert written == [folder / "a.md", folder / "c.md"]
    assert (folder / "a.md").read_bytes() == b"new"
    assert not dead.exists() and other.exists()
    assert sorted(p.name for p in folder.iterdir()) == [".b.md.abcd1234.tmp", "a.md", "c.md"]


def test_rules_that_are_neither_a_file_nor_shipped_are_refused(tmp_path: Path) -> None:
    root = with_rossi(tmp_path)
    result = run(root, "import", "bank", "--rules", "my-bank", str(STATEMENTS / "movimenti.csv"))
    assert result.exit_code == 1
    assert "--rules 'my-bank' is neither a file nor a rules file casebook ships " \
        "(italian-home-banking)" in result.output
    same = run(root, "import", "bank", "--dry-run", "--rules", str(RULES),
               str(STATEMENTS / "movimenti.csv"))
    assert "+ payment 2026-11-15 1220.00 on invoice 2026/101" in same.output
