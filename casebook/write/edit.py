"""Writing facts into a case file's text: new log entries, payments, promises and disputes.

Owns the edits behind `log`, `pay`, `promise` and `dispute`: each takes the file's text and
returns it with the new text inserted and every other character as it was (comments, key order,
quoting, flow or block style, the newline style, a missing final newline). YAML is never dumped:
the place to insert is found from `yaml.compose` marks and the new item is written in the style
of its neighbours. `verify` then reads the result back and accepts it only when it holds exactly
the old facts plus the new one. Everything here is text in, text out; it never touches a file,
the clock or the environment, and refuses with `Refused` and a message saying why.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from casebook.diagnostics import Diagnostic, Severity, did_you_mean
from casebook.engine.interest import interest_context, interest_for_case
from casebook.model import CHANNELS, Case, Config, Dispute, LogEntry, Payment, Policy, Promise
from casebook.read.casefile import Parsed, split_front_matter
from casebook.read.contactlog import resolve_channel
from casebook.read.yamlread import (
    SEPARATORS_HINT,
    YamlSyntaxError,
    compose,
    is_null,
    separated_amount,
)

BOM = "\ufeff"
_AMOUNT = re.compile(r"[+-]?\d+(?:\.\d{1,2})?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Characters YAML counts as line breaks where a split on "\n" would not: marks would drift.
_ODD_BREAKS = re.compile(r"\r(?!\n)|[\x85\u2028\u2029]")
_PLAIN_EXTRA = frozenset(" .'/()_+-")
_NOT_PLAIN = frozenset({"true", "false", "", "~", "null", "Null", "NULL"})


class Refused(Exception):
    """The edit cannot be made; the message says why. The file must be left untouched."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- the user's words, checked ------------------------------------------------------------


def parse_day(text: str | None, today: date, what: str = "the date") -> date:
    """A YYYY-MM-DD date, not after `today`; None means today."""
    if text is None:
        return today
    day = parse_any_day(text, what)
    if day > today:
        raise Refused(f"{what} {day} is after today ({today}): record facts once they have "
                      "happened")
    return day


def parse_any_day(text: str, what: str = "the date") -> date:
    value = text.strip()
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        raise Refused(f"{what} {value!r} is not a real date") from None
    raise Refused(f"{what} {value!r} is not a date in the form YYYY-MM-DD")


def parse_amount(text: str) -> Decimal:
    """A positive amount with at most two decimals, exactly."""
    value = text.strip()
    meant = separated_amount(value)
    if meant is not None:
        raise Refused(f"{text!r} is not an amount: {SEPARATORS_HINT}: {meant}")
    if not _AMOUNT.fullmatch(value):
        raise Refused(f"{text!r} is not an amount: write it like 1220.00 (digits, a dot for "
                      "decimals, at most two decimals, no thousands separator)")
    amount = Decimal(value)
    if amount <= 0:
        raise Refused(f"the amount must be more than zero, found {value}")
    return amount


def refuse_overpayment(case: Case, payment: Payment, config: Config) -> None:
    """Refuse a payment larger than all the case owes on its day (a slip: 5000 for 500):
    every residual capital, the interest accrued and unpaid, and the compensation, less what
    earlier payments left unapplied."""
    owed = interest_for_case(case, interest_context(config.interest, payment.date))
    capital = sum((i.capital for i in owed.invoices), Decimal(0))
    limit = max(capital + owed.interest + owed.compensation - owed.unapplied, Decimal(0))
    if payment.amount > limit:
        raise Refused(f"a payment of {payment.amount:.2f} is more than the case owes on "
                      f"{payment.date}: {limit:.2f} (capital {capital:.2f}, interest "
                      f"{owed.interest:.2f}, compensation {owed.compensation:.2f}"
                      + (f", less {owed.unapplied:.2f} paid beyond them" if owed.unapplied
                         else "")
                      + "); check the amount, or record it anyway with --overpayment")


