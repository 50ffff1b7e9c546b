"""Reading one case file into a `Case`, with a diagnostic for everything wrong in it.

Owns the file's shape (front matter between `---` lines, then the Markdown log) and the schema of
the front matter. It never reads the clock and never looks at other files: checks that need the
day or the whole casebook live in `checks`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yaml.nodes import Node

from casebook.diagnostics import Diagnostic, Severity, did_you_mean
from casebook.model import (
    CLAIM_KINDS,
    DEBTOR_KINDS,
    Case,
    Closed,
    Config,
    Court,
    Credit,
    Debtor,
    Dispute,
    Hold,
    Instalment,
    Invoice,
    Payment,
    Plan,
    Policy,
    Pos,
    Promise,
)
from casebook.read import contactlog
from casebook.read.filechecks import FILE_CHECKS, FILE_ERRORS
from casebook.read.yamlread import Fields, Invalid, Read, Reader, YamlSyntaxError, compose

MAX_BYTES = 1 << 20
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t\r]*$", re.MULTILINE)


@dataclass(frozen=True)
class Parsed:
    case: Case | None
    diagnostics: tuple[Diagnostic, ...]


def read_case(case_id: str, path: str, data: bytes, config: Config) -> Parsed:
    """Read a case file's bytes; `case` is None when the file cannot be read at all."""
    problems: list[Diagnostic] = []

    def fail(line: int, col: int, code: str, message: str) -> Parsed:
        problems.append(Diagnostic(path, line, col, Severity.ERROR, code, message))
        return Parsed(None, tuple(problems))

    if len(data) > MAX_BYTES:
        return too_large(path, len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _position(data, exc.start)
        return fail(line, col, "encoding", "the file is not UTF-8 text "
                    f"(byte 0x{data[exc.start]:02x}); save it as UTF-8")
    if "\x00" in text:
        line, col = _position(data, data.index(b"\x00"))
        return fail(line, col, "encoding", "the file contains a NUL character")
    split = split_front_matter(text)
    if isinstance(split, str):
        return fail(1, 1, "front-matter", split)
    yaml_text, body, body_line = split
    try:
        root = compose(yaml_text)
    except YamlSyntaxError as exc:
        return fail(exc.line + 2, exc.col + 1, "yaml", exc.message)
    if root is None:
        return fail(1, 1, "front-matter", "the front matter is empty; it needs at least "
                    "'debtor:' with the debtor's 'name:'")
    reader = Reader(path, line_offset=1)
    case = _CaseReader(reader, config).read(root, case_id, path, body, body_line)
    return Parsed(case, tuple(reader.diagnostics))


def too_large(path: str, size: int) -> Parsed:
    """The file is refused unread: it is larger than any case file needs to be."""
    message = (f"the file is {size:,} bytes; a case file may be at most {MAX_BYTES:,} bytes "
               "(move old history to a separate file)")
    return Parsed(None, (Diagnostic(path, 1, 1, Severity.ERROR, "too-large", message),))


def split_front_matter(text: str) -> tuple[str, str, int] | str:
    """(yaml text, body, 0-based line of the body) or a message saying what is wrong."""
    first, _, rest = text.partition("\n")
    if first.rstrip() != "---":
        return ("no front matter: a case file starts with a line '---', then the facts in "
                "YAML, then another '---' line")
    end = _CLOSING.search(rest)
    if end is None:
        return "the front matter opened on line 1 is never closed by a '---' line"
    yaml_text = rest[:end.start()]
    body = rest[end.end() + 1:]
    return yaml_text, body, yaml_text.count("\n") + 2


def _position(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    col = len(before) - (before.rfind(b"\n") + 1) + 1
    return line, col


#: The fields of a case that no key of the front matter fills, and where they come from
#: (`*.name`: that field of every class).
NOT_KEYS: Mapping[str, str] = {
    "Case.id": "the file's path under cases/, without .md (read.discover.case_id)",
    "Case.path": "the file's path, relative to the casebook root",
    "Case.notes": "the Markdown before the first dated heading (read.contactlog)",
    "Case.log": "the dated headings of the body and the notes under them (read.contactlog)",
    **dict.fromkeys(("LogEntry.date", "LogEntry.channel", "LogEntry.step", "LogEntry.title"),
                    "a dated heading of the body: `## date channel step — title`"),
    "LogEntry.note": "the Markdown under a dated heading",
    "*.pos": "the line and column where the item starts, for diagnostics",
    "Invoice.part_of": "the engine's parts of a scheduled invoice (engine.billing), never a file",
}


def front_matter_keys(config: Config) -> dict[type, frozenset[str]]:
    """For each model class, the keys the front matter may hold for it."""
    reader = _CaseReader(Reader(""), config)
    return {cls: frozenset(reader.keys(cls)) for cls in SCHEMA}


class _CaseReader:
    """Reads the front matter by `SCHEMA`: one small reader per section, and the checks across
    sections of the file."""

    def __init__(self, reader: Reader, config: Config) -> None:
        self.r = reader
        self.config = config
        self.references: list[tuple[str, str, Pos]] = []

    def keys(self, cls: type) -> dict[str, Read[Any]]:
        """The front matter's keys for a model class and how each value is read (`SCHEMA`).
        Made for each use, never kept: kept, its bound methods would make the reader a cycle
        that only the garbage collector frees."""
        return SCHEMA[cls](self, self.r)

    def read(self, root: Node, case_id: str, path: str, body: str, body_line: int) -> Case | None:
        r = self.r
        ok, fields = r.attempt(lambda n: r.mapping(n, self.keys(Case), what="the front matter",
                                                   required=("debtor",)), root)
        if not ok or fields is None:
            return None
        policy = self._policy(fields.get("policy"))
        notes, log = contactlog.read_log(body, body_line, policy, r)
        case = Case(
            id=case_id, path=path, notes=notes, log=log,
            **{k: v for k, v in fields.items() if k != "debtor"}, debtor=fields["debtor"],
        )
        self._check_references(case)
        self._check_fallbacks(case, policy)
        for rule in FILE_CHECKS:
            for pos, code, message in rule(case):
                self.r.warning(pos, code, message)
        for rule in FILE_ERRORS:
            for pos, code, message in rule(case):
                self.r.error(pos, code, message)
        return case

    def _policy(self, name: str | None) -> Policy:
        if name is None:
            return self.config.policy
        return self.config.policies.get(name, self.config.policy)

    # -- sections ----------------------------------------------------------

    def debtor(self, node: Node) -> Debtor | None:
        r = self.r
        f = r.mapping(node, self.keys(Debtor), what="debtor", required=("name",))
        return None if f is None else Debtor(**f)

    def kind(self, node: Node) -> str | None:
        value = self.r.text(node)
        if value is not None and value not in DEBTOR_KINDS:
            raise Invalid(node, f"debtor kind must be {_either(DEBTOR_KINDS)}, "
                          f"found {value!r}", "value")
        return value

    def invoice(self, node: Node) -> Invoice | None:
        r = self.r
        f = r.mapping(node, self.keys(Invoice), what="an invoice",
                      required=("number", "date", "due", "amount"))
        if f is None:
            return None
        if f["due"] < f["date"]:
            r.error(f.where("due"), "due-before-date",
                    f"due date {f['due']} is before the invoice date {f['date']}")
        if f.get("schedule"):
            self._check_schedule(f)
        return Invoice(**f, pos=f.pos)

    def _check_schedule(self, f: Fields) -> None:
        """A schedule's parts add up to the amount, and the first is the invoice's due date."""
        r, parts = self.r, f["schedule"]
        parts_total = sum((p.amount for p in parts), Decimal(0))
        if parts_total != f["amount"]:
            r.error(f.where("schedule"), "schedule-total",
                    f"the schedule's parts add up to {parts_total:.2f}, not to the invoice's "
                    f"amount {f['amount']:.2f}")
        for part in parts:
            if part.due < f["date"]:
                r.error(part.pos, "due-before-date",
                        f"this part is due on {part.due}, before the invoice date {f['date']}")
        first = min(p.due for p in parts)
        if first != f["due"]:
            r.error(f.where("due"), "schedule-due",
                    f"with a schedule, 'due' is the first part's due date: {first}, "
                    f"not {f['due']}")

    def source(self, node: Node) -> str | None:
        """A path inside the casebook, written with forward slashes (`validate` checks that
        the file is there: it knows the root)."""
        value = self.r.text(node)
        if value is None:
            return None
        parts = value.split("/")
        if value.startswith("/") or "\\" in value or ":" in parts[0] or ".." in parts:
            raise Invalid(node, f"source must be a path inside the casebook, written with "
                          f"'/' (like invoices/IT01234567890_FPR01.xml), found {value!r}",
                          "value")
        return value

    def credit(self, node: Node) -> Credit | None:
        r = self.r
        f = r.mapping(node, self.keys(Credit), what="a credit note",
                      required=("number", "date", "amount", "invoice"))
        if f is None:
            return None
        self._note_reference("credit note", f)
        return Credit(**f, pos=f.pos)

    def payment(self, node: Node) -> Payment | None:
        r = self.r
        f = r.mapping(node, self.keys(Payment), what="a payment", required=("date", "amount"))
        if f is None:
            return None
        self._note_reference("payment", f)
        return Payment(**f, pos=f.pos)

    def dispute(self, node: Node) -> Dispute | None:
        r = self.r
        f = r.mapping(node, self.keys(Dispute), what="a dispute", required=("opened",))
        if f is None:
            return None
        if "resolved" in f and f["resolved"] < f["opened"]:
            r.error(f.where("resolved"), "date-order",
                    f"the dispute is resolved on {f['resolved']}, before it was opened "
                    f"on {f['opened']}")
        self._note_reference("dispute", f)
        return Dispute(**f, pos=f.pos)

    def promise(self, node: Node) -> Promise | None:
        r = self.r
        f = r.mapping(node, self.keys(Promise), what="a promise", required=("made", "by"))
        if f is None:
            return None
        if f["by"] < f["made"]:
            r.error(f.where("by"), "date-order",
                    f"the promised date {f['by']} is before the promise was made on {f['made']}")
        return Promise(**f, pos=f.pos)

    def plan(self, node: Node) -> Plan | None:
        r = self.r
        f = r.mapping(node, self.keys(Plan), what="a plan", required=("agreed", "instalments"))
        if f is None:
            return None
        if not f["instalments"]:
            r.error(f.where("instalments"), "empty-plan",
                    "a plan needs at least one instalment: - {due: YYYY-MM-DD, amount: 0.00}")
            return None
        return Plan(**f, pos=f.pos)

    def instalment(self, node: Node) -> Instalment | None:
        r = self.r
        f = r.mapping(node, self.keys(Instalment), what="an instalment",
                      required=("due", "amount"))
        return None if f is None else Instalment(**f, pos=f.pos)

    def hold(self, node: Node) -> Hold | None:
        r = self.r
        f = r.mapping(node, self.keys(Hold), what="hold", required=("until",))
        return None if f is None else Hold(**f, pos=f.pos)

    def court(self, node: Node) -> Court | None:
        r = self.r
        f = r.mapping(node, self.keys(Court), what="court", required=("filed",))
        return None if f is None else Court(**f, pos=f.pos)

    def claim_kind(self, node: Node) -> str | None:
        value = self.r.text(node)
        if value is not None and value not in CLAIM_KINDS:
            raise Invalid(node, f"claim must be {_either(CLAIM_KINDS)} (10, 5 or 3 years to "
                          f"prescribe), found {value!r}{did_you_mean(value, CLAIM_KINDS)}",
                          "value")
        return value

    def closed(self, node: Node) -> Closed | None:
        r = self.r
        f = r.mapping(node, self.keys(Closed), what="closed", required=("date",))
        return None if f is None else Closed(**f, pos=f.pos)

    def policy_name(self, node: Node) -> str | None:
        name = self.r.text(node)
        if name is not None and name not in self.config.policies:
            known = ", ".join(sorted(self.config.policies)) or "none are defined"
            raise Invalid(node, f"unknown policy {name!r}{did_you_mean(name, self.config.policies)}"
                          f"; the policies of casebook.yml: {known}", "unknown-policy")
        return name

    # -- checks across sections of the same file ---------------------------

    def _note_reference(self, kind: str, fields: Fields) -> None:
        if "invoice" in fields:
            self.references.append((kind, fields["invoice"], fields.where("invoice")))

    def _check_references(self, case: Case) -> None:
        numbers = {i.number for i in case.invoices}
        for kind, number, pos in self.references:
            if number not in numbers:
                self.r.error(pos, "unknown-invoice",
                             f"this {kind} names invoice {number!r}, which is not an invoice "
                             f"of this case{did_you_mean(number, numbers)}")

    def _check_fallbacks(self, case: Case, policy: Policy) -> None:
        for plan in case.plans:
            if plan.fallback is not None and policy.resolve(plan.fallback) is None:
                self.r.error(plan.pos, "unknown-step",
                             f"the plan's fallback {plan.fallback!r} is not a step of the "
                             f"policy; steps: {', '.join(s.id for s in policy.steps)}")



Keys = Callable[[_CaseReader, Reader], dict[str, Read[Any]]]

#: The front-matter schema: for each model class, its keys and how each value is read. A key
#: fills the field of its name; `NOT_KEYS` lists the fields no key fills.
SCHEMA: Mapping[type, Keys] = {
    Case: lambda c, r: {
        "debtor": c.debtor, "owner": r.text, "tags": r.text_list,
        "invoices": lambda n: r.sequence(n, c.invoice, what="invoices"),
        "payments": lambda n: r.sequence(n, c.payment, what="payments"),
        "credits": lambda n: r.sequence(n, c.credit, what="credits"),
        "disputes": lambda n: r.sequence(n, c.dispute, what="disputes"),
        "promises": lambda n: r.sequence(n, c.promise, what="promises"),
        "plans": lambda n: r.sequence(n, c.plan, what="plans"),
        "hold": c.hold, "closed": c.closed, "court": c.court, "policy": c.policy_name,
    },
    Debtor: lambda c, r: {
        "name": r.text, "kind": c.kind, "vat": r.text, "address": r.text, "pec": r.text,
        "email": r.text, "phone": r.text, "contact": r.text, "cf": r.text, "sdi": r.text,
        "iban": r.text,
    },
    Invoice: lambda c, r: {
        "number": r.text, "date": r.date, "due": r.date, "amount": r.positive_money,
        "description": r.text, "total": r.positive_money, "source": c.source,
        "schedule": lambda n: r.sequence(n, c.instalment, what="schedule"),
        "claim": c.claim_kind,
    },
    Credit: lambda c, r: {"number": r.text, "date": r.date, "amount": r.positive_money,
                          "invoice": r.text},
    Payment: lambda c, r: {"date": r.date, "amount": r.positive_money, "invoice": r.text,
                           "method": r.text, "reference": r.text},
    Dispute: lambda c, r: {"invoice": r.text, "opened": r.date, "reason": r.text,
                           "resolved": r.date},
    Promise: lambda c, r: {"made": r.date, "by": r.date, "amount": r.positive_money},
    Plan: lambda c, r: {
        "agreed": r.date, "confirmed": r.date, "fallback": r.text,
        "instalments": lambda n: r.sequence(n, c.instalment, what="instalments"),
    },
    Instalment: lambda c, r: {"due": r.date, "amount": r.positive_money},
    Hold: lambda c, r: {"until": r.date, "reason": r.text},
    Closed: lambda c, r: {"date": r.date, "reason": r.text},
    Court: lambda c, r: {"filed": r.date, "kind": r.text, "number": r.text, "court": r.text},
}


def _either(words: tuple[str, ...]) -> str:
    """`a, b or c`."""
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else words[0]
