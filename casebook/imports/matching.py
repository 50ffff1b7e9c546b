"""Bank credits matched to open cases (SPEC 8): by invoice number, IBAN, name, then amount.

This module owns the four rules and their order, what counts as a remittance text naming an
invoice, and when two names are the same debtor's. Each rule is a small function below, in the
order of the list `RULES`; the first that finds something decides, and a rule that finds more
than one case leaves the credit unmatched with the cases it found. A credit the casebook already
records (its `reference` is a payment's) is set apart, so importing a statement twice adds
nothing.

What counts as a text naming an invoice, and as the same name, is `remittance`'s.

It never reads a file, the clock or the casebook: candidates come in as values, and a match is
never a guess.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import NamedTuple

from casebook.imports.bank import Credit, normal_iban
from casebook.imports.remittance import Key, invoice_key, mentions, normal_name
from casebook.read.scalars import short


@dataclass(frozen=True, kw_only=True)
class OpenItem:
    amount: Decimal  # an invoice's residual, a due instalment, or a promise's amount
    invoice: str | None  # the invoice it belongs to, if any
    what: str  # "invoice 2026/101", "instalment of 2026-11-15 of the plan", ...


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One open case, as the matcher needs it."""

    case_id: str
    name: str  # the debtor's name
    iban: str | None  # debtor.iban, learned earlier
    invoices: tuple[tuple[str, Decimal], ...]  # (number, open residual), residual may be 0
    open_items: tuple[OpenItem, ...]
    references: frozenset[str]  # the `reference` of every payment the case records


@dataclass(frozen=True, kw_only=True)
class Match:
    credit: Credit
    case_id: str
    invoice: str | None  # the invoice the payment names, when the rule found one
    rule: str  # "invoice-number" | "iban" | "name" | "amount"
    reason: str
    learn_iban: str | None  # the credit's IBAN, to store as debtor.iban, when the case has none


@dataclass(frozen=True, kw_only=True)
class Unmatched:
    credit: Credit
    why: str


@dataclass(frozen=True, kw_only=True)
class Outcome:
    matches: tuple[Match, ...]
    unmatched: tuple[Unmatched, ...]
    already: tuple[tuple[Credit, str], ...]  # (credit, case_id) of credits already recorded


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _cases(case_ids: Sequence[str]) -> str:
    shown = sorted(set(case_ids))
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    return f"{len(shown)} cases ({', '.join(shown[:5])}{more})"


# -- the casebook, indexed -------------------------------------------------------------------


class _Invoice(NamedTuple):
    case_id: str
    number: str
    residual: Decimal
    year: int | None


class _Index:
    """The candidates by invoice serial, IBAN, normal name, open amount and reference."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        self.cases = {c.case_id: c for c in candidates}
        self.invoices: dict[Key, list[_Invoice]] = defaultdict(list)
        self.ibans: dict[str, list[str]] = defaultdict(list)
        self.names: dict[str, list[str]] = defaultdict(list)
        self.amounts: dict[Decimal, list[tuple[str, int]]] = defaultdict(list)
        self.references: dict[str, str] = {}
        for c in candidates:
            self._add(c)

    def _add(self, c: Candidate) -> None:
        for number, residual in c.invoices:
            key = invoice_key(number)
            if key is not None:
                self.invoices[key[0]].append(_Invoice(c.case_id, number, residual, key[1]))
        iban = normal_iban(c.iban)
        if iban is not None:
            self.ibans[iban].append(c.case_id)
        name = normal_name(c.name)
        if name:
            self.names[name].append(c.case_id)
        for at, item in enumerate(c.open_items):
            self.amounts[item.amount].append((c.case_id, at))
        for reference in c.references:
            self.references.setdefault(reference, c.case_id)


# -- the rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    case_id: str
    invoice: str | None
    reason: str
    item: int | None = None  # the open item the credit pays, when the rule chose one
    rule: str = ""  # the name of the rule that found it, set by `_one`


@dataclass(frozen=True)
class _Ambiguous:
    why: str


Verdict = _Found | _Ambiguous | None


@dataclass
class _Batch:
    """What one `match` call has seen so far."""

    index: _Index
    consumed: set[tuple[str, int]] = field(default_factory=set)
    seen: dict[str, str | None] = field(default_factory=dict)  # reference → case_id


def by_invoice_number(credit: Credit, batch: _Batch) -> Verdict:
    """1. The remittance text names an invoice of exactly one case."""
    named: dict[str, list[_Invoice]] = {}
    for serial, year in mentions(credit.text):
        for invoice in batch.index.invoices.get(serial, ()):
            same = named.setdefault(invoice.case_id, [])
            if (year is None or invoice.year in (None, year)) and invoice not in same:
                same.append(invoice)
    named = {case: invoices for case, invoices in named.items() if invoices}
    quoted = f"('{short(credit.text, 60)}')"
    if len(named) > 1:
        numbers = ", ".join(f"{i.number} ({i.case_id})" for case in sorted(named)
                            for i in named[case])
        return _Ambiguous(f"ambiguous: the remittance text {quoted} names invoices of "
                          f"{_cases(list(named))}: {numbers}")
    if not named:
        return None
    (case_id, invoices), = named.items()
    order = [number for number, _ in batch.index.cases[case_id].invoices]
    invoices.sort(key=lambda i: order.index(i.number))
    if len(invoices) == 1:
        return _Found(case_id, invoices[0].number,
                      f"the remittance text names invoice {invoices[0].number} {quoted}")
    return _several_invoices(credit, case_id, invoices, quoted)


def _several_invoices(credit: Credit, case_id: str, invoices: list[_Invoice],
                      quoted: str) -> _Found:
    listed = " and ".join(i.number for i in invoices)
    exact = [i for i in invoices if i.residual == credit.amount]
    said = f"the remittance text names invoices {listed} of this case {quoted}"
    if len(exact) == 1:
        return _Found(case_id, exact[0].number, f"{said}; {exact[0].number} is the one with "
                      f"exactly {money(credit.amount)} open")
    return _Found(case_id, None, f"{said}; no single one of them has exactly "
                  f"{money(credit.amount)} open, so the payment names no one invoice")


def by_iban(credit: Credit, batch: _Batch) -> Verdict:
    """2. The payer's IBAN is the one stored for exactly one debtor."""
    cases = sorted(set(batch.index.ibans.get(credit.iban or "", ())))
    if len(cases) > 1:
        return _Ambiguous(f"ambiguous: the IBAN {credit.iban} is stored for {_cases(cases)}")
    if not cases:
        return None
    return _Found(cases[0], None, f"the IBAN {credit.iban} paid this case before")