def channel_id(word: str) -> str:
    channel = resolve_channel(word)
    if channel is None:
        raise Refused(f"unknown channel {word!r}{did_you_mean(word, CHANNELS)}; "
                      f"use one of {', '.join(CHANNELS)}")
    return channel


def step_id(word: str, policy: Policy) -> str:
    step = policy.resolve(word.rstrip(":"))
    if step is None:
        raise Refused(f"unknown step {word!r}{did_you_mean(word, policy.words())}; the steps "
                      f"of this case's policy: {', '.join(s.id for s in policy.steps)}")
    return step


def invoice_of(case: Case, number: str) -> str:
    """`number` when it is an invoice of the case."""
    numbers = [i.number for i in case.invoices]
    if number not in numbers:
        known = ", ".join(numbers) or "it has none"
        raise Refused(f"{number!r} is not an invoice of this case"
                      f"{did_you_mean(number, numbers)}; its invoices: {known}")
    return number


def one_line(text: str | None, what: str) -> str | None:
    """Free text for one line (a method, a reason, a title); None when absent or blank."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if any(_is_break_or_control(char) for char in value):
        raise Refused(f"{what} must be one line of text without control characters")
    return value


def clean_note(text: str) -> str:
    """The note as it will read back: line ends normalised, blank lines around it removed."""
    value = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in value.split("\n")]
    value = "\n".join(lines).strip("\n")
    if any(_is_break_or_control(char) for char in value if char not in "\n\t"):
        raise Refused("the message contains control characters")
    return value


def strip_comments(text: str) -> str:
    """An editor's message without its `#` lines, as `git commit` does."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


def _is_break_or_control(char: str) -> bool:
    return char == BOM or unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")


# -- the log: an entry appended at the end of the body --------------------------------------


def heading(entry: LogEntry) -> str:
    words = ["##", entry.date.isoformat(), entry.channel]
    if entry.step:
        words.append(entry.step)
    if entry.title:
        words += ["—", entry.title]
    return " ".join(words)


def insert_log(text: str, entry: LogEntry) -> str:
    """The text with `entry` appended after everything else, one blank line before it."""
    body, bom = _without_bom(text)
    split = split_front_matter(body)
    if isinstance(split, str):
        raise Refused(split)
    nl = newline_of(body)
    block = nl.join([heading(entry), *entry.note.split("\n")] if entry.note else [heading(entry)])
    ends = body.endswith("\n")
    lines = body.split("\n")
    last = lines[-2] if ends else lines[-1]
    before = ("" if ends else nl) + ("" if not last.strip() else nl)
    return bom + body + before + block + (nl if ends else "")


def newline_of(text: str) -> str:
    """The file's newline: that of its first line."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


# -- the front matter: an item added to a list ----------------------------------------------


def insert_payment(text: str, payment: Payment) -> str:
    return insert_item(text, "payments", [
        ("date", payment.date.isoformat()), ("amount", f"{payment.amount:.2f}"),
        ("invoice", _quoted(payment.invoice)), ("method", _scalar(payment.method)),
        ("reference", _scalar(payment.reference)),
    ])


def insert_promise(text: str, promise: Promise) -> str:
    amount = None if promise.amount is None else f"{promise.amount:.2f}"
    return insert_item(text, "promises", [
        ("made", promise.made.isoformat()), ("by", promise.by.isoformat()), ("amount", amount),
    ])


def insert_dispute(text: str, dispute: Dispute) -> str:
    return insert_item(text, "disputes", [
        ("invoice", _quoted(dispute.invoice)), ("opened", dispute.opened.isoformat()),
        ("reason", _scalar(dispute.reason)),
    ])


Fields = list[tuple[str, str]]


def insert_item(text: str, key: str, fields: Iterable[tuple[str, str | None]]) -> str:
    """The text with a new item of the list `key`; absent fields (None) are left out."""
    body, bom = _without_bom(text)
    front = _front_matter(body)
    item = [(name, value) for name, value in fields if value is not None]
    found = [(k, v) for k, v in front.root.value if isinstance(k, ScalarNode) and k.value == key]
    if len(found) > 1:
        raise Refused(f"the front matter has '{key}:' twice; fix that first")
    if not found:
        return bom + _add_section(front, key, item)
    key_node, value = found[0]
    if is_null(value) or (isinstance(value, SequenceNode) and not value.value):
        return bom + _fill_empty(front, key_node, value, item)
    if not isinstance(value, SequenceNode):
        raise Refused(f"'{key}:' must be a list; fix it first (casebook validate says how)")
    if value.flow_style:
        return bom + _append_flow(front, value, item)
    return bom + _append_block(front, value, item)


@dataclass(frozen=True)
class _Front:
    """The front matter of a text, with what is needed to turn marks into offsets."""

    text: str
    root: MappingNode
    starts: list[int]  # offset in `text` of each line of the YAML
    nl: str

    def offset(self, line: int, column: int) -> int:
        return self.starts[line] + column

    def line_end(self, line: int) -> int:
        """The offset just past the line's newline (the start of the next line)."""
        return self.starts[line + 1]

    def prefix(self, line: int, column: int) -> str:
        return self.text[self.starts[line]:self.offset(line, column)]

    @property
    def end(self) -> int:
        """Where the closing `---` line starts."""
        return self.starts[-1]


