"""Planning `casebook import fatturapa`: which case each e-invoice goes to and what it adds.

A debtor is found by VAT number, then by codice fiscale, among the casebook's cases and the
new ones planned in the same run; else a new case is planned, its id made from the name.
An invoice or credit note whose number the casebook already holds is left alone, which is
what makes importing the same files twice change nothing. A credit note goes on the invoice it
names in the same case. The original file is copied under `invoices/` and named in `source`.
Nothing here writes: `writer.apply` does, after checking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from casebook.diagnostics import Diagnostic, Severity
from casebook.imports.fatturapa import Document, EInvoice, Party
from casebook.imports.index import CaseIndex, InvoiceFacts, normal_cf, normal_vat
from casebook.imports.writer import Change, Copy, case_path, slug_for
from casebook.model import Credit, Debtor, Instalment, Invoice

INVOICES_DIR = "invoices"


@dataclass
class Plan:
    changes: dict[str, Change] = field(default_factory=dict)  # by case id
    copies: list[Copy] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # lines for the report
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: per e-invoice: its name, its case, whether it opens that case, and the report's lines
    by_file: list[tuple[str, str, bool, list[str]]] = field(default_factory=list)


@dataclass
class _Known:
    """The casebook as the plan grows: numbers taken and where debtors are."""

    cases: dict[str, CaseIndex]
    invoices: dict[str, tuple[str, Decimal]]  # number -> case id, amount still creditable
    credits: set[str]
    facts: dict[str, InvoiceFacts] = field(default_factory=dict)  # the casebook's, by number
    by_vat: dict[str, list[str]] = field(default_factory=dict)
    by_cf: dict[str, list[str]] = field(default_factory=dict)
    copies: dict[str, bytes] = field(default_factory=dict)  # target -> bytes

    @classmethod
    def of(cls, cases: Sequence[CaseIndex]) -> _Known:
        known = cls({c.id: c for c in cases}, {}, set())
        for case in cases:
            for invoice in case.invoices:
                known.invoices[invoice.number] = (case.id, invoice.creditable)
                known.facts[invoice.number] = invoice
            known.credits.update(case.credits)
            known.remember(case.id, case.vat, case.cf)
        return known

    def forget(self, case_id: str) -> None:
        for index in (self.by_vat, self.by_cf):
            for key in [k for k, ids in index.items() if case_id in ids]:
                index[key].remove(case_id)

    def remember(self, case_id: str, vat: str | None, cf: str | None) -> None:
        if vat:
            self.by_vat.setdefault(vat, []).append(case_id)
        if cf:
            self.by_cf.setdefault(cf, []).append(case_id)


def plan_einvoices(einvoices: Sequence[EInvoice], cases: Sequence[CaseIndex],
                   existing: dict[str, bytes | None], creditor_vat: str | None = None) -> Plan:
    """`existing`: for each `invoices/<name>` target, the bytes already there (or None);
    `creditor_vat`: casebook.yml's, so that an invoice the creditor received is left out."""
    plan, known = Plan(), _Known.of(cases)
    ours = normal_vat(creditor_vat)
    for einvoice in einvoices:
        if ours is not None and normal_vat(einvoice.debtor.vat) == ours:
            plan.diagnostics.append(Diagnostic(
                einvoice.name, 1, 1, Severity.WARNING, "received-invoice",
                f"the buyer is the creditor ({ours}): this e-invoice was received, not issued, "
                "and owes the creditor nothing; left out"))
            continue
        _plan_file(plan, known, einvoice, existing)
    return plan


def _plan_file(plan: Plan, known: _Known, einvoice: EInvoice,
               existing: dict[str, bytes | None]) -> None:
    target = f"{INVOICES_DIR}/{einvoice.filename}"
    there = known.copies.get(target, existing.get(target))
    if there is not None and there != einvoice.data:
        plan.diagnostics.append(_error(einvoice.name, "source-taken",
                                       f"{target} already holds a different file; nothing "
                                       "was imported from this one (rename one of them)"))
        return
    opened = len(plan.changes)
    case_id = _case_for(plan, known, einvoice)
    if case_id is None:
        return
    opens = len(plan.changes) > opened
    change = plan.changes.get(case_id) or Change(case_path(case_id), case_id)
    lines: list[str] = []
    for document in einvoice.documents:
        if document.credits_invoice is None:
            _add_invoice(plan, known, change, document, (einvoice.name, target), lines)
        else:
            _add_credit(plan, known, change, document, einvoice.name, lines)
    if change.invoices or change.credits:
        plan.changes[case_id] = change
    elif opens:  # nothing to add: no case is opened for it
        del plan.changes[case_id]
        known.forget(case_id)
    if any(line.startswith("+") for line in lines) and there is None:
        plan.copies.append(Copy(target, einvoice.data))
        known.copies[target] = einvoice.data
    plan.by_file.append((einvoice.name, case_id, opens, lines))