def by_name(credit: Credit, batch: _Batch) -> Verdict:
    """3. The payer's name is the debtor's name of exactly one case."""
    name = normal_name(credit.name or "")
    cases = sorted(set(batch.index.names.get(name, ()))) if name else []
    if len(cases) > 1:
        return _Ambiguous(f"ambiguous: the payer's name '{credit.name}' is the debtor's name "
                          f"of {_cases(cases)}")
    if not cases:
        return None
    return _Found(cases[0], None, f"the payer's name '{credit.name}' is the debtor's")


def by_amount(credit: Credit, batch: _Batch) -> Verdict:
    """4. The amount is exactly that of open items of one case only, in the whole casebook
    (an item paid by an earlier credit of this import no longer counts)."""
    items = [i for i in batch.index.amounts.get(credit.amount, ()) if i not in batch.consumed]
    cases = sorted({case for case, _ in items})
    if len(cases) > 1:
        return _Ambiguous(f"ambiguous: {money(credit.amount)} is an open amount in "
                          f"{_cases(cases)}")
    if not cases:
        return None
    open_items = [batch.index.cases[cases[0]].open_items[at] for _, at in items]
    invoices = {item.invoice for item in open_items}
    invoice = invoices.pop() if len(invoices) == 1 else None
    whats = " and ".join(item.what for item in open_items)
    also = ", all of this case," if len(open_items) > 1 else ""
    return _Found(cases[0], invoice, f"{money(credit.amount)} is exactly the open amount of "
                  f"{whats}{also} and of no other open item in the casebook", items[0][1])


RULES: tuple[tuple[str, Callable[[Credit, _Batch], Verdict]], ...] = (
    ("invoice-number", by_invoice_number),
    ("iban", by_iban),
    ("name", by_name),
    ("amount", by_amount),
)


def match(credits: Sequence[Credit], candidates: Sequence[Candidate], *,
          currency: str = "EUR") -> Outcome:
    """Each credit, in date order then the order given, matched by the first rule of `RULES`
    that finds its case; a credit in another currency than the casebook's is left unmatched.

    A credit a case records already uses up an open item of that case as its match did, so
    the candidates are to be given as they stood before this statement's payments were
    recorded (`payments_in.as_before`): a second import then decides every other credit as
    the first one did."""
    batch = _Batch(_Index(candidates))
    found: list[tuple[Credit, _Found]] = []
    unmatched: list[Unmatched] = []
    already: list[tuple[Credit, str]] = []
    in_order = sorted(enumerate(credits), key=lambda pair: (pair[1].date, pair[0]))
    for _, credit in in_order:
        verdict = _known(credit, batch) or _one(credit, batch, currency)
        if isinstance(verdict, _Found):
            found.append((credit, verdict))
            _consume(credit, verdict, batch)
            batch.seen[credit.reference] = verdict.case_id
        elif isinstance(verdict, Unmatched):
            unmatched.append(verdict)
            batch.seen.setdefault(credit.reference, None)
        else:
            already.append(verdict)
            if credit.reference in batch.index.references:  # replayed: it pays what it paid
                _consume(credit, _Found(verdict[1], None, ""), batch)
                batch.seen[credit.reference] = verdict[1]
    return Outcome(matches=_with_ibans(found, batch.index), unmatched=tuple(unmatched),
                   already=tuple(already))


