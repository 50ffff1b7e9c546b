"""Bank statements read into credits, and credits matched to open cases (SPEC 8, import bank)."""

from __future__ import annotations

import shutil
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import casebook
from casebook.diagnostics import Severity
from casebook.imports.bank import Credit, read_statement
from casebook.imports.csvrules import Column, Rules, read_rules
from casebook.imports.matching import Candidate, OpenItem, match
from casebook.imports.remittance import invoice_key, mentions, normal_name
from casebook.model import Pos

STATEMENTS = Path(__file__).parent / "statements"
ITALIAN = Path(casebook.__file__).parent / "data" / "bank-rules" / "italian-home-banking.yml"
D = Decimal


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(textwrap.dedent(text).lstrip("\n").encode(encoding))
    return path


def rules_of(tmp_path: Path, text: str) -> Rules:
    rules, diagnostics = read_rules(write(tmp_path, "rules.yml", text))
    assert diagnostics == []
    assert rules is not None
    return rules


def problems(tmp_path: Path, text: str) -> list[tuple[int, int, str, str]]:
    rules, diagnostics = read_rules(write(tmp_path, "rules.yml", text))
    assert rules is None
    return [(d.line, d.col, d.code, d.message) for d in diagnostics]


def camt(entries: str) -> str:
    return ('<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
            'camt.053.001.02"><BkToCstmrStmt><Stmt>\n' + textwrap.dedent(entries)
            + "</Stmt></BkToCstmrStmt></Document>\n")


# -- camt.053 / camt.054 ----------------------------------------------------------------------


def test_camt053_v02_keeps_booked_credits_and_leaves_out_debit_pending_and_reversal() -> None:
    credits, diagnostics = read_statement(STATEMENTS / "camt053-v02.xml")
    assert diagnostics == []
    assert [(c.date, c.amount, c.reference) for c in credits] == [
        (date(2026, 11, 16), D("1220.00"), "BANK-REF-0001"),
        (date(2026, 11, 15), D("500.00"), "N-0002"),
        (date(2026, 11, 16), D("40.00"), "TX-REF-0004"),
        (date(2026, 11, 16), D("41.00"), "E2E-0005"),
        (date(2026, 11, 16), D("42.00"), "sha1:312000fb8ca06791"),
        (date(2026, 11, 16), D("42.00"), "sha1:2b6ef38601ec2ffd"),
    ]
    first, second = credits[0], credits[1]
    assert first == Credit(date=date(2026, 11, 16), amount=D("1220.00"), currency="EUR",
                           reference="BANK-REF-0001", name="ROSSI COSTRUZIONI SRL",
                           iban="IT60X0542811101000000123456", text="SALDO FT 101/2026",
                           where=f"{STATEMENTS / 'camt053-v02.xml'}:8")
    assert second.text == "ACCONTO RATA NOVEMBRE RF18539007547034 BONIFICO SEPA"
    assert second.amount == D("500.00") and str(second.amount) == "500.00"
    assert second.iban is None and second.name == "Bianchi Srl"
    references = {c.reference for c in credits}
    assert not references & {"BANK-REF-DEBIT", "BANK-REF-PENDING", "BANK-REF-REVERSAL"}


def test_camt_references_fall_back_in_order_and_the_digest_is_stable(tmp_path: Path) -> None:
    """AcctSvcrRef before NtryRef; then the transaction's AcctSvcrRef, its EndToEndId unless
    NOTPROVIDED; then a digest that does not depend on the file's name or the entry's line."""
    credits, _ = read_statement(STATEMENTS / "camt053-v02.xml")
    moved = tmp_path / "other-name.xml"
    text = (STATEMENTS / "camt053-v02.xml").read_text(encoding="utf-8")
    moved.write_text(text.replace("<Stmt>", "<Stmt>\n\n\n"), encoding="utf-8")
    again, _ = read_statement(moved)
    assert [c.reference for c in again] == [c.reference for c in credits]
    assert [c.where.rsplit(":", 1)[1] for c in again] == ["11", "28", "66", "76", "85", "96"]
    twins = [c for c in credits if c.amount == D("42.00")]
    assert twins[0].reference != twins[1].reference  # two equal payments, two references