def _front_matter(text: str) -> _Front:
    split = split_front_matter(text)
    if isinstance(split, str):
        raise Refused(split)
    yaml_text = split[0]
    if _ODD_BREAKS.search(yaml_text):
        raise Refused("the front matter has line breaks other than LF or CRLF; "
                      "save the file with ordinary line ends first")
    try:
        root = compose(yaml_text)
    except YamlSyntaxError as exc:
        raise Refused(f"the front matter cannot be read ({exc.message}); fix it first") from None
    if not isinstance(root, MappingNode) or root.flow_style:
        raise Refused("the front matter must be a block mapping of keys (one per line) "
                      "for casebook to add to it")
    start = text.index("\n") + 1
    starts = [start]
    for index, char in enumerate(yaml_text):
        if char == "\n":
            starts.append(start + index + 1)
    return _Front(text, root, starts, newline_of(text))


def _add_section(front: _Front, key: str, item: Fields) -> str:
    """A new `key:` list at the end of the front matter."""
    column: int = front.root.value[0][0].start_mark.column
    yaml_lines = front.text[front.starts[0]:front.end].split("\n")[:-1]
    blank = [not line.strip() for line in yaml_lines]
    gap = front.nl if any(blank) and not blank[-1] else ""
    block = " " * column + f"{key}:" + front.nl + _new_list(front, column, item)
    return front.text[:front.end] + gap + block + front.text[front.end:]


def _fill_empty(front: _Front, key_node: Node, value: Node, item: Fields) -> str:
    """`key:`, `key: ~` or `key: []` becomes `key:` with a block list under it."""
    text = front.text
    column = key_node.start_mark.column
    start = front.offset(value.start_mark.line, value.start_mark.column)
    end = front.offset(value.end_mark.line, value.end_mark.column)
    last_line = value.end_mark.line if end > start else key_node.end_mark.line
    at = front.line_end(last_line)
    if end > start and not text[end:at].strip():
        while start > 0 and text[start - 1] in " \t":  # no trailing blanks after `key:`
            start -= 1
    return text[:start] + text[end:at] + _new_list(front, column, item) + text[at:]


def _new_list(front: _Front, key_column: int, item: Fields) -> str:
    """A one-item block list under a key, indented and styled like the file's other lists."""
    indent, gap, flow = 2, 1, False
    for key_node, value in front.root.value:
        if isinstance(value, SequenceNode) and not value.flow_style and value.value:
            dash, gap = _dash(front, value, value.value[0])
            indent = dash - key_node.start_mark.column
            flow = isinstance(value.value[0], MappingNode) and bool(value.value[0].flow_style)
            break
    return _block_item(front.nl, key_column + max(indent, 0), gap, item, flow)


