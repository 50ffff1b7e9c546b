"""Reading Italian e-invoices (FatturaPA 1.2.x, FPR12 and FPA12) into debtors and documents.

Owns the reading of one e-invoice file: that it is FatturaPA at all, the debtor it names
(`CessionarioCommittente`, with its VAT number and codice fiscale checked), and its documents, one
per `FatturaElettronicaBody` (read by `fatturapa_body`), with a diagnostic for every problem at the
line of the element concerned. A file with an error yields nothing; warnings do not stop it. In a
body, the first error ends the reading of that body; the other bodies are still read.

It never writes a file, never reads the clock and never decides which case a debtor belongs to.
XML comes from `xmlread` only (no DOCTYPE, no entities); files, zips and signatures from
`envelope`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import stdnum.it.codicefiscale
import stdnum.it.iva
from stdnum.exceptions import ValidationError

from casebook.diagnostics import Diagnostic, Severity
from casebook.imports import envelope
from casebook.imports.fatturapa_body import (
    CREDIT_NOTE,
    RECEIVABLES,
    Document,
    Invalid,
    Part,
    need,
    read_body,
    squash,
)
from casebook.imports.xmlread import Element, XmlError, parse
from casebook.model import DebtorKind

__all__ = ["CREDIT_NOTE", "RECEIVABLES", "Document", "EInvoice", "Part", "Party",
           "read_einvoice", "read_einvoices"]

#: Roots of the SdI's receipts and metadata files, which come in the same folders and zips.
_SDI_MESSAGES = frozenset({
    "FileMetadati", "MetadatiInvioFile", "RicevutaConsegna", "NotificaMancataConsegna",
    "NotificaScarto", "NotificaEsito", "NotificaDecorrenzaTermini", "NotificaEsitoCommittente",
    "ScartoEsitoCommittente", "AttestazioneTrasmissioneFattura", "RicevutaImpossibilitaRecapito",
})
_NO_SDI_CODE = frozenset({"0000000", "XXXXXXX"})  # no code (PEC or consumer); abroad
_PLACEHOLDERS = frozenset({"00000", "99999", "EE"})  # CAP and Provincia of a foreign address
_ROOT = "FatturaElettronica"
_HEADER = "FatturaElettronicaHeader"
_BUYER = "FatturaElettronicaHeader/CessionarioCommittente/DatiAnagrafici"

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Party:
    """The debtor (`CessionarioCommittente`) as the e-invoice names it."""

    name: str  # Denominazione, else "Nome Cognome"
    kind: DebtorKind  # public for FPA12; consumer for a codice fiscale without VAT; else business
    vat: str | None  # IdPaese + IdCodice, e.g. "IT01234567890"
    cf: str | None  # CodiceFiscale, upper case
    address: str | None  # street and number / CAP town province / country code when not IT
    pec: str | None  # DatiTrasmissione/PECDestinatario
    sdi: str | None  # DatiTrasmissione/CodiceDestinatario, unless a no-code placeholder


@dataclass(frozen=True, kw_only=True)
class EInvoice:
    """One file (or zip member) with its debtor and the documents to import from it."""

    name: str  # for the user: the path as given, "path/to.zip!member.xml" for a zip member
    filename: str  # the base name to store it under (a .p7m keeps its suffix)
    data: bytes  # the bytes as received (the .p7m itself, not the XML inside)
    debtor: Party
    documents: tuple[Document, ...]  # invoices and credit notes, in document order


def read_einvoices(paths: Sequence[Path]) -> tuple[list[EInvoice], list[Diagnostic]]:
    """Every e-invoice in `paths` (files, or folders read recursively in sorted order, taking
    *.xml, *.p7m, *.zip case-insensitively), and the problems found."""
    einvoices: list[EInvoice] = []
    diagnostics: list[Diagnostic] = []
    for item in envelope.gather(paths):
        if isinstance(item, Diagnostic):
            diagnostics.append(item)
            continue
        einvoice, found = read_einvoice(item.name, item.filename, item.data)
        diagnostics.extend(found)
        if einvoice is not None:
            einvoices.append(einvoice)
    return einvoices, diagnostics


def read_einvoice(name: str, filename: str,
                  data: bytes) -> tuple[EInvoice | None, list[Diagnostic]]:
    """One file's e-invoice (None when it has an error or nothing to import) and its problems;
    `name` is how diagnostics name it, `filename` its base name."""
    reader = _Reader(name)
    root = reader.root(data, signed=filename.lower().endswith(".p7m"))
    if root is None:
        return None, reader.found
    debtor = reader.attempt(reader.party, root)
    found = (reader.attempt(reader.document, body) for body in reader.bodies(root))
    documents = tuple(document for document in found if document is not None)
    if reader.failed or debtor is None or not documents:
        return None, reader.found
    return EInvoice(name=name, filename=filename, data=data, debtor=debtor,
                    documents=documents), reader.found


class _Reader:
    """One file's reading: the diagnostics so far, whether it is addressed to a PA, and how many
    lines of stray bytes stand before its XML (so that lines are the file's own)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.found: list[Diagnostic] = []
        self.public = False
        self.offset = 0

    @property
    def failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.found)

    def add(self, severity: Severity, line: int, col: int, code: str, message: str) -> None:
        self.found.append(Diagnostic(self.name, line + self.offset, col, severity, code, message))

    def warn(self, element: Element, code: str, message: str) -> None:
        self.add(Severity.WARNING, element.line, element.col, code, message)

    def attempt(self, read: Callable[[Element], T], element: Element) -> T | None:
        """What `read` makes of `element`, or None with its error recorded."""
        try:
            return read(element)
        except Invalid as e:
            self.add(Severity.ERROR, e.element.line, e.element.col, e.code, e.message)
            return None

    def root(self, data: bytes, *, signed: bool) -> Element | None:
        """The FatturaElettronica element, or None with the reason recorded."""
        try:
            xml, self.offset = envelope.xml_of(data, signed=signed)
        except envelope.EnvelopeError as e:
            self.add(Severity.ERROR, 1, 1, e.code, e.message)
            return None
        try:
            root = parse(xml)
        except XmlError as e:
            code = "hostile-xml" if e.message.startswith("refused") else "not-xml"
            self.add(Severity.ERROR, e.line, e.col, code, e.message)
            return None
        if root.name in _SDI_MESSAGES:
            self.warn(root, "skipped-file", f"{root.name} is an SdI receipt or metadata file, "
                      "not an invoice; skipped")
            return None
        if root.name != _ROOT:
            self.add(Severity.ERROR, root.line, root.col, "not-fatturapa", f"the root element is "
                     f"{root.name}, not {_ROOT}: this is not an Italian e-invoice")
            return None
        self.version(root)
        return root

    def version(self, root: Element) -> None:
        version = root.attrs.get("versione", "").strip()
        self.public = version.upper().startswith("FPA")
        if version not in ("FPA12", "FPR12"):
            read_as = "FPA12" if self.public else "FPR12"
            self.warn(root, "bad-version", f"{_ROOT}: versione {version!r} is not FPA12 or "
                      f"FPR12; read as {read_as}")

    def bodies(self, root: Element) -> list[Element]:
        bodies = root.findall("FatturaElettronicaBody")
        if not bodies:
            self.add(Severity.ERROR, root.line, root.col, "missing-element", f"{_ROOT}/"
                     "FatturaElettronicaBody is missing: there is no document in the file")
        return bodies

    def document(self, body: Element) -> Document | None:
        document = read_body(body, self.warn)
        if document is None or not self.offset:
            return document
        return replace(document, line=document.line + self.offset)

    def party(self, root: Element) -> Party:
        header = need(root, _HEADER, _ROOT)
        registry = need(header, "CessionarioCommittente/DatiAnagrafici", _HEADER)
        vat = self.vat(registry)
        cf = self.cf(registry)
        kind: DebtorKind = "public" if self.public else "consumer" if cf and not vat else "business"
        return Party(name=_name(registry), kind=kind, vat=vat, cf=cf,
                     address=_address(header.find("CessionarioCommittente/Sede")),
                     pec=header.text_at("DatiTrasmissione/PECDestinatario"),
                     sdi=_sdi(header.text_at("DatiTrasmissione/CodiceDestinatario")))

    def vat(self, registry: Element) -> str | None:
        ident = registry.find("IdFiscaleIVA")
        if ident is None:
            return None
        country = (ident.text_at("IdPaese") or "").upper()
        code = "".join((ident.text_at("IdCodice") or "").split()).upper()
        if not country or not code:
            self.warn(ident, "bad-vat", f"{_BUYER}/IdFiscaleIVA: IdPaese or IdCodice is missing; "
                      "the VAT number is left out")
            return None
        if country == "IT":
            if len(code) == 13 and code.startswith("IT"):  # the prefix written twice
                code = code[2:]
            where = ident.find("IdCodice")
            self.check(ident if where is None else where, "bad-vat", f"{_BUYER}/IdFiscaleIVA/"
                       f"IdCodice: {code!r} is not a valid Italian VAT number",
                       stdnum.it.iva.validate, code)
        return country + code

    def cf(self, registry: Element) -> str | None:
        found = registry.find("CodiceFiscale")
        if found is None or not found.text.strip():
            return None
        cf = "".join(found.text.split()).upper()
        company = len(cf) == 11 and cf.isdigit()  # a company's codice fiscale is a VAT number
        validate = stdnum.it.iva.validate if company else stdnum.it.codicefiscale.validate
        self.check(found, "bad-cf", f"{_BUYER}/CodiceFiscale: {cf!r} is not a valid codice "
                   "fiscale", validate, cf)
        return cf

    def check(self, element: Element, code: str, message: str,
              validate: Callable[[str], object], value: str) -> None:
        try:
            validate(value)
        except ValidationError as e:
            reason = str(e).rstrip(".").lower() or "invalid"
            self.warn(element, code, f"{message} ({reason}); imported as written")


def _name(registry: Element) -> str:
    found = registry.find("Anagrafica")
    if found is not None:
        name = squash(found.text_at("Denominazione")) or squash(
            f"{found.text_at('Nome') or ''} {found.text_at('Cognome') or ''}")
        if name:
            return name
    raise Invalid(registry if found is None else found, "missing-element",
                  f"{_BUYER}/Anagrafica: neither Denominazione nor Nome and Cognome")


def _address(seat: Element | None) -> str | None:
    """Street and number, then CAP town province, then the country code when not Italy."""
    if seat is None:
        return None

    def joined(*names: str) -> str:
        return " ".join(filter(None, (squash(seat.text_at(name)) for name in names)))

    country = squash(seat.text_at("Nazione")).upper() or "IT"
    town = joined("CAP", "Comune", "Provincia")
    if country != "IT":  # the SdI asks a 5-digit CAP and a province even abroad: placeholders
        town = " ".join(word for word in town.split(" ") if word not in _PLACEHOLDERS)
    lines = (joined("Indirizzo", "NumeroCivico"), town, "" if country == "IT" else country)
    return "\n".join(line for line in lines if line) or None


def _sdi(code: str | None) -> str | None:
    return None if code is None or code.upper() in _NO_SDI_CODE else code.upper()