def test_camt053_v08_status_code_party_name_datetime_and_a_batch() -> None:
    credits, diagnostics = read_statement(STATEMENTS / "camt053-v08.xml")
    assert diagnostics == []
    where = str(STATEMENTS / "camt053-v08.xml")
    assert [(c.date, c.amount, c.reference, c.name, c.iban, c.text, c.where) for c in credits] == [
        (date(2026, 11, 17), D("250.50"), "V08-REF-1", "Società D'Amico S.p.A.",
         "IT40S0542811101000000123456", "fattura n. 55", f"{where}:7"),
        (date(2026, 11, 17), D("400.00"), "V08-BATCH-A", "NERI SNC", None, "FT 2026-0031",
         f"{where}:36"),
        (date(2026, 11, 17), D("300.00"), "V08-BATCH/2", "GIALLI SAS", None, "INV 32",
         f"{where}:42"),
    ]


def test_camt054_notification() -> None:
    credits, diagnostics = read_statement(STATEMENTS / "camt054.xml")
    assert diagnostics == []
    assert [(c.amount, c.reference, c.name, c.text) for c in credits] == [
        (D("1220.00"), "BANK-REF-0001", "ROSSI COSTRUZIONI SRL", "SALDO FT 101/2026")]


def test_batch_without_references_numbers_its_transactions(tmp_path: Path) -> None:
    path = write(tmp_path, "batch.xml", camt("""
        <Ntry><Amt Ccy="EUR">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-20</Dt></BookgDt><NtryRef>BATCH-7</NtryRef><NtryDtls>
        <TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">10.00</Amt></TxAmt></AmtDtls></TxDtls>
        <TxDtls><CdtDbtInd>DBIT</CdtDbtInd><Amt Ccy="EUR">1.00</Amt></TxDtls>
        <TxDtls><Amt Ccy="EUR">21.00</Amt><RmtInf><Ustrd>FT 9</Ustrd></RmtInf></TxDtls>
        </NtryDtls></Ntry>
    """))
    credits, diagnostics = read_statement(path)
    assert diagnostics == []
    assert [(c.amount, c.reference, c.text) for c in credits] == [
        (D("10.00"), "BATCH-7/1", ""), (D("21.00"), "BATCH-7/3", "FT 9")]


