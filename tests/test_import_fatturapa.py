"""Reading FatturaPA e-invoices into debtors and documents (casebook.imports.fatturapa).

The samples in tests/einvoices are made up for these tests; `edit` builds variants of them.
Signed files are made here with openssl, zip archives with zipfile.
"""

from __future__ import annotations

import base64
import io
import random
import shutil
import subprocess
import zipfile
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casebook.diagnostics import Diagnostic, Severity
from casebook.imports import envelope
from casebook.imports.fatturapa import (
    Document,
    EInvoice,
    Part,
    Party,
    read_einvoice,
    read_einvoices,
)

SAMPLES = Path(__file__).parent / "einvoices"
BUSINESS = SAMPLES / "IT09876540155_00001.xml"  # FPR12, one due date
SPLIT = SAMPLES / "IT09876540155_00002.xml"  # FPA12, split payment, two instalments
CONSUMER = SAMPLES / "IT09876540155_00003.xml"  # codice fiscale only, Nome + Cognome
FOREIGN = SAMPLES / "IT09876540155_00004.xml"  # TD24 to Germany, payment terms in days
NO_PAYMENT = SAMPLES / "IT09876540155_00005.xml"  # no DatiPagamento at all
BATCH = SAMPLES / "IT09876540155_00006.xml"  # two bodies, the second in two equal parts
CREDIT = SAMPLES / "IT09876540155_00009.xml"  # TD04 naming invoice 2026/115
FEES = SAMPLES / "IT02468130154_00017.xml"  # TD06 with withholding tax

ROSSI = Party(name="Rossi Costruzioni S.r.l.", kind="business", vat="IT01234560157",
              cf="01234560157", address="Via Roma 1\n24121 Bergamo BG", pec=None, sdi="M5UXCR1")
INVOICE_101 = Document(
    type="TD01", number="2026/101", date=date(2026, 7, 1), amount=Decimal("1220.00"),
    total=None, due=date(2026, 7, 31), schedule=(),
    description="Fornitura materiali edili, cantiere di via Roma", credits_invoice=None,
    currency="EUR", line=56)


def edit(sample: Path, *changes: tuple[str, str]) -> bytes:
    """The sample with each (old, new) replaced; each `old` must occur exactly once."""
    text = sample.read_text(encoding="utf-8")
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def payments(*parts: tuple[str, str]) -> str:
    """A DatiPagamento block with one DettaglioPagamento per (due date, amount)."""
    details = "".join(
        f"<DettaglioPagamento><ModalitaPagamento>MP05</ModalitaPagamento>"
        f"<DataScadenzaPagamento>{due}</DataScadenzaPagamento>"
        f"<ImportoPagamento>{amount}</ImportoPagamento></DettaglioPagamento>"
        for due, amount in parts)
    return (f"<DatiPagamento><CondizioniPagamento>TP01</CondizioniPagamento>{details}"
            "</DatiPagamento>")


def business_payments(block: str) -> bytes:
    """The business sample with its DatiPagamento replaced by `block`."""
    text = BUSINESS.read_text(encoding="utf-8")
    start, end = text.index("<DatiPagamento>"), text.index("</DatiPagamento>")
    return (text[:start] + block + text[end + len("</DatiPagamento>"):]).encode("utf-8")


def read(data: bytes, name: str = "inv.xml") -> tuple[EInvoice | None, list[Diagnostic]]:
    return read_einvoice(name, Path(name).name, data)


def read_file(path: Path) -> tuple[EInvoice | None, list[Diagnostic]]:
    return read(path.read_bytes(), str(path))


def codes(diagnostics: list[Diagnostic]) -> list[tuple[str, str]]:
    return [(str(d.severity), d.code) for d in diagnostics]


# --- what the samples hold ------------------------------------------------------------------


def test_a_business_invoice_with_one_due_date() -> None:
    einvoice, found = read_file(BUSINESS)
    assert found == []
    assert einvoice == EInvoice(name=str(BUSINESS), filename="IT09876540155_00001.xml",
                                data=BUSINESS.read_bytes(), debtor=ROSSI,
                                documents=(INVOICE_101,))


def test_a_public_body_under_split_payment_owes_two_instalments_net_of_vat() -> None:
    einvoice, found = read_file(SPLIT)
    assert found == []
    assert einvoice is not None
    assert einvoice.debtor == Party(
        name="Comune di Valbrembo", kind="public", vat=None, cf="00555120120",
        address="Piazza Municipio 2\n24030 Valbrembo BG", pec=None, sdi="UFX9Z2")
    assert einvoice.documents == (Document(
        type="TD01", number="FPA 3/26", date=date(2026, 3, 10), amount=Decimal("800.40"),
        total=Decimal("976.49"), due=date(2026, 4, 9),
        schedule=(Part(due=date(2026, 4, 9), amount=Decimal("400.20")),
                  Part(due=date(2026, 5, 9), amount=Decimal("400.20"))),
        description="Manutenzione impianto di illuminazione della scuola primaria",
        credits_invoice=None, currency="EUR", line=48),)


