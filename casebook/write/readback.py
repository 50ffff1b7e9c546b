"""Reading an edited case file back: the edit is kept only when it did what it meant to.

Owns `verify`, which accepts the new text of a case file only when it reads as exactly the old
facts plus the one new item, with no new error. It compares every field of the model except
positions, so an edit can never change what it did not mean to. It never touches a file.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from typing import Any

from casebook.diagnostics import Diagnostic, Severity
from casebook.model import Case
from casebook.read.casefile import Parsed
from casebook.write.values import Refused


def verify(before: Parsed, after: Parsed, section: str, item: object) -> list[Diagnostic]:
    """Accept the edited file only when it reads as the old case plus `item` appended to
    `section`, with no new error; the new warnings are returned to be shown."""
    old = before.case
    assert old is not None
    grown: dict[str, Any] = {section: (*getattr(old, section), item)}
    return verify_case(before, after, dataclasses.replace(old, **grown), _mismatch(section))


def verify_case(before: Parsed, after: Parsed, expected: Case, mismatch: str) -> list[Diagnostic]:
    """Accept the edited file only when it reads as `expected`, with no new error; the new
    warnings are returned. `mismatch` is the refusal when the facts differ."""
    added = _new_diagnostics(before.diagnostics, after.diagnostics)
    errors = [d for d in added if d.severity is Severity.ERROR]
    if after.case is None or errors:
        raise Refused("the file would not validate after the change:\n"
                      + "\n".join(d.format() for d in errors or after.diagnostics))
    if _facts(after.case) != _facts(expected):
        raise Refused(mismatch)
    return added


def _new_diagnostics(before: Iterable[Diagnostic],
                     after: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics of `after` beyond those of `before` (lines move, so compare by message)."""
    seen = Counter((d.severity, d.code, d.message) for d in before)
    added = []
    for diagnostic in after:
        key = (diagnostic.severity, diagnostic.code, diagnostic.message)
        if seen[key]:
            seen[key] -= 1
        else:
            added.append(diagnostic)
    return added


def _mismatch(section: str) -> str:
    if section == "log":
        return ("the new entry would not read back as written: the message or title holds "
                "something the log reads as structure (a '## ' heading, a line of '---' or "
                "'===' under text, a trailing '#'), or the file ends inside a code block; "
                "rephrase it, or add the entry by hand")
    return (f"the new item would not read back as written in '{section}' (an unusual layout "
            "of the front matter); add it by hand")


def _facts(value: Any) -> Any:
    """A comparable form of a case: no positions, newlines normalised."""
    kind = type(value)
    if kind is str:
        return value.replace("\r\n", "\n").replace("\r", "") if "\r" in value else value
    if kind is tuple:
        return tuple(_facts(v) for v in value)
    names = _FACT_FIELDS.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(value) or isinstance(value, type):
            return value
        names = _FACT_FIELDS[kind] = tuple(
            f.name for f in dataclasses.fields(value) if f.name != "pos")
    return tuple(_facts(getattr(value, name)) for name in names)


#: The fields of each model class that `_facts` compares (all but positions), by class.
_FACT_FIELDS: dict[type, tuple[str, ...]] = {}