def test_a_bad_entry_is_one_error_and_the_others_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.xml", camt("""
        <Ntry><Amt Ccy="EUR">12,50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-20</Dt></BookgDt><AcctSvcrRef>A</AcctSvcrRef></Ntry>
        <Ntry><Amt Ccy="EUR">10.005</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-20</Dt></BookgDt><AcctSvcrRef>B</AcctSvcrRef></Ntry>
        <Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-02-30</Dt></BookgDt><AcctSvcrRef>C</AcctSvcrRef></Ntry>
        <Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-20</Dt></BookgDt><AcctSvcrRef>D</AcctSvcrRef></Ntry>
    """))
    credits, diagnostics = read_statement(path)
    assert [c.reference for c in credits] == ["D"]
    assert [(d.line, d.code) for d in diagnostics] == [
        (4, "bad-amount"), (6, "bad-amount"), (8, "bad-date")]
    assert diagnostics[0].message == "<Amt> holds '12,50', not an amount"
    assert diagnostics[1].message == "the amount 10.005 has fractions of a cent"


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe.xml"])
def test_hostile_xml_is_one_error_and_no_credits(name: str) -> None:
    credits, diagnostics = read_statement(STATEMENTS / name)
    assert credits == []
    assert len(diagnostics) == 1
    assert diagnostics[0].code == "hostile-xml"
    assert diagnostics[0].severity is Severity.ERROR
    assert diagnostics[0].message.startswith("refused: the file declares a DOCTYPE")


def test_xml_that_is_not_a_statement_is_one_clear_error(tmp_path: Path) -> None:
    credits, diagnostics = read_statement(STATEMENTS / "not-a-statement.xml")
    assert credits == []
    assert [(d.line, d.code) for d in diagnostics] == [(2, "not-a-statement")]
    assert diagnostics[0].message.endswith("it is an e-invoice (FatturaPA): import it with "
                                           "'casebook import fatturapa'")
    feed = write(tmp_path, "feed.xml", "<rss><channel/></rss>")
    _, diagnostics = read_statement(feed)
    assert [d.message for d in diagnostics] == [
        f"{feed} is not an ISO 20022 camt.053 statement or camt.054 notification: it is XML "
        "whose root is <rss>"]


def test_broken_xml_is_not_xml(tmp_path: Path) -> None:
    path = write(tmp_path, "cut.xml", "<Document><BkToCstmrStmt><Stmt>\n<Ntry>")
    credits, diagnostics = read_statement(path)
    assert credits == []
    assert [(d.code, d.line) for d in diagnostics] == [("not-xml", 2)]
    odd = write(tmp_path, "odd.xml", '<?xml version="1.0" encoding="NO-SUCH-8"?><Document/>')
    credits, diagnostics = read_statement(odd)
    assert credits == []
    assert [(d.code, d.message) for d in diagnostics] == [
        ("not-xml", "the file declares an encoding that cannot be read (unknown encoding: "
                    f"NO-SUCH-8); nothing is read from {odd}")]


def test_a_csv_without_rules_is_an_error() -> None:
    credits, diagnostics = read_statement(STATEMENTS / "movimenti.csv")
    assert credits == []
    assert [d.code for d in diagnostics] == ["rules-missing"]
    assert "--rules FILE" in diagnostics[0].message


# -- CSV and its rules ------------------------------------------------------------------------


def test_the_shipped_italian_rules_read_clean() -> None:
    rules, diagnostics = read_rules(ITALIAN)
    assert diagnostics == []
    assert rules is not None
    assert (rules.separator, rules.encoding, rules.skip, rules.header, rules.date_format,
            rules.decimal_comma, rules.credit_sign) == (";", "utf-8-sig", 0, True, "%d/%m/%Y",
                                                        True, "+")
    assert [(c.key, c.ref) for c in rules.columns()] == [
        ("date", "Data contabile"), ("amount", "Importo"), ("currency", "Divisa"),
        ("description", "Descrizione")]


def test_csv_with_the_italian_rules_keeps_credits_and_reports_bad_rows() -> None:
    rules, _ = read_rules(ITALIAN)
    credits, diagnostics = read_statement(STATEMENTS / "movimenti.csv", rules)
    where = str(STATEMENTS / "movimenti.csv")
    assert [(c.date, c.amount, c.currency, c.text, c.where) for c in credits] == [
        (date(2026, 11, 15), D("1220.00"), "EUR",
         "BONIFICO A VOSTRO FAVORE DA ROSSI COSTRUZIONI SRL SALDO FT 101/2026", f"{where}:2"),
        (date(2026, 11, 17), D("500.50"), "EUR", "BONIFICO DA BIANCHI; ACCONTO", f"{where}:6"),
    ]
    assert all(c.reference.startswith("sha1:") and len(c.reference) == 21 for c in credits)
    assert [d.format() for d in diagnostics] == [
        f"{where}:4:1: error: '31/11/2026' is not a date in the format '%d/%m/%Y'; "
        "the row is left out",
        f"{where}:7:1: error: '12.34' is not an amount like 1.234,56; the row is left out",
    ]


DARE_AVERE = """\
    separator: ";"
    encoding: cp1252
    skip: 2
    date: Data
    date-format: "%d/%m/%y"
    credit: Avere
    debit: Dare
    decimal-comma: true
    description: [Causale, Note]
    name: Ordinante
    iban: IBAN ordinante
    currency: EUR