def test_a_fee_note_with_withholding_tax_owes_the_net_amount() -> None:
    einvoice, found = read_file(FEES)
    assert found == []
    assert einvoice is not None
    assert einvoice.debtor == Party(
        name="Ferri Trasporti S.p.A.", kind="business", vat="IT12345670017", cf=None,
        address="Via dell'Industria 40/B\n25125 Brescia BS",
        pec="amministrazione@pec.ferri-trasporti.example.it", sdi=None)
    (fee,) = einvoice.documents
    assert (fee.type, fee.number, fee.amount, fee.total, fee.due) == (
        "TD06", "17/2026", Decimal("14963.20"), Decimal("17763.20"), date(2026, 6, 19))
    assert fee.description is not None and len(fee.description) == 120
    assert fee.description.startswith("Assistenza stragiudiziale nella vertenza con Alfa")
    assert fee.description.endswith("dal gennaio all'aprile 2…")


def test_a_credit_note_names_the_invoice_it_lowers() -> None:
    einvoice, found = read_file(CREDIT)
    assert found == []
    assert einvoice is not None
    assert einvoice.debtor == Party(name="Rossi Costruzioni S.r.l.", kind="business",
                                    vat="IT01234560157", cf=None,
                                    address="Via Roma 1\n24121 Bergamo BG", pec=None,
                                    sdi="M5UXCR1")
    assert einvoice.documents == (Document(
        type="TD04", number="NC-2026/7", date=date(2026, 9, 10), amount=Decimal("110.00"),
        total=None, due=date(2026, 9, 10), schedule=(),
        description="Storno parziale: merce arrivata danneggiata", credits_invoice="2026/115",
        currency="EUR", line=51),)


def test_a_credit_note_written_negative_credits_the_absolute_amount() -> None:
    data = edit(CREDIT, ("<ImportoTotaleDocumento>110.00<", "<ImportoTotaleDocumento>-110.00<"))
    einvoice, found = read(data)
    assert found == []
    assert einvoice is not None
    assert (einvoice.documents[0].amount, einvoice.documents[0].total) == (Decimal("110.00"), None)


def test_a_consumer_has_a_codice_fiscale_and_no_vat_number() -> None:
    einvoice, found = read_file(CONSUMER)
    assert found == []
    assert einvoice is not None
    assert einvoice.debtor == Party(name="Laura Bianchi", kind="consumer", vat=None,
                                    cf="BNCLRA85T41L219N",
                                    address="Corso Francia 10\n10138 Torino TO", pec=None,
                                    sdi=None)
    assert (einvoice.documents[0].amount, einvoice.documents[0].due) == (
        Decimal("610.00"), date(2026, 8, 31))


def test_payment_terms_in_days_run_from_the_reference_date() -> None:
    einvoice, found = read_file(FOREIGN)
    assert found == []
    assert einvoice is not None
    assert einvoice.debtor == Party(name="Holzbau Müller GmbH", kind="business",
                                    vat="DE123456789", cf=None,
                                    address="Hauptstraße 7\n80331 München\nDE", pec=None,
                                    sdi=None)
    (deferred,) = einvoice.documents
    assert (deferred.type, deferred.date, deferred.due, deferred.amount) == (
        "TD24", date(2026, 6, 30), date(2026, 8, 29), Decimal("3050.00"))


@pytest.mark.parametrize(("reference", "due"), [
    ("<DataRiferimentoTerminiPagamento>2026-07-15</DataRiferimentoTerminiPagamento>",
     date(2026, 9, 13)),
    ("", date(2026, 8, 29)),  # without a reference date the days run from the invoice date
])
def test_days_without_or_with_another_reference_date(reference: str, due: date) -> None:
    data = edit(FOREIGN, ("<DataRiferimentoTerminiPagamento>2026-06-30"
                          "</DataRiferimentoTerminiPagamento>", reference))
    einvoice, found = read(data)
    assert found == []
    assert einvoice is not None and einvoice.documents[0].due == due


def test_without_payment_data_the_total_is_owed_in_30_days_with_warnings() -> None:
    einvoice, found = read_file(NO_PAYMENT)
    assert einvoice is not None
    assert (einvoice.documents[0].amount, einvoice.documents[0].total,
            einvoice.documents[0].due, einvoice.documents[0].schedule) == (
        Decimal("244.00"), None, date(2026, 10, 14), ())
    assert [(d.line, d.severity, d.code, d.message) for d in found] == [
        (58, Severity.WARNING, "computed-amount", "FatturaElettronicaBody: no DatiPagamento/"
         "DettaglioPagamento/ImportoPagamento; the amount owed is taken as "
         "ImportoTotaleDocumento 244.00"),
        (56, Severity.WARNING, "no-due-date", "FatturaElettronicaBody: no due date (no "
         "DatiPagamento/DettaglioPagamento with DataScadenzaPagamento or "
         "GiorniTerminiPagamento); due taken as the invoice date + 30 days, 2026-10-14"),
    ]
    assert {d.path for d in found} == {str(NO_PAYMENT)}


