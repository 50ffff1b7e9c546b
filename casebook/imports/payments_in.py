"""Planning `casebook import bank`: the booked credits of statements, matched to cases, as
payments to insert.

Reading is `bank` (camt.053/054, CSV through `csvrules`), matching is `matching`, in SPEC 8's
order; this module turns matches into one `Change` per case file — each payment with the bank's
own reference, so a second import of the same statement adds nothing — and lists what it
could not match, and why. Nothing here writes.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from casebook.diagnostics import Diagnostic, Severity
from casebook.imports.bank import Credit, normal_iban, read_statement
from casebook.imports.csvrules import read_rules
from casebook.imports.index import CaseIndex, index_case
from casebook.imports.matching import Candidate, OpenItem, match
from casebook.imports.writer import Change, case_path
from casebook.model import Case, Config, Payment

_STATEMENTS = (".xml", ".csv", ".txt")


@dataclass
class Plan:
    changes: dict[str, Change] = field(default_factory=dict)  # by case id
    lines: list[str] = field(default_factory=list)  # the report, in order
    diagnostics: list[Diagnostic] = field(default_factory=list)


def read_credits(paths: Sequence[Path], rules_path: Path | None
                 ) -> tuple[list[Credit], list[Diagnostic]]:
    """The booked credits of every statement in `paths` (files, or folders of them)."""
    diagnostics: list[Diagnostic] = []
    rules = None
    if rules_path is not None:
        rules, found = read_rules(rules_path)
        diagnostics.extend(found)
        if rules is None:
            return [], diagnostics
    credits: list[Credit] = []
    for path in _files(paths):
        read, found = read_statement(path, rules)
        credits.extend(read)
        diagnostics.extend(found)
    return credits, diagnostics


def _files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*"))
                         if p.is_file() and p.suffix.lower() in _STATEMENTS)
        else:
            files.append(path)
    return files


def as_before(cases: Sequence[CaseIndex], credits: Sequence[Credit],
              reread: Callable[[CaseIndex], Case | None], config: Config,
              today: date) -> list[CaseIndex]:
    """The cases as they stood before these credits were recorded: a payment whose reference
    is one of theirs is left out of what is open (it stays among the references, so its credit
    counts as recorded), and an IBAN one of them brought is not taken as known. A second import
    of the same statement then matches every other credit exactly as the first one did, and
    adds nothing; only the cases that hold such a payment are read again."""
    by_reference = {c.reference: c for c in credits}
    found = []
    for case in cases:
        ours = [r for r in case.references if r in by_reference]
        full = reread(case) if ours else None
        if full is None:
            found.append(case)
            continue
        before = replace(full, payments=tuple(
            p for p in full.payments if p.reference not in by_reference))
        brought = {normal_iban(by_reference[r].iban) for r in ours} - {None}
        if full.debtor.iban and normal_iban(full.debtor.iban) in brought:
            before = replace(before, debtor=replace(full.debtor, iban=None))
        found.append(index_case(before, config, today)._replace(references=case.references))
    return found


def candidate(case: CaseIndex) -> Candidate:
    return Candidate(
        case_id=case.id, name=case.name, iban=case.iban,
        invoices=tuple((i.number, i.residual) for i in case.invoices),
        open_items=tuple(OpenItem(amount=a, invoice=i, what=w) for a, i, w in case.open_items),
        references=frozenset(case.references),
    )


def plan_payments(credits: Sequence[Credit], cases: Sequence[CaseIndex], currency: str,
                  method: str = "bank transfer",
                  known_ibans: frozenset[str] = frozenset()) -> Plan:
    """`known_ibans`: the cases that store an IBAN, which an import never replaces."""
    plan = Plan()
    ours = [c for c in credits if c.currency.upper() == currency.upper()]
    for other in (c for c in credits if c.currency.upper() != currency.upper()):
        plan.diagnostics.append(_where(other, Severity.WARNING, "currency",
                                       f"a credit of {other.amount:.2f} {other.currency} is "
                                       f"not in the casebook's currency ({currency}): left out"))
    outcome = match(ours, [candidate(c) for c in cases], currency=currency)
    for found in outcome.matches:
        change = plan.changes.setdefault(found.case_id,
                                         Change(case_path(found.case_id), found.case_id))
        credit = found.credit
        change.payments.append(Payment(date=credit.date, amount=credit.amount,
                                       invoice=found.invoice, method=method,
                                       reference=credit.reference))
        on = f" on invoice {found.invoice}" if found.invoice else ""
        change.said.append(f"  + payment {credit.date} {credit.amount:.2f}{on}, ref "
                           f"{credit.reference}: {found.reason}")
        if found.learn_iban and change.iban is None and found.case_id not in known_ibans:
            change.iban = found.learn_iban
            change.said.append(f"  + debtor.iban {found.learn_iban} (learned from this payment)")
    for case_id in sorted(plan.changes):
        plan.lines.append(f"{case_path(case_id)}:")
        plan.lines.extend(plan.changes[case_id].said)
    if outcome.unmatched:
        plan.lines.append(f"not matched ({len(outcome.unmatched)}), left for you to record:")
        for left in outcome.unmatched:
            credit = left.credit
            who = f" from {credit.name}" if credit.name else ""
            plan.lines.append(f"  ? {credit.where} {credit.date} {credit.amount:.2f}{who} "
                              f"'{credit.text}': {left.why}")
            plan.lines.append(f"    to record it: casebook pay CASE {credit.amount:.2f} --date "
                              f"{credit.date} --method {shlex.quote(method)} --reference "
                              f"{shlex.quote(credit.reference)}")
    payments = sum(len(c.payments) for c in plan.changes.values())
    plan.lines.append(f"{payments} payments matched to {len(plan.changes)} cases, "
                      f"{len(outcome.unmatched)} not matched, {len(outcome.already)} already "
                      "recorded")
    return plan


def _where(credit: Credit, severity: Severity, code: str, message: str) -> Diagnostic:
    path, _, line = credit.where.rpartition(":")
    return Diagnostic(path or credit.where, int(line) if line.isdigit() else 1, 1, severity,
                      code, message)