def _append_block(front: _Front, sequence: SequenceNode, item: Fields) -> str:
    """A new item after the last one of a block list, at the same indentation and style."""
    last = sequence.value[-1]
    dash, gap = _dash(front, sequence, last)
    flow = isinstance(last, MappingNode) and bool(last.flow_style)
    at = front.line_end(_last_content_line(front, last))
    return front.text[:at] + _block_item(front.nl, dash, gap, item, flow) + front.text[at:]


def _append_flow(front: _Front, sequence: SequenceNode, item: Fields) -> str:
    """`, {…}` after the last item of a `[...]` list (on a new line if items have their own)."""
    items = sequence.value
    last = items[-1]
    before = items[-2] if len(items) > 1 else sequence
    at = front.offset(last.end_mark.line, last.end_mark.column)
    new = _flow_mapping(item)
    if last.start_mark.line > before.start_mark.line:
        indent = front.prefix(last.start_mark.line, last.start_mark.column)
        if indent.strip():
            indent = " " * last.start_mark.column
        new = front.nl + indent + new
    else:
        new = " " + new
    return front.text[:at] + "," + new + front.text[at:]


def _dash(front: _Front, sequence: SequenceNode, item: Node) -> tuple[int, int]:
    """The column of an item's `-` and the spaces after it."""
    match = re.fullmatch(r"(\s*)-(\s+)", front.prefix(item.start_mark.line, item.start_mark.column))
    if match is None:
        return sequence.start_mark.column, 1
    return len(match.group(1)), len(match.group(2))


def _last_content_line(front: _Front, node: Node) -> int:
    """The YAML line of the last character that belongs to `node` (marks of block nodes
    reach on to the next token, past blank lines and comments)."""
    while isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    end = front.offset(node.end_mark.line, node.end_mark.column)
    while end > front.starts[0] and front.text[end - 1] in " \t\r\n":
        end -= 1
    line = node.start_mark.line
    while line + 1 < len(front.starts) and front.starts[line + 1] < end:
        line += 1
    return line


def _block_item(nl: str, dash: int, gap: int, item: Fields, flow: bool) -> str:
    first = " " * dash + "-" + " " * gap
    if flow:
        return first + _flow_mapping(item) + nl
    rest = " " * (dash + 1 + gap)
    lines = [(first if index == 0 else rest) + f"{name}: {value}"
             for index, (name, value) in enumerate(item)]
    return nl.join(lines) + nl


def _flow_mapping(item: Fields) -> str:
    return "{" + ", ".join(f"{name}: {value}" for name, value in item) + "}"


def _quoted(value: str | None) -> str | None:
    return None if value is None else str(json.dumps(value, ensure_ascii=False))


def _scalar(value: str | None) -> str | None:
    """Plain when that reads back as the same text in block and flow context, else quoted."""
    if value is None:
        return None
    plain = (value[:1].isalpha() and value not in _NOT_PLAIN and value == value.strip()
             and all(char.isalnum() or char in _PLAIN_EXTRA for char in value))
    return value if plain else _quoted(value)


def _without_bom(text: str) -> tuple[str, str]:
    return (text[1:], BOM) if text.startswith(BOM) else (text, "")


# -- reading the result back ----------------------------------------------------------------


def verify(before: Parsed, after: Parsed, section: str, item: object) -> list[Diagnostic]:
    """Accept the edited file only when it reads as the old case plus `item` appended to
    `section`, with no new error; the new warnings are returned to be shown."""
    old, new = before.case, after.case
    assert old is not None
    added = _new_diagnostics(before.diagnostics, after.diagnostics)
    errors = [d for d in added if d.severity is Severity.ERROR]
    if new is None or errors:
        raise Refused("the file would not validate after the change:\n"
                      + "\n".join(d.format() for d in errors or after.diagnostics))
    grown: dict[str, Any] = {section: (*getattr(old, section), item)}
    expected = dataclasses.replace(old, **grown)
    if _facts(new) != _facts(expected):
        raise Refused(_mismatch(section))
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
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple((f.name, _facts(getattr(value, f.name)))
                     for f in dataclasses.fields(value) if f.name != "pos")
    if isinstance(value, tuple):
        return tuple(_facts(v) for v in value)
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "")
    return value