def test_without_payment_data_withholding_tax_is_deducted_from_the_total() -> None:
    text = FEES.read_text(encoding="utf-8")
    data = (text[:text.index("<DatiPagamento>")]
            + text[text.index("</DatiPagamento>") + len("</DatiPagamento>"):]).encode()
    einvoice, found = read(data)
    assert einvoice is not None
    assert (einvoice.documents[0].amount, einvoice.documents[0].total) == (
        Decimal("14963.20"), Decimal("17763.20"))
    assert codes(found) == [("warning", "computed-amount"), ("warning", "no-due-date")]
    assert found[0].message.endswith("the amount owed is taken as ImportoTotaleDocumento "
                                     "17763.20 less withholding tax 2800.00 = 14963.20")


def test_without_payment_amounts_split_payment_vat_is_deducted_and_the_first_due_kept() -> None:
    data = edit(SPLIT, ("<ImportoPagamento>400.20</ImportoPagamento>\n        <IBAN>IT60X0542811101"
                        "000000123456</IBAN>\n      </DettaglioPagamento>\n    </DatiPagamento>",
                        "</DettaglioPagamento></DatiPagamento>"),
                ("<ImportoPagamento>400.20</ImportoPagamento>", ""))
    einvoice, found = read(data)
    assert einvoice is not None
    (document,) = einvoice.documents
    assert (document.amount, document.total, document.due, document.schedule) == (
        Decimal("800.40"), Decimal("976.49"), date(2026, 4, 9), ())
    assert codes(found) == [("warning", "computed-amount")]
    assert "976.49 less split-payment VAT 176.09 = 800.40" in found[0].message


def test_payments_that_do_not_match_the_total_are_imported_with_a_warning() -> None:
    data = edit(SPLIT, ("<DataScadenzaPagamento>2026-05-09</DataScadenzaPagamento>\n"
                        "        <ImportoPagamento>400.20<",
                        "<DataScadenzaPagamento>2026-05-09</DataScadenzaPagamento>\n"
                        "        <ImportoPagamento>500.00<"))
    einvoice, found = read(data)
    assert einvoice is not None
    assert einvoice.documents[0].amount == Decimal("900.20")
    assert einvoice.documents[0].schedule == (
        Part(due=date(2026, 4, 9), amount=Decimal("400.20")),
        Part(due=date(2026, 5, 9), amount=Decimal("500.00")))
    assert [(d.line, d.code, d.message) for d in found] == [
        (80, "amounts-differ", "FatturaElettronicaBody/DatiPagamento/DettaglioPagamento/"
         "ImportoPagamento: the amounts to pay add up to 900.20, against "
         "ImportoTotaleDocumento 976.49 less split-payment VAT 176.09 = 800.40; importing "
         "900.20")]


def test_a_batch_file_gives_one_document_per_body() -> None:
    einvoice, found = read_file(BATCH)
    assert found == []
    assert einvoice is not None
    assert einvoice.debtor == ROSSI
    assert [(d.number, d.date, d.amount, d.due, d.schedule, d.line)
            for d in einvoice.documents] == [
        ("2026/201", date(2026, 10, 1), Decimal("366.00"), date(2026, 10, 31), (), 56),
        # two parts due the same day are one due date: no schedule
        ("2026/202", date(2026, 10, 2), Decimal("488.00"), date(2026, 11, 30), (), 89),
    ]


def test_parts_due_the_same_day_are_summed_in_the_schedule() -> None:
    data = business_payments(payments(("2026-09-30", "400.00"), ("2026-07-31", "420.00"),
                                      ("2026-09-30", "400.00")))
    einvoice, found = read(data)
    assert found == []
    assert einvoice is not None
    (document,) = einvoice.documents
    assert (document.amount, document.due, document.schedule) == (
        Decimal("1220.00"), date(2026, 7, 31),
        (Part(due=date(2026, 7, 31), amount=Decimal("420.00")),
         Part(due=date(2026, 9, 30), amount=Decimal("800.00"))))


@pytest.mark.parametrize("variant", ["variant_ns2.xml", "variant_default_namespace.xml",
                                     "variant_xmlns_empty.xml"])
def test_namespace_prefixes_and_empty_namespaces_read_alike(variant: str) -> None:
    einvoice, found = read_file(SAMPLES / variant)
    assert found == []
    assert einvoice is not None
    assert (einvoice.debtor, einvoice.documents) == (ROSSI, (INVOICE_101,))