"""


def test_csv_with_dare_and_avere_columns_a_preamble_and_cp1252(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, DARE_AVERE)
    export = write(tmp_path, "estratto.csv", """
        Conto corrente;000012345678
        Periodo;01/11/26 - 30/11/26
        Data;Dare;Avere;Causale;Note;Ordinante;IBAN ordinante
        03/11/26;-84,30;;UTENZE;;;
        04/11/26;;1.220,00;BONIFICO;Saldo ft 101 città;Rossi Srl;it60 x054 2811 1010 0000 0123 456
        05/11/26;;;GIROCONTO;;;
        06/11/26;;-5,00;STORNO;;;
        """, encoding="cp1252")
    credits, diagnostics = read_statement(export, rules)
    assert [(c.date, c.amount, c.text, c.name, c.iban) for c in credits] == [
        (date(2026, 11, 4), D("1220.00"), "BONIFICO Saldo ft 101 città", "Rossi Srl",
         "IT60X0542811101000000123456")]
    assert [(d.line, d.code, d.message) for d in diagnostics] == [
        (6, "bad-row", "neither 'Avere' nor 'Dare' holds an amount; the row is left out"),
        (7, "bad-amount", "the credit column 'Avere' holds a negative amount (-5,00); "
                          "the row is left out"),
    ]


def test_the_same_row_in_two_exports_has_the_same_digest(tmp_path: Path) -> None:
    rules, _ = read_rules(ITALIAN)
    header = "Data contabile;Data valuta;Descrizione;Importo;Divisa\n"
    rossi = "15/11/2026;15/11/2026;SALDO FT 101/2026;1.220,00;EUR\n"
    bianchi = "16/11/2026;16/11/2026;ACCONTO;100,00;EUR\n"
    first = write(tmp_path, "ottobre-novembre.csv", header + bianchi + rossi)
    second = write(tmp_path, "novembre.csv", header + rossi + bianchi + bianchi)
    a, _ = read_statement(first, rules)
    b, _ = read_statement(second, rules)
    by_text = {c.text: c.reference for c in a}
    assert [c.reference for c in b[:2]] == [by_text["SALDO FT 101/2026"], by_text["ACCONTO"]]
    assert b[2].reference != b[1].reference  # the same row twice in one file: two credits
    assert [c.where.rsplit(":", 1)[1] for c in b] == ["2", "3", "4"]


def test_csv_by_position_with_the_sign_reversed_and_a_reference_column(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, """\
        header: false
        date: 1
        amount: 2
        credit-sign: "-"
        description: 3
        reference: 4
        currency: 5
    """)
    export = write(tmp_path, "export.csv", """
        2026-11-03,-1220.00,"FT 101, saldo",TRN-1,eur
        2026-11-04,"1,500.00",PAGAMENTO,TRN-2,EUR
        2026-11-05,-10.00,SHORT ROW
        2026-11-06,-20.00,X,TRN-4,EURO
    """)
    credits, diagnostics = read_statement(export, rules)
    assert [(c.amount, c.text, c.reference, c.currency) for c in credits] == [
        (D("1220.00"), "FT 101, saldo", "TRN-1", "EUR")]
    assert [(d.line, d.message) for d in diagnostics] == [
        (3, "the row has 3 columns, and 'currency' reads column 5; the row is left out"),
        (4, "the currency 'EURO' is not a code like EUR; the row is left out"),
    ]


def test_a_column_missing_from_the_header_names_the_rules_line(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, """\
        separator: ";"
        date: Data contabile
        amount: Importo EUR
    """)
    export = write(tmp_path, "x.csv", "Data contabile;Importo\n01/11/2026;1,00\n")
    credits, diagnostics = read_statement(export, rules)
    assert credits == []
    assert [(d.line, d.code, d.message) for d in diagnostics] == [
        (1, "csv-column", f"there is no column 'Importo EUR' (named by 'amount' at "
                          f"{tmp_path / 'rules.yml'}:3:9); the header is: Data contabile; Importo")]


def test_a_csv_in_the_wrong_encoding_is_one_error(tmp_path: Path) -> None:
    rules, _ = read_rules(ITALIAN)
    export = write(tmp_path, "x.csv", "Data contabile;Importo\n01/11/2026;1,00;città\n",
                   encoding="cp1252")
    credits, diagnostics = read_statement(export, rules)
    assert credits == []
    assert [(d.line, d.code) for d in diagnostics] == [(2, "encoding")]


def test_rules_unknown_key_is_reported_with_did_you_mean(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        date: Data
        date_format: "%d/%m/%Y"
        amount: Importo
    """) == [(2, 1, "unknown-key",
              "unknown key 'date_format' in the CSV rules (did you mean 'date-format'?)")]


@pytest.mark.parametrize(("written", "message"), [
    ('"%Q"', "the date-format '%Q' cannot be used: 'Q' is a bad directive in format '%Q'"),
    ("dd/mm/yyyy", "the date-format 'dd/mm/yyyy' does not read a whole date: write the day, "
                   "month and year with strptime codes, like %d/%m/%Y for 31/12/2026"),
    ('"%d/%m"', "the date-format '%d/%m' does not read a whole date: write the day, month and "
                "year with strptime codes, like %d/%m/%Y for 31/12/2026"),
])
def test_rules_bad_date_format(tmp_path: Path, written: str, message: str) -> None:
    assert problems(tmp_path, f"date: 1\namount: 2\nheader: false\ndate-format: {written}\n") == [
        (4, 14, "value", message)]


