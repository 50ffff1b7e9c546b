"""Two versions of a case compared fact by fact: what was added (+), removed (-) or changed (~).

Owns `diff_cases` and how each kind of fact reads in a change line. Which fields are compared is
derived from the model with `dataclasses.fields`, less the few `NOT_COMPARED` says why: a field
added to the model shows in a diff without being taught here. It is pure: it never reads git, a
file or the clock.
"""

from __future__ import annotations

import dataclasses
import typing
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, partial
from operator import attrgetter
from typing import Any, Literal

from casebook.model import Case

Sign = Literal["+", "-", "~"]
NONE = "(none)"
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}

#: Fields that are not facts to compare, and why (`*.name`: that field of every class).
NOT_COMPARED: Mapping[str, str] = {
    "Case.id": "the file's name: git shows a rename as one ('renamed from …')",
    "Case.path": "the file's path: git shows a rename as one ('renamed from …')",
    "*.pos": "where an item stands in the file: it moves whenever lines above are edited",
}
#: Free text compared as a whole: an edit is reported, never the text itself.
LONG_TEXT = frozenset({"Case.notes", "LogEntry.note"})
#: Who the debtor is before how to reach them: these come first, the other fields after them.
_LEADING: Mapping[str, tuple[str, ...]] = {"Debtor": ("name", "kind", "vat", "cf", "sdi")}


@dataclass(frozen=True, kw_only=True)
class Change:
    """One fact added (+), removed (-) or changed (~) between two versions of a case."""

    sign: Sign
    fact: str  # the kind of fact: "invoice", "payment", "debtor.pec", "log", …
    text: str  # what a reader sees after the sign

    @property
    def line(self) -> str:
        return f"{self.sign} {self.text}"


# -- which fields are compared --------------------------------------------------------------


@cache
def compared_fields(cls: type) -> tuple[str, ...]:
    """The fields of a model class that a diff compares, in the order changes are listed."""
    names = [f.name for f in dataclasses.fields(cls) if not _not_compared(cls, f.name)]
    first = [name for name in _LEADING.get(cls.__name__, ()) if name in names]
    return (*first, *(name for name in names if name not in first))


def _compared_fields_of(item: Any) -> tuple[str, ...]:
    return compared_fields(item.__class__)


def _not_compared(cls: type, name: str) -> bool:
    return f"{cls.__name__}.{name}" in NOT_COMPARED or f"*.{name}" in NOT_COMPARED


def held_class(hint: Any) -> type | None:
    """The model class a field holds, alone, optional or in a tuple; None for plain values."""
    for candidate in (hint, *typing.get_args(hint)):
        if isinstance(candidate, type) and dataclasses.is_dataclass(candidate):
            return candidate
    return None


def _as_items(value: Any) -> tuple[Any, ...]:
    """A section's items: the tuple itself, or the one optional item (none when missing)."""
    if isinstance(value, tuple):
        return value
    return () if value is None else (value,)


# -- how facts are shown ------------------------------------------------------------------


class _Show:
    """Values as text: money with the currency sign, ISO dates, `(none)` for a missing value."""

    def __init__(self, currency: str) -> None:
        self.currency = currency

    def money(self, amount: Decimal) -> str:
        symbol = _SYMBOLS.get(self.currency)
        return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {self.currency}"

    def __call__(self, value: Any) -> str:
        if value is None:
            return NONE
        if isinstance(value, Decimal):
            return self.money(value)
        if isinstance(value, tuple):
            return ", ".join(self(v) for v in value)
        if dataclasses.is_dataclass(value):  # an item inside an item, like an instalment
            shown = (getattr(value, name) for name in _compared_fields_of(value))
            return " ".join(self(v) for v in shown if v not in (None, "", ()))
        return " / ".join(str(value).strip().splitlines())

    def opt(self, before: str, value: Any) -> str:
        """`before` + the value, or nothing when the value is missing."""
        return "" if value in (None, "", ()) else before + self(value)


@dataclass(frozen=True)
class Presentation:
    """How one kind of listed fact is matched between versions and named in a change line."""

    name: str
    key: Callable[[Any], tuple[Any, ...]]  # the identity: equal keys are the same fact
    label: Callable[[Any, _Show], str]  # names an item in a `~` line
    describe: Callable[[Any, _Show], str]  # the whole item, in a `+` or `-` line