def test_stray_bytes_and_a_byte_order_mark_before_the_xml_are_ignored() -> None:
    path = SAMPLES / "variant_stray_bytes.xml"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf\r\n\x00")
    einvoice, found = read_file(path)
    assert found == []
    assert einvoice is not None
    assert einvoice.debtor == ROSSI
    # the body is one line further down the file, after the stray line
    assert einvoice.documents == (replace(INVOICE_101, line=57),)


# --- types, versions and what is not an invoice ---------------------------------------------


def test_a_debit_note_alone_is_skipped_with_a_warning_and_yields_nothing() -> None:
    einvoice, found = read(edit(BUSINESS, ("<TipoDocumento>TD01<", "<TipoDocumento>TD05<")))
    assert einvoice is None
    assert [(d.line, d.severity, d.code, d.message) for d in found] == [(
        58, Severity.WARNING, "skipped-type", "FatturaElettronicaBody/DatiGenerali/"
        "DatiGeneraliDocumento/TipoDocumento: TD05 (debit note) number '2026/101' is not "
        "imported: casebook collects invoices (TD01 TD02 TD03 TD06 TD24 TD25) and credit "
        "notes (TD04)")]


def test_a_skipped_body_in_a_batch_leaves_the_others() -> None:
    data = edit(BATCH, ("<TipoDocumento>TD01</TipoDocumento>\n        <Divisa>EUR</Divisa>\n"
                        "        <Data>2026-10-02<",
                        "<TipoDocumento>TD27</TipoDocumento>\n        <Divisa>EUR</Divisa>\n"
                        "        <Data>2026-10-02<"))
    einvoice, found = read(data)
    assert einvoice is not None
    assert [d.number for d in einvoice.documents] == ["2026/201"]
    assert codes(found) == [("warning", "skipped-type")]
    assert "TD27 (self-consumption or free transfer) number '2026/202'" in found[0].message


@pytest.mark.parametrize(("version", "kind", "warned"), [
    ("FPA12", "public", False),
    ("FPR11", "business", True),
    ("FPA1.2", "public", True),
])
def test_the_version_decides_a_public_debtor(version: str, kind: str, warned: bool) -> None:
    einvoice, found = read(edit(BUSINESS, ('versione="FPR12"', f'versione="{version}"')))
    assert einvoice is not None and einvoice.debtor.kind == kind
    assert codes(found) == ([("warning", "bad-version")] if warned else [])


def test_another_xml_document_is_not_fatturapa() -> None:
    data = b'<?xml version="1.0"?>\n<Invoice xmlns="urn:oasis:names:specification:ubl">\n</Invoice>'
    assert read(data, "ubl.xml") == (None, [Diagnostic(
        "ubl.xml", 2, 1, Severity.ERROR, "not-fatturapa",
        "the root element is Invoice, not FatturaElettronica: this is not an Italian e-invoice")])


def test_an_sdi_receipt_is_skipped_with_a_warning() -> None:
    data = (b'<?xml version="1.0"?><ns3:RicevutaConsegna xmlns:ns3="http://www.fatturapa.gov.it/'
            b'sdi/messaggi/v1.0" versione="1.0"><IdentificativoSdI>111</IdentificativoSdI>'
            b'</ns3:RicevutaConsegna>')
    einvoice, found = read(data, "IT09876540155_00001_RC_001.xml")
    assert einvoice is None
    assert codes(found) == [("warning", "skipped-file")]


# --- checks on the debtor -------------------------------------------------------------------


def test_a_bad_vat_number_is_a_warning_and_the_invoice_is_imported() -> None:
    einvoice, found = read(edit(BUSINESS, ("<IdCodice>01234560157<", "<IdCodice>01234567890<")))
    assert einvoice is not None and einvoice.debtor.vat == "IT01234567890"
    assert [(d.line, d.severity, d.code) for d in found] == [(39, Severity.WARNING, "bad-vat")]
    assert found[0].message.startswith("FatturaElettronicaHeader/CessionarioCommittente/"
                                       "DatiAnagrafici/IdFiscaleIVA/IdCodice: '01234567890' is "
                                       "not a valid Italian VAT number (")


def test_a_bad_codice_fiscale_is_a_warning() -> None:
    einvoice, found = read(edit(CONSUMER, ("bnclra85t41l219n", "BNCLRA85T41L219X")))
    assert einvoice is not None and einvoice.debtor.cf == "BNCLRA85T41L219X"
    assert codes(found) == [("warning", "bad-cf")]
    assert "'BNCLRA85T41L219X' is not a valid codice fiscale" in found[0].message


def test_a_companys_numeric_codice_fiscale_is_checked_as_a_vat_number() -> None:
    einvoice, found = read(edit(SPLIT, ("<CodiceFiscale>00555120120<",
                                        "<CodiceFiscale>00555120121<")))
    assert einvoice is not None
    assert codes(found) == [("warning", "bad-cf")]
    assert "checksum" in found[0].message


