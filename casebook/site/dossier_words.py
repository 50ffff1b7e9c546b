"""The words of the lawyer's file (`dossier_zip`): its index, as text and as the page its PDF is
made from, and its interest statement by period, in the casebook's locale (it, en).

Owns what the index says of each piece: what it is, its date and, where the law gives it a
value, that value with its article; never more than the document supports (an e-invoice is
written proof only if it went through the SdI, a formal notice interrupts prescription once it
reaches the debtor, an acceptance receipt proves the sending and not the delivery). Everything
from a case file is escaped in the page and made plain in the text. Never reads a file.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from casebook.engine.delivery import Receipt
from casebook.engine.interest import CaseInterest
from casebook.engine.words import Formats
from casebook.site.render import plain_value

if TYPE_CHECKING:
    from casebook.site.oneletter import ReadyLetter

SECTIONS = ("dossier", "invoices", "letters", "receipts")
WIDTH = 78
ZERO = Decimal(0)

_TABLES: dict[str, dict[str, Any]] = {
    "it": {
        "index": "00-indice", "interest_file": "02-interessi.txt", "invoices": "03-fatture",
        "letters": "04-lettere", "receipts": "05-ricevute",
        "title": "Indice del fascicolo per il legale", "subject": "Oggetto:",
        "case": "{debtor} – pratica {case}", "creditor": "Creditore: {name}",
        "lawyer": "Legale: {who}",
        "intro": "Documenti al {day}. Per ciascuno: la data e che cosa prova del credito, ai "
                 "fini del ricorso per decreto ingiuntivo (artt. 633–634 c.p.c.).",
        "sections": {"dossier": "Fascicolo e interessi", "invoices": "Fatture elettroniche",
                     "letters": "Lettere inviate", "receipts": "Ricevute PEC"},
        "none": {"invoices": "Nessuna fattura elettronica indicata nella pratica.",
                 "letters": "Nessuna lettera inviata registrata nella pratica.",
                 "receipts": "Nessuna ricevuta PEC registrata."},
        "columns": ("File", "Data", "Documento e che cosa prova"),
        "no_file": "(file non presente)",
        "dossier": "Fascicolo della pratica al {day}: la storia del credito (fatture, "
                   "pagamenti, accordi, contestazioni e cronologia dei contatti).",
        "interest": {"commercial": "Conteggio degli interessi per periodo al {day}: l'importo "
                                   "degli interessi moratori (D.Lgs. 231/2002).",
                     "legal": "Conteggio degli interessi per periodo al {day}: l'importo "
                              "degli interessi al tasso legale (art. 1284 c.c.).",
                     "none": "Conteggio degli interessi al {day}: nessun interesse "
                             "conteggiato per questa pratica."},
        "compensation": " Indica anche l'importo forfettario per i costi di recupero "
                        "(art. 6 D.Lgs. 231/2002).",
        "einvoice": "Fattura elettronica n. {numbers} del {day}, il file come è nella pratica. "
                    "Se trasmessa tramite il Sistema di Interscambio (SdI), è prova scritta del "
                    "credito (art. 634 c.p.c., come modificato dal D.Lgs. 164/2024).",
        "einvoices": "Fatture elettroniche n. {numbers}, in un solo file, come è nella pratica. "
                     "Se trasmesse tramite il Sistema di Interscambio (SdI), sono prova scritta "
                     "del credito (art. 634 c.p.c., come modificato dal D.Lgs. 164/2024).",
        "einvoice_missing": "Fattura n. {numbers} del {day}: il file {source} indicato nella "
                            "pratica non si trova nel casebook.",
        "and": " e ",
        "via": {"pec": "inviata via PEC", "registered-letter": "inviata per raccomandata A/R",
                "letter": "inviata per lettera", "email": "inviata per e-mail"},
        "letter": "«{subject}», {via} il {day}, riprodotta dalla pratica com'era quel giorno.",
        "demand": " Richiesta scritta di pagamento al debitore.",
        "delivered": " Consegnata nella casella PEC del destinatario il {day} alle {time}.",
        "formal_notice": " Intimazione scritta di pagamento: costituisce in mora il debitore e "
                         "interrompe la prescrizione (artt. 1219 e 2943 c.c.) dal giorno in cui "
                         "gli è pervenuta.",
        "unreproducible": "{title}, {via} il {day}: non riproducibile, la lettera non "
                          "corrisponde alla pratica com'era quel giorno.",
        "message": "Il messaggio come inviato, con la lettera in PDF allegata "
                   "(Message-ID {message_id}).",
        "of": "{title} del {day}",
        "receipt": {
            "accepted": "Ricevuta di accettazione ({of}): il gestore PEC del mittente ha "
                        "accettato il messaggio il {day} alle {time}. Prova l'invio, non la "
                        "consegna.",
            "delivered": "Ricevuta di avvenuta consegna ({of}): il messaggio è stato "
                         "consegnato nella casella PEC del destinatario il {day} alle {time}; "
                         "data e ora certe (art. 48 D.Lgs. 82/2005, CAD).",
            "not accepted": "Avviso di non accettazione ({of}) del {day} alle {time}: il "
                            "gestore PEC non ha accettato il messaggio{reason}.",
            "delivery failed": "Avviso di mancata consegna ({of}) del {day} alle {time}: il "
                               "messaggio non è stato consegnato{reason}."},
        "receipt_missing": " Registrata nella pratica; il file della ricevuta non è nel "
                           "fascicolo.",
        "st_title": "CONTEGGIO DEGLI INTERESSI",
        "st_to": "Situazione al {day}; interessi conteggiati fino al {to}. Importi in "
                 "{currency}.",
        "st_to_known": "Situazione al {day}; interessi conteggiati fino al {to}, ultimo giorno "
                       "con tasso noto. Importi in {currency}.",
        "st_method": {"commercial": "Interessi moratori ex D.Lgs. 231/2002, dal giorno "
                                    "successivo alla scadenza.",
                      "legal": "Interessi al tasso legale (art. 1284 c.c.), dal giorno "
                               "successivo alla scadenza.",
                      "none": "Nessun interesse conteggiato per questa pratica."},
        "st_simple": "Interesse semplice: capitale × tasso × giorni / 36500; ogni periodo "
                     "arrotondato al centesimo.",
        "st_columns": ("Fattura", "Dal", "Al", "Giorni", "Capitale", "Tasso annuo",
                       "Interessi"),
        "st_none": "Nessun periodo di interesse maturato.",
        "st_accrued": "Totale interessi maturati", "st_paid": "Interessi già pagati",
        "st_due": "Interessi dovuti",
        "st_compensation": "Importo forfettario per i costi di recupero (art. 6 D.Lgs. "
                           "231/2002)",
        "st_invoice": "fattura {number}", "st_total": "Totale",
        "st_disputed": "* fattura oggetto di contestazione aperta.",
        "st_provisional": "(p) periodo il cui tasso non è ancora pubblicato: vi si applica "
                          "l'ultimo tasso noto.",
    },
    "en": {
        "index": "00-index", "interest_file": "02-interest.txt", "invoices": "03-fatture",
        "letters": "04-lettere", "receipts": "05-ricevute",
        "title": "Index of the file for the lawyer", "subject": "Subject:",
        "case": "{debtor} – case {case}", "creditor": "Creditor: {name}",
        "lawyer": "Lawyer: {who}",
        "intro": "Documents as at {day}. For each: its date and what it proves of the claim, "
                 "for an application for a payment order (decreto ingiuntivo, art. 633–634 "
                 "c.p.c.).",
        "sections": {"dossier": "Case file and interest", "invoices": "E-invoices",
                     "letters": "Letters sent", "receipts": "PEC receipts"},
        "none": {"invoices": "No e-invoice is named in the case.",
                 "letters": "No letter sent is recorded in the case.",
                 "receipts": "No PEC receipt is recorded."},
        "columns": ("File", "Date", "Document and what it proves"),
        "no_file": "(no file)",
        "dossier": "Case file as at {day}: the history of the claim (invoices, payments, "
                   "agreements, disputes and the log of contacts).",
        "interest": {"commercial": "Interest statement by period as at {day}: the amount of "
                                   "late-payment interest (Legislative Decree 231/2002).",
                     "legal": "Interest statement by period as at {day}: the amount of "
                              "interest at the statutory rate (art. 1284 Civil Code).",
                     "none": "Interest statement as at {day}: no interest is counted for "
                             "this case."},
        "compensation": " It also shows the fixed sum for recovery costs (art. 6 Legislative "
                        "Decree 231/2002).",
        "einvoice": "E-invoice no. {numbers} of {day}, the file as the case holds it. If "
                    "transmitted through the Exchange System (SdI), it is written proof of the "
                    "claim (art. 634 c.p.c., as amended by Legislative Decree 164/2024).",
        "einvoices": "E-invoices no. {numbers}, in one file, as the case holds it. If "
                     "transmitted through the Exchange System (SdI), they are written proof of "
                     "the claim (art. 634 c.p.c., as amended by Legislative Decree 164/2024).",
        "einvoice_missing": "Invoice no. {numbers} of {day}: the file {source} the case names "
                            "is not in the casebook.",
        "and": " and ",
        "via": {"pec": "sent by PEC", "registered-letter": "sent by registered letter",
                "letter": "sent by letter", "email": "sent by e-mail"},
        "letter": "“{subject}”, {via} on {day}, rendered from the case as it stood that day.",
        "demand": " A written request to the debtor to pay.",
        "delivered": " Delivered to the recipient's PEC mailbox on {day} at {time}.",
        "formal_notice": " A written demand for payment: it puts the debtor in default and "
                         "interrupts prescription (art. 1219 and 2943 Civil Code) from the day "
                         "it reached the debtor.",
        "unreproducible": "{title}, {via} on {day}: not reproducible, the letter does not fit "
                          "the case as it stood that day.",
        "message": "The message as sent, with the letter attached as a PDF "
                   "(Message-ID {message_id}).",
        "of": "{title} of {day}",
        "receipt": {
            "accepted": "Acceptance receipt ({of}): the sender's PEC provider accepted the "
                        "message on {day} at {time}. It proves the sending, not the delivery.",
            "delivered": "Delivery receipt ({of}): the message was delivered to the "
                         "recipient's PEC mailbox on {day} at {time}; a certain date and time "
                         "(art. 48 Legislative Decree 82/2005, CAD).",
            "not accepted": "Non-acceptance notice ({of}) of {day} at {time}: the PEC provider "
                            "did not accept the message{reason}.",
            "delivery failed": "Delivery failure notice ({of}) of {day} at {time}: the message "
                               "was not delivered{reason}."},
        "receipt_missing": " Recorded in the case; the receipt's file is not included.",
        "st_title": "INTEREST STATEMENT",
        "st_to": "Position as at {day}; interest counted to {to}. Amounts in {currency}.",
        "st_to_known": "Position as at {day}; interest counted to {to}, the last day with a "
                       "known rate. Amounts in {currency}.",
        "st_method": {"commercial": "Late-payment interest under Legislative Decree 231/2002, "
                                    "from the day after the due date.",
                      "legal": "Interest at the statutory rate (art. 1284 Civil Code), from the "
                               "day after the due date.",
                      "none": "No interest is counted for this case."},
        "st_simple": "Simple interest: principal × rate × days / 36,500; each period rounded "
                     "to the cent.",
        "st_columns": ("Invoice", "From", "To", "Days", "Principal", "Annual rate", "Interest"),
        "st_none": "No interest period has accrued.",
        "st_accrued": "Total interest accrued", "st_paid": "Interest already paid",
        "st_due": "Interest due",
        "st_compensation": "Fixed sum for recovery costs (art. 6 Legislative Decree 231/2002)",
        "st_invoice": "invoice {number}", "st_total": "Total",
        "st_disputed": "* invoice under open dispute.",
        "st_provisional": "(p) a period whose rate is not published yet: the last known rate "
                          "applies.",
    },
}


@dataclass(frozen=True, kw_only=True)
class Item:
    """One piece of the index: a file of the zip, or (`name` None) one it lists without."""

    section: str  # one of SECTIONS
    name: str | None
    day: date
    what: str  # what it is and what it proves, in the locale's words
    time: str | None = None  # "10:32:05 +0100": a receipt's time and zone


class Words:
    """The phrases of one locale."""

    def __init__(self, table: Mapping[str, Any]) -> None:
        self.t = table
        self.index_stem: str = table["index"]
        self.interest_file: str = table["interest_file"]
        self.invoices_folder: str = table["invoices"]
        self.letters_folder: str = table["letters"]
        self.receipts_folder: str = table["receipts"]

    def dossier(self, day: str) -> str:
        return str(self.t["dossier"].format(day=day))

    def interest(self, interest: CaseInterest, day: str) -> str:
        text = self.t["interest"].get(interest.method, self.t["interest"]["none"])
        extra = self.t["compensation"] if interest.compensation > 0 else ""
        return str(text.format(day=day)) + extra

    def einvoice(self, numbers: list[str], day: str) -> str:
        key = "einvoice" if len(numbers) == 1 else "einvoices"
        return str(self.t[key].format(numbers=self.t["and"].join(numbers), day=day))

    def einvoice_missing(self, numbers: list[str], day: str, source: str) -> str:
        return str(self.t["einvoice_missing"].format(numbers=self.t["and"].join(numbers),
                                                     day=day, source=source))

    def letter(self, subject: str, channel: str, day: str, name: str, demands: bool,
               delivered: tuple[str, Receipt] | None) -> str:
        """A letter sent; `delivered`: the day (formatted) and receipt of its PEC delivery."""
        proof = (self.t["formal_notice"] if name == "formal-notice"
                 else self.t["demand"] if demands else "")
        if delivered is not None:
            when, receipt = delivered
            proof += self.t["delivered"].format(day=when, time=_time(receipt))
        return str(self.t["letter"].format(subject=subject, via=self._via(channel),
                                           day=day)) + proof

    def unreproducible(self, title: str, channel: str, day: str) -> str:
        return str(self.t["unreproducible"].format(title=title, via=self._via(channel),
                                                   day=day))

    def message(self, message_id: str) -> str:
        return str(self.t["message"].format(message_id=message_id))

    def receipt_of(self, title: str, day: str) -> str:
        return str(self.t["of"].format(title=title[:1].lower() + title[1:], day=day))

    def receipt(self, receipt: Receipt, of: str, day: str, missing: bool) -> str:
        reason = f" ({receipt.reason})" if receipt.reason else ""
        text = self.t["receipt"][receipt.kind].format(
            of=of, day=day, time=_time(receipt), reason=reason)
        return str(text) + (self.t["receipt_missing"] if missing else "")

    def pdf_title(self, debtor: str) -> str:
        return f"{self.t['title']} – {debtor}"

    def _via(self, channel: str) -> str:
        return str(self.t["via"].get(channel, channel))


def words_for(locale: str) -> Words:
    return Words(_TABLES.get(locale, _TABLES["it"]))


def _time(receipt: Receipt) -> str:
    return f"{receipt.time} ({receipt.zone})"


# -- the index ------------------------------------------------------------------------------------


def _head(dossier: ReadyLetter, today: date, formats: Formats, words: Words) -> list[str]:
    """The index's title lines, then its introduction: plain strings, not yet escaped."""
    t, case, config = words.t, dossier.case, dossier.config
    lines = [t["case"].format(debtor=case.debtor.name, case=case.id)]
    if config.creditor.name:
        lines.append(t["creditor"].format(name=config.creditor.name))
    lawyer = config.lawyer
    if lawyer is not None:
        address = ", ".join(line.strip() for line in (lawyer.address or "").splitlines()
                            if line.strip())
        who = ", ".join(part for part in (lawyer.name, lawyer.pec and f"PEC {lawyer.pec}",
                                          address) if part)
        if who:
            lines.append(t["lawyer"].format(who=who))
    return [*lines, t["intro"].format(day=formats.date_short(today))]