def _known(credit: Credit, batch: _Batch) -> tuple[Credit, str] | Unmatched | None:
    """A credit the casebook records already, or one that repeats an earlier credit of this
    import (the same statement given twice, or a camt.054 beside its camt.053)."""
    recorded = batch.index.references.get(credit.reference)
    if recorded is not None:
        return credit, recorded
    if credit.reference not in batch.seen:
        return None
    earlier = batch.seen[credit.reference]
    if earlier is not None:
        return credit, earlier
    return Unmatched(credit=credit, why=f"the same entry ({credit.reference}) as an unmatched "
                     "credit earlier in this import")


def _one(credit: Credit, batch: _Batch, currency: str) -> _Found | Unmatched:
    if credit.currency != currency:
        return Unmatched(credit=credit, why=f"the credit is in {credit.currency} and the "
                         f"casebook counts {currency}: record it by hand")
    for rule, find in RULES:
        verdict = find(credit, batch)
        if isinstance(verdict, _Found):
            return replace(verdict, rule=rule)
        if isinstance(verdict, _Ambiguous):
            return Unmatched(credit=credit, why=verdict.why)
    return Unmatched(credit=credit, why=_tried(credit, batch))


def _tried(credit: Credit, batch: _Batch) -> str:
    """What the rules looked for, for a credit none of them matched."""
    amount = money(credit.amount)
    taken = any(i in batch.consumed for i in batch.index.amounts.get(credit.amount, ()))
    said = [
        "the remittance text names no invoice of an open case" if mentions(credit.text)
        else "the remittance text names no invoice number",
        f"the IBAN {credit.iban} is no debtor's" if credit.iban else "the credit has no IBAN",
        f"the name '{credit.name}' is no debtor's" if credit.name else "the credit has no name",
        f"the open items of {amount} were paid by earlier credits of this import" if taken
        else f"no open item is {amount}",
    ]
    return "no invoice number, IBAN, name or amount matches an open case: " + "; ".join(said)


def _consume(credit: Credit, hit: _Found, batch: _Batch) -> None:
    """The open item this credit pays is no longer open to the amount rule: the one the rule
    chose, else one of the case's items of exactly this amount (that of the named invoice
    first)."""
    if hit.item is not None:
        batch.consumed.add((hit.case_id, hit.item))
        return
    items = batch.index.cases[hit.case_id].open_items
    fitting = [at for at, item in enumerate(items) if item.amount == credit.amount
               and (hit.case_id, at) not in batch.consumed]
    fitting.sort(key=lambda at: items[at].invoice != hit.invoice)
    if fitting:
        batch.consumed.add((hit.case_id, fitting[0]))


def _with_ibans(found: list[tuple[Credit, _Found]], index: _Index) -> tuple[Match, ...]:
    """The matches, each with the IBAN to learn: the credit's, when its case stores none, no
    other case stores it, and this import does not offer another IBAN for the case or this
    IBAN for another case (then the IBAN says nothing sure, and nothing is learned)."""
    offered: dict[str, set[str]] = defaultdict(set)
    owners: dict[str, set[str]] = defaultdict(set)
    for credit, hit in found:
        if _may_learn(credit, hit, index) and credit.iban:
            offered[hit.case_id].add(credit.iban)
            owners[credit.iban].add(hit.case_id)
    matches = []
    for credit, hit in found:
        learn = credit.iban if _may_learn(credit, hit, index) else None
        if learn and (len(offered[hit.case_id]) > 1 or len(owners[learn]) > 1):
            learn = None
        matches.append(Match(credit=credit, case_id=hit.case_id, invoice=hit.invoice,
                             rule=hit.rule, reason=hit.reason, learn_iban=learn))
    return tuple(matches)


def _may_learn(credit: Credit, hit: _Found, index: _Index) -> bool:
    return (hit.rule != "iban" and credit.iban is not None and credit.iban not in index.ibans
            and not index.cases[hit.case_id].iban)