def test_a_vat_number_written_with_its_prefix_twice_is_read_once() -> None:
    einvoice, found = read(edit(BUSINESS, ("<IdCodice>01234560157<", "<IdCodice>IT01234560157<")))
    assert found == []
    assert einvoice is not None and einvoice.debtor.vat == "IT01234560157"


def test_placeholder_cap_and_province_of_a_foreign_address_are_left_out() -> None:
    einvoice, found = read(edit(FOREIGN, ("<CAP>80331</CAP>", "<CAP>00000</CAP>"),
                                ("<Comune>München</Comune>",
                                 "<Comune>München</Comune><Provincia>EE</Provincia>")))
    assert found == []
    assert einvoice is not None and einvoice.debtor.address == "Hauptstraße 7\nMünchen\nDE"


# --- errors: the whole file is left out -----------------------------------------------------

ERRORS = [
    (BUSINESS, "<Data>2026-07-01<", "<Data>2026-13-01<", "bad-date", 61,
     "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/Data: '2026-13-01' is not a "
     "date (YYYY-MM-DD)"),
    (BUSINESS, "<Data>2026-07-01<", "<Data>01/07/2026<", "bad-date", 61,
     "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/Data: '01/07/2026' is not a "
     "date (YYYY-MM-DD)"),
    (BUSINESS, "<ImportoPagamento>1220.00<", "<ImportoPagamento>1220.456<", "bad-amount", 89,
     "FatturaElettronicaBody/DatiPagamento/DettaglioPagamento/ImportoPagamento: '1220.456' has "
     "more than 2 decimals; an amount to pay is in cents"),
    (BUSINESS, "<ImportoPagamento>1220.00<", "<ImportoPagamento>1.220,00<", "bad-amount", 89,
     "FatturaElettronicaBody/DatiPagamento/DettaglioPagamento/ImportoPagamento: '1.220,00' is "
     "not an amount (digits, a point and 2 decimals)"),
    (BUSINESS, "<ImportoPagamento>1220.00<", "<ImportoPagamento>0.00<", "bad-amount", 89,
     "FatturaElettronicaBody/DatiPagamento/DettaglioPagamento/ImportoPagamento: 0.00 is not an "
     "amount to collect (it must be more than zero)"),
    (BUSINESS, "<DataScadenzaPagamento>2026-07-31<", "<DataScadenzaPagamento>2026-06-30<",
     "bad-date", 86, "FatturaElettronicaBody/DatiPagamento/DettaglioPagamento: the due date "
     "2026-06-30 is before the invoice date 2026-07-01"),
    (BUSINESS, "<Numero>2026/101</Numero>", "", "missing-element", 58,
     "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/Numero is missing"),
    (BUSINESS, "<Denominazione>Rossi Costruzioni S.r.l.</Denominazione>", "",
     "missing-element", 42, "FatturaElettronicaHeader/CessionarioCommittente/DatiAnagrafici/"
     "Anagrafica: neither Denominazione nor Nome and Cognome"),
    (FOREIGN, "<GiorniTerminiPagamento>60<", "<GiorniTerminiPagamento>sessanta<", "bad-number",
     86, "FatturaElettronicaBody/DatiPagamento/DettaglioPagamento/GiorniTerminiPagamento: "
     "'sessanta' is not a number of days (0 to 999)"),
    (NO_PAYMENT, "<ImportoTotaleDocumento>244.00</ImportoTotaleDocumento>", "",
     "missing-element", 58, "FatturaElettronicaBody: neither DatiPagamento/DettaglioPagamento/"
     "ImportoPagamento nor ImportoTotaleDocumento: the amount owed is unknown"),
    (FOREIGN, "<DataRiferimentoTerminiPagamento>2026-06-30<",
     "<DataRiferimentoTerminiPagamento>9999-12-01<", "bad-date", 86,
     "FatturaElettronicaBody/DatiPagamento/DettaglioPagamento/GiorniTerminiPagamento: "
     "9999-12-01 + 60 days is past the year 9999: not a due date"),
    (CREDIT, "<IdDocumento>2026/115</IdDocumento>", "", "missing-element", 51,
     "FatturaElettronicaBody/DatiGenerali/DatiFattureCollegate/IdDocumento is missing: a "
     "credit note names the invoice it lowers"),
]


@pytest.mark.parametrize(("sample", "old", "new", "code", "line", "message"), ERRORS,
                         ids=[f"{e[3]}-{i}" for i, e in enumerate(ERRORS)])
def test_an_error_in_a_file_leaves_it_out(sample: Path, old: str, new: str, code: str, line: int,
                                          message: str) -> None:
    einvoice, found = read(edit(sample, (old, new)), "bad.xml")
    assert einvoice is None
    assert found == [Diagnostic("bad.xml", line, found[0].col, Severity.ERROR, code, message)]