def _when(item: Item, formats: Formats) -> str:
    day: str = formats.date_short(item.day)
    return day + (f" {item.time}" if item.time else "")


def index_text(dossier: ReadyLetter, items: Iterable[Item], today: date, formats: Formats,
               words: Words) -> str:
    """The index as plain text, 78 columns wide."""
    t = words.t
    *head, intro = _head(dossier, today, formats, words)
    lines = [t["title"].upper(), *map(_plain, head), "", *_wrap(intro), ""]
    listed = list(items)
    for section in SECTIONS:
        lines += [t["sections"][section].upper(), ""]
        chosen = [item for item in listed if item.section == section]
        if not chosen:
            lines += [t["none"].get(section, ""), ""]
        for item in chosen:
            lines.append(f"{_plain(item.name or t['no_file'])} · {_when(item, formats)}")
            lines += [*_wrap(item.what, "    "), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
#: For a dossier template without the letters' style: A4 and a readable table.
_PLAIN_STYLE = ("@page { size: A4; margin: 16mm 18mm; } body { font: 10pt serif; } "
                "table { border-collapse: collapse; width: 100%; } "
                "td, th { text-align: left; vertical-align: top; padding: 1mm 2mm; "
                "border-bottom: .4pt solid #ccc; }")
_INDEX_STYLE = ("table.grid td.file { white-space: normal; overflow-wrap: anywhere; "
                "width: 36%; text-align: left; } table.grid td.when { white-space: nowrap; }")


def index_html(dossier: ReadyLetter, items: Iterable[Item], today: date, formats: Formats,
               words: Words) -> str:
    """The index as a page in the letters' look (the dossier's own style), for its PDF."""
    t, e = words.t, html.escape
    found = _STYLE.search(dossier.html)
    style = (found.group(1) if found else _PLAIN_STYLE) + "\n" + _INDEX_STYLE
    *head, intro = _head(dossier, today, formats, words)
    creditor = dossier.config.creditor.name
    title = words.pdf_title(dossier.case.debtor.name)
    parts = [f'<!DOCTYPE html>\n<html lang="{e(dossier.config.locale)}">\n<head>\n'
             f'<meta charset="utf-8">\n<title>{e(title)}</title>\n<style>{style}</style>\n'
             '</head>\n<body>\n<div class="sheet dense">\n']
    if creditor:
        parts.append(f'<header class="sender"><div class="org">{e(creditor)}</div></header>\n')
    parts.append(f'<p class="subject"><span class="label">{e(t["subject"])} </span>'
                 f'{e(title)}</p>\n')
    parts += [f"<p>{e(line)}</p>\n" for line in (*head, intro)]
    listed = list(items)
    file, when, what = (e(word) for word in t["columns"])
    for section in SECTIONS:
        parts.append(f'<h2>{e(t["sections"][section])}</h2>\n')
        chosen = [item for item in listed if item.section == section]
        if not chosen:
            parts.append(f'<p class="muted">{e(t["none"].get(section, ""))}</p>\n')
            continue
        parts.append(f'<table class="grid"><thead><tr><th class="left">{file}</th>'
                     f'<th>{when}</th><th class="left">{what}</th></tr></thead><tbody>\n')
        parts += [f'<tr><td class="file">{e(item.name or t["no_file"])}</td>'
                  f'<td class="when">{e(formats.date_short(item.day))}'
                  f'{"<br>" + e(item.time) if item.time else ""}</td>'
                  f'<td class="left">{e(item.what)}</td></tr>\n' for item in chosen]
        parts.append("</tbody></table>\n")
    parts.append("</div>\n</body>\n</html>\n")
    return "".join(parts)


# -- the interest statement -----------------------------------------------------------------------


def interest_statement(dossier: ReadyLetter, interest: CaseInterest, today: date,
                       formats: Formats, words: Words) -> str:
    """Each period of interest of each invoice, the totals and the fixed compensation."""
    t, case = words.t, dossier.case
    lines = [t["st_title"], _plain(t["case"].format(debtor=case.debtor.name, case=case.id)), ""]
    known = "st_to_known" if interest.interest_to < today else "st_to"
    lines += _wrap(t[known].format(day=formats.date_short(today),
                                     to=formats.date_short(interest.interest_to),
                                     currency=dossier.config.currency))
    lines += _wrap(t["st_method"].get(interest.method, t["st_method"]["none"]))
    if interest.method == "none":
        return "\n".join(lines) + "\n"
    lines += [*_wrap(t["st_simple"]), ""]
    disputed = {v.number for v in dossier.view.invoices if v.disputed}
    rows = [(item.number + (" *" if item.number in disputed else ""),
             formats.date_short(s.first), formats.date_short(s.last), str(s.days),
             formats.number(s.capital), formats.percent(s.rate).replace("\u00a0", " "),
             formats.number(s.amount), " (p)" if s.provisional else "")
            for item in interest.invoices for s in item.segments]
    first = max([len(t["st_columns"][0]), *(len(_plain(row[0])) for row in rows)])
    widths = (first, 10, 10, 6, 12, 11, 10)

    def line(cells: tuple[str, ...]) -> str:
        left = "  ".join(c.ljust(w) for c, w in zip(cells[:3], widths[:3], strict=True))
        right = "  ".join(c.rjust(w) for c, w in zip(cells[3:7], widths[3:], strict=True))
        return f"{left}  {right}{cells[7] if len(cells) > 7 else ''}"

    width = sum(widths) + 2 * (len(widths) - 1)
    lines += [line(t["st_columns"]), "-" * width]
    lines += [_plain(line(row)) for row in rows] or [t["st_none"]]
    lines.append("-" * width)

    def total(label: str, amount: str) -> str:
        return label + amount.rjust(width - len(label))

    lines.append(total(t["st_accrued"], formats.number(interest.accrued)))
    if interest.interest_paid > ZERO:
        lines.append(total(t["st_paid"], "- " + formats.number(interest.interest_paid)))
        lines.append(total(t["st_due"], formats.number(interest.interest)))
    owed = [item for item in interest.invoices if item.compensation > ZERO]
    if owed:
        lines += ["", *_wrap(t["st_compensation"])]
        lines += [_plain(total("  " + t["st_invoice"].format(number=item.invoice),
                               formats.number(item.compensation))) for item in owed]
        lines.append(total(t["st_total"], formats.number(interest.compensation)))
    notes = [t["st_disputed"]] if any(row[0].endswith(" *") for row in rows) else []
    notes += [t["st_provisional"]] if any(row[7] for row in rows) else []
    return "\n".join([*lines, *(["", *notes] if notes else [])]) + "\n"


def _plain(text: str) -> str:
    """Text from a case file as a plain-text file may show it (no control characters)."""
    return str(plain_value(text))


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(_plain(text), WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) or [""]