def test_rules_checks_across_keys_and_values(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        date: Data
        amount: Importo
        credit: Avere
        separator: ab
        encoding: utf-16
        header: yes
    """) == [
        (3, 9, "rules", "give either 'amount' (one signed column) or 'credit' and 'debit' "
                        "(two columns), not both"),
        (4, 12, "value", "the separator must be one character such as \";\" or \",\" (or the "
                         "word tab), found 'ab'"),
        (5, 11, "value", "unknown encoding 'utf-16' (did you mean 'utf-8'?); casebook reads "
                         "cp1252, iso-8859-15, latin-1, utf-8, utf-8-sig"),
        (6, 9, "type", "expected true or false, found 'yes'"),
    ]
    assert problems(tmp_path, "date: Data\ndebit: Dare\n") == [
        (1, 1, "missing-key", "the rules need 'amount' (one signed column) or 'credit' (the "
                              "column of money in, with 'debit' for money out)"),
        (2, 8, "rules", "'debit' needs 'credit' beside it; a single signed column is 'amount'"),
    ]
    assert problems(tmp_path, "amount: 2\n") == [
        (1, 1, "missing-key", "the CSV rules is missing the required key 'date'")]
    assert problems(tmp_path, "header: false\ndate: Data\namount: 0\n") == [
        (2, 7, "rules", "'date' names the column 'Data', but 'header' is false: name columns "
                        "by position (1 for the first)"),
        (3, 9, "value", "'amount' names column 0: positions count from 1"),
    ]


def test_rules_a_bare_dash_gets_a_hint(tmp_path: Path) -> None:
    [(line, _, code, message)] = problems(tmp_path, "date: 1\namount: 2\ncredit-sign: -\n")
    assert (line, code) == (3, "yaml")
    assert message.endswith("; write a lone '-' in quotes: credit-sign: \"-\"")


def test_rules_values_are_kept(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, DARE_AVERE)
    assert rules == Rules(
        path=str(tmp_path / "rules.yml"), separator=";", encoding="cp1252", skip=2,
        date=Column(ref="Data", key="date", pos=Pos(4, 7)), date_format="%d/%m/%y",
        credit=Column(ref="Avere", key="credit", pos=Pos(6, 9)),
        debit=Column(ref="Dare", key="debit", pos=Pos(7, 8)), decimal_comma=True,
        description=(Column(ref="Causale", key="description", pos=Pos(9, 15)),
                     Column(ref="Note", key="description", pos=Pos(9, 24))),
        name=Column(ref="Ordinante", key="name", pos=Pos(10, 7)),
        iban=Column(ref="IBAN ordinante", key="iban", pos=Pos(11, 7)), currency="EUR")
    assert rules_of(tmp_path, "date: 1\namount: 2\nheader: false\nseparator: tab\n").separator \
        == "\t"


# -- normal forms -----------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "key"), [
    ("2026/101", (("101",), 2026)),
    ("101/2026", (("101",), 2026)),
    ("FV-2026-0042", (("42",), 2026)),
    ("101", (("101",), None)),
    ("A-12-3/2026", (("12", "3"), 2026)),
    ("2026", (("2026",), None)),
    ("PROFORMA", None),
])
def test_invoice_key(number: str, key: object) -> None:
    assert invoice_key(number) == key


@pytest.mark.parametrize("text", [
    "2026/101", "2026-101", "101/2026", "SALDO FT 101/2026", "FT 101", "FT. 101", "fatt. 101",
    "fattura n. 101", "n. 101/2026", "INV 101", "ft101", "Fattura nr.101 del 12/03/2026",
    "fatture 99, 101 e 103", "FT 101 2026", "fatt 101 / 2026",
])
def test_texts_that_name_invoice_2026_101(text: str) -> None:
    assert {(("101",), 2026), (("101",), None)} & mentions(text)


@pytest.mark.parametrize("text", [
    "1010", "2101", "FT 1010", "FT 2101", "101", "SALDO 101 EURO", "101/2025", "FT 101/2025",
    "IT60X0542811101000000123456", "BONIFICO 1.101,00", "ftp 101",
])
def test_texts_that_do_not_name_invoice_2026_101(text: str) -> None:
    assert not {(("101",), 2026), (("101",), None)} & mentions(text)


@pytest.mark.parametrize("text", ["FV-2026-0042", "fv 2026 0042", "fattura 42/2026",
                                  "FT 0042"])
def test_texts_that_name_invoice_fv_2026_0042(text: str) -> None:
    assert {(("42",), 2026), (("42",), None)} & mentions(text)


def test_an_amount_after_the_number_is_not_its_year() -> None:
    assert mentions("FT 101 2000,00") == {(("101",), None)}


@pytest.mark.parametrize(("name", "normal"), [
    ("ROSSI COSTRUZIONI S.R.L.", "rossi costruzioni"),
    ("Rossi Costruzioni srl", "rossi costruzioni"),
    ("Rossi & C. S.n.c.", "rossi"),
    ("ROSSI E C. SAS", "rossi"),
    ("Società D'Amico S.p.A", "societa damico"),
    ("SOCIETA DAMICO SPA", "societa damico"),
    ("Bianchi S.r.l. unipersonale", "bianchi"),
    ("Costruzioni Rossi", "costruzioni rossi"),
])
def test_normal_name(name: str, normal: str) -> None:
    assert normal_name(name) == normal


# -- matching ---------------------------------------------------------------------------------


def credit(amount: str = "100.00", *, text: str = "", name: str | None = None,
           iban: str | None = None, reference: str = "R1", day: int = 16,
           currency: str = "EUR") -> Credit:
    return Credit(date=date(2026, 11, day), amount=D(amount), currency=currency,
                  reference=reference, name=name, iban=iban, text=text,
                  where=f"statement.xml:{day}")


def case(case_id: str, name: str, *invoices: tuple[str, str], iban: str | None = None,
         items: tuple[OpenItem, ...] | None = None, references: tuple[str, ...] = ()
         ) -> Candidate:
    if items is None:
        items = tuple(OpenItem(amount=D(r), invoice=n, what=f"invoice {n}")
                      for n, r in invoices if D(r) > 0)
    return Candidate(case_id=case_id, name=name, iban=iban,
                     invoices=tuple((n, D(r)) for n, r in invoices), open_items=items,
                     references=frozenset(references))


ROSSI = case("rossi", "Rossi Costruzioni S.r.l.", ("2026/101", "1220.00"), ("2026/102", "300.00"))
BIANCHI = case("bianchi", "Bianchi Srl", ("2025/101", "80.00"), ("2026/7", "0"),
               iban="IT40S0542811101000000123456")
VERDI = case("verdi", "Verdi Mario", ("2026/150", "450.00"))
CASEBOOK = (ROSSI, BIANCHI, VERDI)
PAYER_IBAN = "IT60X0542811101000000123456"


def one(outcome: object) -> tuple[str, str | None, str, str, str | None]:
    matches = outcome.matches  # type: ignore[attr-defined]
    assert len(matches) == 1 and not outcome.unmatched  # type: ignore[attr-defined]
    m = matches[0]
    return m.case_id, m.invoice, m.rule, m.reason, m.learn_iban


def why(outcome: object) -> str:
    unmatched = outcome.unmatched  # type: ignore[attr-defined]
    assert len(unmatched) == 1 and not outcome.matches  # type: ignore[attr-defined]
    return str(unmatched[0].why)


def test_rule_1_the_text_names_an_invoice() -> None:
    paid = credit("1220.00", text="SALDO FT 101/2026", name="ROSSI SPA", iban=PAYER_IBAN)
    assert one(match([paid], CASEBOOK)) == (
        "rossi", "2026/101", "invoice-number",
        "the remittance text names invoice 2026/101 ('SALDO FT 101/2026')", PAYER_IBAN)


def test_rule_1_comes_before_the_iban_rule() -> None:
    paid = credit("80.00", text="fattura n. 150", iban="IT40S0542811101000000123456")
    assert one(match([paid], CASEBOOK))[:3] == ("verdi", "2026/150", "invoice-number")


def test_rule_1_several_invoices_of_one_case() -> None:
    exact = credit("300.00", text="FATTURE 101/2026, 102/2026")
    assert one(match([exact], CASEBOOK))[:4] == (
        "rossi", "2026/102", "invoice-number",
        "the remittance text names invoices 2026/101 and 2026/102 of this case "
        "('FATTURE 101/2026, 102/2026'); 2026/102 is the one with exactly 300.00 open")
    both = credit("1520.00", text="FT 101/2026 FT 102/2026")
    assert one(match([both], CASEBOOK))[:4] == (
        "rossi", None, "invoice-number",
        "the remittance text names invoices 2026/101 and 2026/102 of this case "
        "('FT 101/2026 FT 102/2026'); no single one of them has exactly 1520.00 open, so the "
        "payment names no one invoice")


def test_rule_1_ambiguous_across_cases() -> None:
    paid = credit("80.00", text="FT 101", iban="IT40S0542811101000000123456")
    assert why(match([paid], CASEBOOK)) == (
        "ambiguous: the remittance text ('FT 101') names invoices of 2 cases (bianchi, rossi): "
        "2025/101 (bianchi), 2026/101 (rossi)")
    with_year = credit("80.00", text="FT 101/2025")
    assert one(match([with_year], CASEBOOK))[:3] == ("bianchi", "2025/101", "invoice-number")


def test_rule_1_a_longer_digit_run_is_not_the_invoice() -> None:
    paid = credit("55.00", text="FT 1010 e 2101")
    assert "the remittance text names no invoice of an open case" in why(match([paid], CASEBOOK))


def test_rule_1_names_a_paid_invoice_of_an_open_case() -> None:
    paid = credit("10.00", text="FT 7/2026")
    assert one(match([paid], CASEBOOK))[:3] == ("bianchi", "2026/7", "invoice-number")


def test_rule_2_the_iban_paid_this_case_before() -> None:
    paid = credit("55.00", text="BONIFICO", name="Someone Else",
                  iban="IT40S0542811101000000123456")
    assert one(match([paid], CASEBOOK)) == (
        "bianchi", None, "iban", "the IBAN IT40S0542811101000000123456 paid this case before",
        None)


def test_rule_2_ambiguous() -> None:
    twin = case("bianchi-bis", "Bianchi Due", ("2026/300", "10.00"),
                iban="IT40 S054 2811 1010 0000 0123 456")
    paid = credit("55.00", name="Verdi Mario", iban="IT40S0542811101000000123456")
    assert why(match([paid], (*CASEBOOK, twin))) == (
        "ambiguous: the IBAN IT40S0542811101000000123456 is stored for 2 cases "
        "(bianchi, bianchi-bis)")


def test_rule_3_the_payers_name_is_the_debtors() -> None:
    paid = credit("55.00", name="ROSSI COSTRUZIONI SRL", iban=PAYER_IBAN)
    assert one(match([paid], CASEBOOK)) == (
        "rossi", None, "name", "the payer's name 'ROSSI COSTRUZIONI SRL' is the debtor's",
        PAYER_IBAN)


def test_rule_3_keeps_word_order_and_is_ambiguous_between_namesakes() -> None:
    assert "the name 'Mario Verdi' is no debtor's" in why(
        match([credit("55.00", name="Mario Verdi")], CASEBOOK))
    namesake = case("verdi-2", "VERDI MARIO", ("2026/400", "20.00"))
    assert why(match([credit("55.00", name="Verdi Mario")], (*CASEBOOK, namesake))) == (
        "ambiguous: the payer's name 'Verdi Mario' is the debtor's name of 2 cases "
        "(verdi, verdi-2)")


def test_rule_4_an_amount_open_only_once_in_the_casebook() -> None:
    paid = credit("450.00", text="BONIFICO", iban=PAYER_IBAN)
    assert one(match([paid], CASEBOOK)) == (
        "verdi", "2026/150", "amount",
        "450.00 is exactly the open amount of invoice 2026/150 and of no other open item in "
        "the casebook", PAYER_IBAN)


def test_rule_4_an_instalment_or_a_promise() -> None:
    plan = case("neri", "Neri Snc", ("2026/31", "1200.00"), items=(
        OpenItem(amount=D("400.00"), invoice=None, what="instalment of 2026-11-15 of the plan"),
        OpenItem(amount=D("400.00"), invoice=None, what="instalment of 2026-12-15 of the plan"),
    ))
    paid = credit("400.00")
    assert one(match([paid], (*CASEBOOK, plan)))[:4] == (
        "neri", None, "amount",
        "400.00 is exactly the open amount of instalment of 2026-11-15 of the plan and "
        "instalment of 2026-12-15 of the plan, all of this case, and of no other open item in "
        "the casebook")


def test_rule_4_ambiguous_between_cases() -> None:
    same = case("gialli", "Gialli Sas", ("2026/9", "450.00"))
    assert why(match([credit("450.00")], (*CASEBOOK, same))) == (
        "ambiguous: 450.00 is an open amount in 2 cases (gialli, verdi)")


def test_rule_4_an_item_paid_earlier_in_the_batch_is_no_longer_open() -> None:
    later = credit("450.00", reference="R-later", day=18)
    earlier = credit("450.00", reference="R-earlier", day=17)
    outcome = match([later, earlier], CASEBOOK)
    assert [(m.credit.reference, m.case_id, m.rule) for m in outcome.matches] == [
        ("R-earlier", "verdi", "amount")]
    assert [(u.credit.reference, u.why) for u in outcome.unmatched] == [
        ("R-later", "no invoice number, IBAN, name or amount matches an open case: the "
                    "remittance text names no invoice number; the credit has no IBAN; the "
                    "credit has no name; the open items of 450.00 were paid by earlier credits "
                    "of this import")]


def test_a_match_by_another_rule_also_takes_the_item_it_pays() -> None:
    by_text = credit("450.00", text="FT 150/2026", reference="A", day=16)
    by_amount = credit("450.00", reference="B", day=17)
    outcome = match([by_amount, by_text], CASEBOOK)
    assert [(m.credit.reference, m.rule) for m in outcome.matches] == [("A", "invoice-number")]
    assert [u.credit.reference for u in outcome.unmatched] == ["B"]


def test_nothing_matches_says_what_was_tried() -> None:
    paid = credit("55.00", text="FT 999/2026", name="Someone", iban=PAYER_IBAN)
    assert why(match([paid], CASEBOOK)) == (
        "no invoice number, IBAN, name or amount matches an open case: the remittance text "
        f"names no invoice of an open case; the IBAN {PAYER_IBAN} is no debtor's; the name "
        "'Someone' is no debtor's; no open item is 55.00")


def test_a_credit_in_another_currency_is_not_matched() -> None:
    paid = credit("450.00", text="FT 150/2026", currency="USD")
    assert why(match([paid], CASEBOOK)) == (
        "the credit is in USD and the casebook counts EUR: record it by hand")


def test_learn_iban_only_when_the_case_has_none_and_the_batch_agrees() -> None:
    one_iban = [credit("10.00", text="FT 101/2026", iban=PAYER_IBAN, reference="A"),
                credit("20.00", text="FT 102/2026", iban=PAYER_IBAN, reference="B")]
    assert [m.learn_iban for m in match(one_iban, CASEBOOK).matches] == [PAYER_IBAN] * 2
    other = "DE89370400440532013000"
    two_ibans = [one_iban[0], credit("20.00", text="FT 102/2026", iban=other, reference="B")]
    assert [m.learn_iban for m in match(two_ibans, CASEBOOK).matches] == [None, None]
    stored = credit("10.00", text="FT 150/2026", iban="IT40S0542811101000000123456")
    assert one(match([stored], CASEBOOK))[4] is None  # the IBAN is bianchi's
    has_one = credit("10.00", text="FT 101/2025", iban=PAYER_IBAN)
    assert one(match([has_one], CASEBOOK))[4] is None  # bianchi stores an IBAN already
    two_cases = [one_iban[0], credit("20.00", text="FT 150/2026", iban=PAYER_IBAN,
                                     reference="C")]
    assert [m.learn_iban for m in match(two_cases, CASEBOOK).matches] == [None, None]


def test_a_statement_imported_again_is_all_already() -> None:
    credits, _ = read_statement(STATEMENTS / "camt053-v02.xml")
    first = match(credits, CASEBOOK)
    assert [(m.credit.reference, m.case_id, m.rule) for m in first.matches] == [
        ("N-0002", "bianchi", "name"),
        ("BANK-REF-0001", "rossi", "invoice-number"),
        ("TX-REF-0004", "bianchi", "invoice-number"),
        ("sha1:312000fb8ca06791", "verdi", "name"),
        ("sha1:2b6ef38601ec2ffd", "verdi", "name"),
    ]
    assert [u.credit.reference for u in first.unmatched] == ["E2E-0005"]
    assert first.already == ()
    recorded: dict[str, set[str]] = {}
    for m in first.matches:
        recorded.setdefault(m.case_id, set()).add(m.credit.reference)
    again = tuple(Candidate(case_id=c.case_id, name=c.name, iban=c.iban, invoices=c.invoices,
                            open_items=c.open_items,
                            references=frozenset(recorded.get(c.case_id, ())))
                  for c in CASEBOOK)
    second = match(credits, again)
    assert second.matches == ()
    assert [(c.reference, case_id) for c, case_id in second.already] == [
        (m.credit.reference, m.case_id) for m in first.matches]
    assert [u.credit.reference for u in second.unmatched] == ["E2E-0005"]


def test_the_same_entry_in_a_camt053_and_a_camt054_of_one_import() -> None:
    statement, _ = read_statement(STATEMENTS / "camt053-v02.xml")
    notification, _ = read_statement(STATEMENTS / "camt054.xml")
    outcome = match([*statement, *notification], CASEBOOK)
    assert [(c.reference, case_id) for c, case_id in outcome.already] == [
        ("BANK-REF-0001", "rossi")]
    assert [m.credit.reference for m in outcome.matches].count("BANK-REF-0001") == 1


def test_credits_are_matched_in_date_order_then_file_order(tmp_path: Path) -> None:
    copy = tmp_path / "copy.xml"
    shutil.copy(STATEMENTS / "camt053-v02.xml", copy)
    credits, _ = read_statement(copy)
    outcome = match(credits, CASEBOOK)
    order = [(m.credit.date, m.credit.where) for m in outcome.matches]
    assert order == sorted(order, key=lambda pair: (pair[0], int(pair[1].rsplit(":", 1)[1])))
    assert outcome == match(list(credits), list(CASEBOOK))