def test_an_error_in_one_body_of_a_batch_leaves_the_whole_file_out() -> None:
    einvoice, found = read(edit(BATCH, ("<ImportoPagamento>366.00<", "<ImportoPagamento>-366.00<")))
    assert einvoice is None
    assert [(d.line, d.code) for d in found] == [(85, "bad-amount")]


def test_amounts_with_fewer_or_zero_extra_decimals_are_exact() -> None:
    data = business_payments(payments(("2026-07-31", "1220"), ("2026-08-31", "0.5000")))
    einvoice, found = read(data)
    assert einvoice is not None
    assert [str(part.amount) for part in einvoice.documents[0].schedule] == ["1220.00", "0.50"]
    assert codes(found) == [("warning", "amounts-differ")]


def test_a_file_with_no_body_is_an_error() -> None:
    text = BUSINESS.read_text(encoding="utf-8")
    data = text[:text.index("  <FatturaElettronicaBody>")] + "</p:FatturaElettronica>\n"
    assert codes(read(data.encode())[1]) == [("error", "missing-element")]


# --- hostile and mislabelled files ----------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<FatturaElettronica versione="FPR12">&lol3;</FatturaElettronica>
"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE FatturaElettronica [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<FatturaElettronica versione="FPR12"><FatturaElettronicaHeader>&xxe;</FatturaElettronicaHeader>
</FatturaElettronica>
"""
DOCTYPE = b"""<?xml version="1.0"?>
<!DOCTYPE FatturaElettronica SYSTEM "http://example.com/fattura.dtd">
<FatturaElettronica versione="FPR12"/>
"""
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
NOISE = random.Random(20260701).randbytes(4096)
HOSTILE = [
    ("billion-laughs.xml", BILLION_LAUGHS, "hostile-xml", "refused: the file declares a DOCTYPE"),
    ("xxe.xml", XXE, "hostile-xml", "refused: the file declares a DOCTYPE"),
    ("doctype.xml", DOCTYPE, "hostile-xml", "refused: the file declares a DOCTYPE"),
    ("truncated.xml", BUSINESS.read_bytes()[:1500], "not-xml", "not well-formed XML"),
    ("scan.xml", PDF, "not-xml", "not an XML e-invoice: this is a PDF document"),
    ("noise.xml.p7m", NOISE, "bad-p7m", "not a signed e-invoice: neither XML nor a signed "
     "envelope (CMS in DER, BER or base64)"),
    ("empty.xml", b"", "not-xml", "not an XML e-invoice: the file is empty"),
    ("shift-jis.xml", b'<?xml version="1.0" encoding="shift_jis"?><FatturaElettronica/>',
     "not-xml", "the file declares an encoding that cannot be read"),
    ("der-noise.p7m", b"\x30\x82\x01\x00" + NOISE[:300], "bad-p7m",
     "the signed envelope cannot be read"),
]


@pytest.mark.parametrize(("name", "data", "code", "message"), HOSTILE,
                         ids=[h[0] for h in HOSTILE])
def test_a_hostile_or_mislabelled_file_is_one_error(tmp_path: Path, name: str, data: bytes,
                                                     code: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    einvoices, found = read_einvoices([path])
    assert einvoices == []
    assert [(d.path, d.severity, d.code) for d in found] == [(str(path), Severity.ERROR, code)]
    assert found[0].message.startswith(message)


@settings(max_examples=300, deadline=None)
@given(cut=st.integers(0, 4000), flips=st.lists(st.tuples(st.integers(0, 3268),
                                                          st.integers(0, 255)), max_size=8))
def test_no_damaged_file_makes_the_reader_raise(cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(BUSINESS.read_bytes()[:cut])
    for at, byte in flips:
        if at < len(data):
            data[at] = byte
    for name in ("damaged.xml", "damaged.xml.p7m"):
        einvoice, found = read(bytes(data), name)
        assert einvoice is not None or any(d.severity is Severity.ERROR for d in found) or \
            all(d.code == "skipped-type" for d in found)


def test_an_unreadable_path_is_one_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.xml"
    einvoices, found = read_einvoices([missing])
    assert einvoices == []
    assert [(d.path, d.code) for d in found] == [(str(missing), "unreadable")]


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(BUSINESS.read_bytes())
    found = list(envelope.gather([big], limit=1000))
    assert [(d.path, d.code) for d in found if isinstance(d, Diagnostic)] == [
        (str(big), "too-large")]


# --- signed files ---------------------------------------------------------------------------

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate and its key."""
    folder = tmp_path_factory.mktemp("signer")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run([str(OPENSSL), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=test", "-days", "1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return key, cert


def sign(signer: tuple[Path, Path], source: Path, target: Path, *options: str) -> bytes:
    key, cert = signer
    subprocess.run([str(OPENSSL), "cms", "-sign", "-binary", *options, "-in", str(source),
                    "-signer", str(cert), "-inkey", str(key), "-out", str(target)],
                   check=True, capture_output=True)
    return target.read_bytes()


def asn1parse(path: Path) -> str:
    return subprocess.run([str(OPENSSL), "asn1parse", "-inform", "DER", "-in", str(path)],
                          check=True, capture_output=True, text=True).stdout


@needs_openssl
@pytest.mark.parametrize("kind", ["der", "ber", "pem", "base64-lines", "base64-one-line",
                                  "signed-twice"])
def test_a_signed_file_gives_the_documents_of_its_xml(tmp_path: Path, signer: tuple[Path, Path],
                                                     kind: str) -> None:
    target = tmp_path / "IT09876540155_00006.xml.p7m"
    der = sign(signer, BATCH, tmp_path / "der.p7m", "-nodetach", "-outform", "DER")
    if kind == "der":
        target.write_bytes(der)
    elif kind == "ber":
        sign(signer, BATCH, target, "-nodetach", "-stream", "-outform", "DER")
        parsed = asn1parse(target)
        assert "l=inf" in parsed and parsed.count("prim: OCTET STRING") >= 2  # chunked content
    elif kind == "pem":
        assert sign(signer, BATCH, target, "-nodetach", "-outform", "PEM").startswith(b"-----BEGIN")
    elif kind == "base64-lines":
        target.write_bytes(base64.encodebytes(der))
    elif kind == "base64-one-line":
        target.write_bytes(base64.b64encode(der))
    else:
        sign(signer, tmp_path / "der.p7m", target, "-nodetach", "-outform", "DER")
    plain, _ = read_file(BATCH)
    einvoices, found = read_einvoices([target])
    assert found == []
    assert plain is not None and len(einvoices) == 1
    assert (einvoices[0].name, einvoices[0].filename) == (str(target), target.name)
    assert einvoices[0].data == target.read_bytes()
    assert (einvoices[0].debtor, einvoices[0].documents) == (plain.debtor, plain.documents)


@pytest.fixture(scope="module")
def streamed(signer: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The batch sample signed as BER with indefinite lengths and chunked content."""
    folder = tmp_path_factory.mktemp("streamed")
    return sign(signer, BATCH, folder / "batch.xml.p7m", "-nodetach", "-stream", "-outform", "DER")


@needs_openssl
@settings(max_examples=300, deadline=None)
@given(cut=st.integers(0, 6000), flips=st.lists(st.tuples(st.integers(0, 6000),
                                                          st.integers(0, 255)), max_size=4))
def test_no_damaged_envelope_makes_the_reader_raise(streamed: bytes, cut: int,
                                                    flips: list[tuple[int, int]]) -> None:
    data = bytearray(streamed[:cut])
    for at, byte in flips:
        if at < len(data):
            data[at] = byte
    einvoice, found = read(bytes(data), "damaged.xml.p7m")
    assert einvoice is not None or any(d.severity is Severity.ERROR for d in found)


@needs_openssl
def test_what_a_file_is_comes_from_its_bytes_not_its_name(tmp_path: Path,
                                                         signer: tuple[Path, Path]) -> None:
    signed_as_xml = tmp_path / "signed.xml"
    sign(signer, BUSINESS, signed_as_xml, "-nodetach", "-outform", "DER")
    xml_as_p7m = tmp_path / "plain.xml.p7m"
    xml_as_p7m.write_bytes(BUSINESS.read_bytes())
    einvoices, found = read_einvoices([signed_as_xml, xml_as_p7m])
    assert found == []
    assert [(e.filename, e.documents) for e in einvoices] == [
        ("signed.xml", (INVOICE_101,)), ("plain.xml.p7m", (INVOICE_101,))]


@needs_openssl
def test_an_envelope_no_cms_reader_accepts_still_gives_its_content(
        tmp_path: Path, signer: tuple[Path, Path]) -> None:
    der = sign(signer, BUSINESS, tmp_path / "inv.xml.p7m", "-nodetach", "-outform", "DER")
    content = BUSINESS.read_bytes()
    cut = der[:der.index(content) + len(content)]  # certificates and signature lost
    einvoice, found = read(cut, "cut.xml.p7m")
    assert found == []
    assert einvoice is not None and einvoice.documents == (INVOICE_101,)
    assert einvoice.data == cut


@needs_openssl
def test_a_detached_signature_is_a_bad_envelope(tmp_path: Path,
                                                signer: tuple[Path, Path]) -> None:
    detached = sign(signer, BUSINESS, tmp_path / "inv.xml.p7m", "-outform", "DER")
    einvoice, found = read(detached, "inv.xml.p7m")
    assert einvoice is None
    assert [(d.line, d.col, d.code, d.message) for d in found] == [
        (1, 1, "bad-p7m", "the signature is detached: the envelope holds no invoice")]


# --- zip archives and folders ---------------------------------------------------------------


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            if name.endswith("/"):
                archive.mkdir(name)
            else:
                archive.writestr(name, data)
    return path


def test_a_zip_gives_its_xml_members_in_name_order(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "invoices.ZIP", {
        "2026/IT09876540155_00002.xml": SPLIT.read_bytes(),
        "IT09876540155_00001.XML": BUSINESS.read_bytes(),
        "2026/": b"",
        "__MACOSX/._IT09876540155_00001.XML": b"\x00\x05\x16\x07",
        "readme.txt": b"not an invoice",
    })
    einvoices, found = read_einvoices([archive])
    assert found == []
    assert [(e.name, e.filename, e.documents[0].number) for e in einvoices] == [
        (f"{archive}!2026/IT09876540155_00002.xml", "IT09876540155_00002.xml", "FPA 3/26"),
        (f"{archive}!IT09876540155_00001.XML", "IT09876540155_00001.XML", "2026/101")]
    assert einvoices[1].data == BUSINESS.read_bytes()


def test_a_folder_is_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".trash").mkdir()
    shutil.copy(SPLIT, tmp_path / "sub" / "b.XML")
    shutil.copy(BUSINESS, tmp_path / "a.xml")
    shutil.copy(CREDIT, tmp_path / ".trash" / "old.xml")
    (tmp_path / "notes.txt").write_text("not an invoice")
    make_zip(tmp_path / "c.zip", {"c1.xml": CONSUMER.read_bytes()})
    einvoices, found = read_einvoices([tmp_path])
    assert found == []
    assert [e.name for e in einvoices] == [
        str(tmp_path / "a.xml"), f"{tmp_path / 'c.zip'}!c1.xml", str(tmp_path / "sub" / "b.XML")]


def test_a_zip_inside_a_zip_is_not_opened(tmp_path: Path) -> None:
    inner = make_zip(tmp_path / "inner.zip", {"x.xml": BUSINESS.read_bytes()}).read_bytes()
    archive = make_zip(tmp_path / "outer.zip", {"inner.zip": inner,
                                                "y.xml": CONSUMER.read_bytes()})
    einvoices, found = read_einvoices([archive])
    assert [e.filename for e in einvoices] == ["y.xml"]
    assert [(d.path, d.severity, d.code) for d in found] == [
        (f"{archive}!inner.zip", Severity.WARNING, "nested-zip")]


def test_a_zip_member_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    bomb = make_zip(tmp_path / "bomb.zip",
                    {"big.xml": b"<a>" + b" " * envelope.MAX_BYTES + b"</a>"})
    assert bomb.stat().st_size < 100_000
    einvoices, found = read_einvoices([bomb])
    assert einvoices == []
    assert [(d.path, d.severity, d.code) for d in found] == [
        (f"{bomb}!big.xml", Severity.ERROR, "too-large")]
    assert found[0].message.startswith("larger than 20 MB: not read")


def test_a_zip_member_that_lies_about_its_size_is_not_read_past_the_limit(
        tmp_path: Path) -> None:
    data = b"<a>" + b" " * 5000 + b"</a>"
    raw = make_zip(tmp_path / "lie.zip", {"lie.xml": data}).read_bytes()
    size = len(data).to_bytes(4, "little")
    assert raw.count(size) == 2  # in the local header and in the central directory
    (tmp_path / "lie.zip").write_bytes(raw.replace(size, (100).to_bytes(4, "little")))
    found = list(envelope.gather([tmp_path / "lie.zip"], limit=1000))
    assert [(d.path, d.code) for d in found if isinstance(d, Diagnostic)] == [
        (f"{tmp_path / 'lie.zip'}!lie.xml", "bad-zip")]


def test_a_hostile_xml_in_a_zip_is_one_error(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "mixed.zip", {"evil.xml": XXE})
    einvoices, found = read_einvoices([archive])
    assert einvoices == []
    assert [(d.path, d.severity, d.code) for d in found] == [
        (f"{archive}!evil.xml", Severity.ERROR, "hostile-xml")]


@pytest.mark.parametrize("cut", [None, 4, 0.5])
def test_a_broken_zip_is_one_error(tmp_path: Path, cut: float | None) -> None:
    whole = make_zip(tmp_path / "whole.zip", {"a.xml": BUSINESS.read_bytes()}).read_bytes()
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"just text" if cut is None else whole[:int(len(whole) * cut)]
                        if cut < 1 else whole[:int(cut)])
    einvoices, found = read_einvoices([archive])
    assert einvoices == []
    assert [(d.path, d.severity, d.code) for d in found] == [
        (str(archive), Severity.ERROR, "bad-zip")]


def test_an_empty_zip_is_a_warning(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    archive = tmp_path / "empty.zip"
    archive.write_bytes(buffer.getvalue())
    assert codes(read_einvoices([archive])[1]) == [("warning", "empty-zip")]