def _case_for(plan: Plan, known: _Known, einvoice: EInvoice) -> str | None:
    party = einvoice.debtor
    vat, cf = normal_vat(party.vat), normal_cf(party.cf)
    for key, index in ((vat, known.by_vat), (cf, known.by_cf)):
        found = sorted(set(index.get(key, ()))) if key else []
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            plan.diagnostics.append(_error(
                einvoice.name, "ambiguous-debtor",
                f"the buyer {key} is the debtor of {len(found)} cases ({', '.join(found)}); "
                "nothing was imported from this file: keep one case per debtor"))
            return None
    case_id = slug_for(party.name, [*known.cases, *plan.changes])
    change = Change(case_path(case_id), case_id, debtor=_debtor(party))
    plan.changes[case_id] = change
    known.remember(case_id, vat, cf)
    return case_id


def _debtor(party: Party) -> Debtor:
    return Debtor(name=party.name, kind=party.kind, vat=party.vat, cf=party.cf,
                  address=party.address, pec=party.pec, sdi=party.sdi)


def _add_invoice(plan: Plan, known: _Known, change: Change, document: Document,
                 names: tuple[str, str], lines: list[str]) -> None:
    name, source = names
    taken = known.invoices.get(document.number)
    if taken is not None:
        _already(plan, known, change, document, name, taken[0], lines)
        return
    schedule = tuple(Instalment(due=p.due, amount=p.amount) for p in document.schedule)
    invoice = Invoice(number=document.number, date=document.date, due=document.due,
                      amount=document.amount, total=document.total,
                      description=document.description, source=source,
                      schedule=schedule if len(schedule) > 1 else ())
    change.invoices.append(invoice)
    known.invoices[document.number] = (change.case_id, document.amount)
    parts = f" in {len(schedule)} parts" if len(schedule) > 1 else ""
    total = f" (document total {document.total:.2f})" if document.total is not None else ""
    lines.append(f"+ invoice {document.number} of {document.date}: {document.amount:.2f}"
                 f"{total}, due {document.due}{parts}")


def _already(plan: Plan, known: _Known, change: Change, document: Document, name: str,
             case_id: str, lines: list[str]) -> None:
    """The number is the casebook's: said, and a conflict is a diagnostic, never overwritten."""
    number, where = document.number, case_path(case_id)
    if case_id != change.case_id:
        plan.diagnostics.append(_error(
            name, "number-taken", f"invoice {number} is already in {where}, whose debtor is not "
            "this e-invoice's buyer; it was not imported (check both invoices)"))
        return
    lines.append(f"= invoice {number}: already in {where}")
    facts = known.facts.get(number)
    if facts is None:
        return
    differ = [f"{what} {ours} (the e-invoice says {theirs})" for what, ours, theirs in (
        ("date", facts.date, document.date), ("due date", facts.due, document.due),
        ("amount", f"{facts.amount:.2f}", f"{document.amount:.2f}"))
        if str(ours) != str(theirs)]
    if differ:
        plan.diagnostics.append(Diagnostic(
            name, document.line, 1, Severity.WARNING, "differs",
            f"invoice {number} in {where} has {', '.join(differ)}; the case file is left as "
            "it is: correct whichever is wrong"))


def _add_credit(plan: Plan, known: _Known, change: Change, document: Document, name: str,
                lines: list[str]) -> None:
    number, invoice = document.number, document.credits_invoice
    assert invoice is not None
    if number in known.credits:
        lines.append(f"= credit note {number}: already in the casebook")
        return
    taken = known.invoices.get(invoice)
    if taken is None or taken[0] != change.case_id:
        where = "not in the casebook" if taken is None else f"in {case_path(taken[0])}"
        plan.diagnostics.append(_error(
            name, "credit-unknown-invoice",
            f"credit note {number} lowers invoice {invoice}, which is {where}, not a case of "
            "this buyer; it was not imported (import that invoice first)"))
        return
    if document.amount > taken[1]:
        plan.diagnostics.append(_error(
            name, "overcredit", f"credit note {number} of {document.amount:.2f} is more than "
            f"what is left of invoice {invoice} ({taken[1]:.2f}); it was not imported"))
        return
    change.credits.append(Credit(number=number, date=document.date, amount=document.amount,
                                 invoice=invoice))
    known.credits.add(number)
    known.invoices[invoice] = (taken[0], taken[1] - document.amount)
    lines.append(f"+ credit note {number} of {document.date}: {document.amount:.2f} on "
                 f"invoice {invoice}")


def _error(name: str, code: str, message: str) -> Diagnostic:
    return Diagnostic(name, 1, 1, Severity.ERROR, code, message)