#: Each section of a case that holds items, by its field of `Case`. Items with equal keys are
#: the same fact (a changed field is a `~`); unmatched items at the same position in their
#: lists are the same fact too.
PRESENTATIONS: Mapping[str, Presentation] = {
    "invoices": Presentation(
        "invoice", lambda i: (i.number,),
        lambda i, s: f"invoice {i.number}",
        lambda i, s: f"invoice {i.number} {i.date} due {i.due} {s(i.amount)}"
                     + s.opt(" — ", i.description)),
    "payments": Presentation(
        "payment", lambda p: (p.date, p.amount, p.invoice),
        lambda p, s: f"payment {p.date} {s(p.amount)}" + s.opt(" on ", p.invoice),
        lambda p, s: f"payment {p.date} {s(p.amount)}" + s.opt(" on ", p.invoice)
                     + s.opt(" by ", p.method) + s.opt(" ref ", p.reference)),
    "credits": Presentation(
        "credit note", lambda c: (c.number,),
        lambda c, s: f"credit note {c.number}",
        lambda c, s: f"credit note {c.number} {c.date} {s(c.amount)} on {c.invoice}"),
    "disputes": Presentation(
        "dispute", lambda d: (d.opened, d.invoice),
        lambda d, s: f"dispute {d.opened}" + s.opt(" on ", d.invoice),
        lambda d, s: f"dispute {d.opened} on {d.invoice or 'the whole case'}"
                     + s.opt(", resolved ", d.resolved) + s.opt(" — ", d.reason)),
    "promises": Presentation(
        "promise", lambda p: (p.made,),
        lambda p, s: f"promise made {p.made}",
        lambda p, s: f"promise made {p.made}: by {p.by}" + s.opt(" for ", p.amount)),
    "plans": Presentation(
        "plan", lambda p: (p.agreed,),
        lambda p, s: f"plan agreed {p.agreed}",
        lambda p, s: f"plan agreed {p.agreed}: {s(p.instalments)}"
                     + s.opt("; confirmed ", p.confirmed) + s.opt("; fallback ", p.fallback)),
    "court": Presentation(
        "court", lambda c: (),
        lambda c, s: "court",
        lambda c, s: f"court: filed {c.filed}" + s.opt(" ", c.kind) + s.opt(" ", c.number)
                     + s.opt(", ", c.court)),
    "hold": Presentation(
        "hold", lambda h: (),
        lambda h, s: "hold",
        lambda h, s: f"hold until {h.until}" + s.opt(" — ", h.reason)),
    "closed": Presentation(
        "closed", lambda c: (),
        lambda c, s: "closed",
        lambda c, s: f"closed {c.date}" + s.opt(" — ", c.reason)),
    "log": Presentation(
        "log", lambda e: (e.date, e.channel, e.title),
        lambda e, s: f"log {e.date} {e.channel}" + s.opt(" — ", e.title),
        lambda e, s: f"log {e.date} {e.channel}" + s.opt(" ", e.step) + s.opt(" — ", e.title)),
}


def plain_presentation(section: str) -> Presentation:
    """For a section `PRESENTATIONS` does not know yet: matched by position, shown field by
    field (test_model_fields asks for a presentation of its own)."""
    name = section.removesuffix("s")
    return Presentation(name, lambda item: (), lambda item, s: name,
                        lambda item, s: f"{name} {s(item)}")


@dataclass(frozen=True)
class Fact:
    """One section of listed facts: where it is in a case, how it reads, what is compared."""

    section: str  # the field of `Case`
    shown: Presentation
    fields: tuple[str, ...]  # compared one by one; a difference is a `~` line
    long_text: frozenset[str]  # of `fields`: compared as a whole, never shown

    @property
    def name(self) -> str:
        return self.shown.name

    def items(self, case: Case) -> tuple[Any, ...]:
        return _as_items(getattr(case, self.section))


@dataclass(frozen=True)
class Scalar:
    """One single value: its name in a change line, where it is, its value without a file."""

    name: str
    read: Callable[[Case], Any]
    absent: Any


# -- diffing two versions -------------------------------------------------------------------


def diff_cases(old: Case | None, new: Case | None, *, currency: str = "EUR") -> list[Change]:
    """Every fact added, changed or removed from `old` to `new` (None: the file does not exist).

    Order: the debtor and other single values, then the other fields of `Case` in the model's
    order (tags, each section of `FACTS`, the free notes, the contact log); within a section,
    changes and removals in the old file's order, then additions in the new file's order.
    """
    show = _Show(currency)
    changes: list[Change] = []
    for compare in _COMPARE:
        changes += compare(old, new, show)
    return changes


def _scalar_changes(scalars: tuple[Scalar, ...], old: Case | None, new: Case | None,
                    show: _Show) -> list[Change]:
    changes: list[Change] = []
    for scalar in scalars:
        name = scalar.name
        before = scalar.absent if old is None else scalar.read(old)
        after = scalar.absent if new is None else scalar.read(new)
        if before == after:
            continue
        if before is None:
            changes.append(Change(sign="+", fact=name, text=f"{name}: {show(after)}"))
        elif after is None:
            changes.append(Change(sign="-", fact=name, text=f"{name}: {show(before)}"))
        else:
            changes.append(Change(sign="~", fact=name,
                                  text=f"{name}: {show(before)} → {show(after)}"))
    return changes


def _word_changes(section: str, old: Case | None, new: Case | None,
                  show: _Show) -> list[Change]:
    """A list of words (tags): each word added or removed."""
    name = section.removesuffix("s")
    before = () if old is None else getattr(old, section)
    after = () if new is None else getattr(new, section)
    return ([Change(sign="-", fact=name, text=f"{name} {w}") for w in before if w not in after]
            + [Change(sign="+", fact=name, text=f"{name} {w}") for w in after if w not in before])


def _text_changes(section: str, old: Case | None, new: Case | None,
                  show: _Show) -> list[Change]:
    """Free text: written, removed or edited, never shown."""
    before = "" if old is None else getattr(old, section).strip()
    after = "" if new is None else getattr(new, section).strip()
    if before == after:
        return []
    if not before:
        return [Change(sign="+", fact=section, text=section)]
    if not after:
        return [Change(sign="-", fact=section, text=section)]
    return [Change(sign="~", fact=section, text=f"{section}: edited")]


def _fact_changes(fact: Fact, old: Case | None, new: Case | None, show: _Show) -> list[Change]:
    before = () if old is None else fact.items(old)
    after = () if new is None else fact.items(new)
    pairs = match(before, after, fact.shown.key)
    changes: list[Change] = []
    for index, item in enumerate(before):
        partner = pairs.get(index)
        if partner is None:
            changes.append(Change(sign="-", fact=fact.name, text=fact.shown.describe(item, show)))
        else:
            changes += _field_changes(fact, item, after[partner], show)
    paired = set(pairs.values())
    changes += [Change(sign="+", fact=fact.name, text=fact.shown.describe(item, show))
                for index, item in enumerate(after) if index not in paired]
    return changes


def match(before: tuple[Any, ...], after: tuple[Any, ...],
          key: Callable[[Any], tuple[Any, ...]]) -> dict[int, int]:
    """Old index → new index of the same fact: equal keys first (in order, so repeated keys
    pair up one by one), then the items left over at the same position."""
    waiting: dict[tuple[Any, ...], deque[int]] = defaultdict(deque)
    for index, item in enumerate(before):
        waiting[key(item)].append(index)
    pairs: dict[int, int] = {}
    for index, item in enumerate(after):
        queue = waiting.get(key(item))
        if queue:
            pairs[queue.popleft()] = index
    taken = set(pairs.values())
    for index in range(min(len(before), len(after))):
        if index not in pairs and index not in taken:
            pairs[index] = index
    return pairs


def _field_changes(fact: Fact, old: Any, new: Any, show: _Show) -> list[Change]:
    label = fact.shown.label(old, show)
    changes: list[Change] = []
    for name in fact.fields:
        before, after = getattr(old, name), getattr(new, name)
        if _comparable(before) == _comparable(after):
            continue
        text = (f"{label}: {name} edited" if name in fact.long_text
                else f"{label}: {name} {show(before)} → {show(after)}")
        changes.append(Change(sign="~", fact=fact.name, text=text))
    return changes


def _comparable(value: Any) -> Any:
    """The value without source positions (which move whenever lines above are edited)."""
    if isinstance(value, tuple):
        return tuple(_comparable(v) for v in value)
    if dataclasses.is_dataclass(value):
        return tuple(_comparable(getattr(value, n)) for n in _compared_fields_of(value))
    if isinstance(value, str):
        return value.strip()
    return value


# -- what is compared, from the model ---------------------------------------------------------

Compare = Callable[[Case | None, Case | None, _Show], list[Change]]


def _fact(section: str, cls: type) -> Fact:
    fields = compared_fields(cls)
    long_text = frozenset(n for n in fields if f"{cls.__name__}.{n}" in LONG_TEXT)
    shown = PRESENTATIONS.get(section) or plain_presentation(section)
    return Fact(section, shown, fields, long_text)


def _scalars(name: str, hint: Any) -> list[Scalar]:
    """A single value of the case, or each field of a single item (`debtor.pec`)."""
    cls = held_class(hint)
    if cls is None:
        return [Scalar(name, attrgetter(name), _default(Case, name))]
    return [Scalar(f"{name}.{inner}", attrgetter(f"{name}.{inner}"), _default(cls, inner))
            for inner in compared_fields(cls)]


def _default(cls: type, name: str) -> Any:
    """A field's value when the file does not exist: its default, else nothing."""
    found = next(f for f in dataclasses.fields(cls) if f.name == name)
    if found.default is not dataclasses.MISSING:
        return found.default
    if found.default_factory is not dataclasses.MISSING:
        return found.default_factory()
    return None


def _comparers() -> tuple[tuple[Scalar, ...], tuple[Fact, ...], tuple[Compare, ...]]:
    """The single values, the sections of items, and every comparison in the order of a diff:
    the single values first, then the other fields of `Case` in the model's order."""
    hints = typing.get_type_hints(Case)
    scalars: list[Scalar] = []
    facts: list[Fact] = []
    rest: list[Compare] = []
    for name in compared_fields(Case):
        hint, cls = hints[name], held_class(hints[name])
        if f"Case.{name}" in LONG_TEXT:
            rest.append(partial(_text_changes, name))
        elif typing.get_origin(hint) is tuple and cls is None:
            rest.append(partial(_word_changes, name))
        elif cls is not None and cls is not hint:  # items: a tuple of them, or an optional one
            facts.append(_fact(name, cls))
            rest.append(partial(_fact_changes, facts[-1]))
        else:
            scalars += _scalars(name, hint)
    compare_scalars: Compare = partial(_scalar_changes, tuple(scalars))
    return tuple(scalars), tuple(facts), (compare_scalars, *rest)


SCALARS, FACTS, _COMPARE = _comparers()
